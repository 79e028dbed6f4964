import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Server } from '@hapi/hapi';
import pino from 'pino';
import { mintDemoToken } from '../../src/auth/demo-tokens.js';
import { createServer } from '../../src/server.js';
import { backends } from '../support/stores.js';
import { bodyOf, buildTestNode, demoTrust, documentFor, send, sharedValidator, withDefaultToken, type Json, type TestNode } from '../support/test-node.js';

describe.each(backends)('abuse detection on the $name', (backend) => {
  let node: TestNode;
  let second: Server;
  let bundleId: string;
  let patientId: string;

  beforeAll(async () => {
    node = await buildTestNode(backend, { PONTIS_LIMIT_PER_REQUESTER: '4', PONTIS_LIMIT_PER_PATIENT: '6', PONTIS_LIMIT_WINDOW_S: '3600' });
    // A second instance on the same database, as behind a load balancer.
    second = withDefaultToken(
      await createServer({ config: node.config, store: node.store, logger: pino({ level: 'silent' }), validator: sharedValidator(), trust: await demoTrust() }),
      node.config.baseUrl,
    );
    await second.initialize();
    const pushed = await send(node.server, 'POST', '/fhir/Bundle', documentFor('AB1', '2024-01-01T10:00:00Z'), {
      authorization: `Bearer ${await mintDemoToken({ audience: node.config.baseUrl, scope: 'system/Bundle.c', subject: 'pusher' })}`,
    });
    bundleId = bodyOf<Json>(pushed)['id'];
    patientId = (await node.store.summaries.findById(bundleId))!.patientId;
  });
  afterAll(async () => {
    await second.stop();
    await node.cleanup();
  });

  const asSubject = async (subject: string) => ({
    authorization: `Bearer ${await mintDemoToken({ audience: node.config.baseUrl, scope: 'system/Bundle.r', subject })}`,
  });

  it('answers 429 with Retry-After once a requester goes over its budget, counted across instances, and audits it', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const server = i % 2 === 0 ? node.server : second;
      statuses.push((await server.inject({ url: `/fhir/Bundle/${bundleId}`, headers: await asSubject('busy-system') })).statusCode);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
    const refused = await node.server.inject({ url: `/fhir/Bundle/${bundleId}`, headers: await asSubject('busy-system') });
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(bodyOf<Json>(refused)['issue'][0]).toMatchObject({ code: 'throttled', diagnostics: expect.stringMatching(/too many requests from this requester/) });
    // Refused before any patient was reached: recorded all the same.
    const records = await node.store.database.collection<{ _id: string; json: string }>('audit_events').find({});
    expect(records.filter((r) => r.json.includes('HTTP 429: too many requests from this requester'))).toHaveLength(2);
  });

  it('answers 429 once a patient is asked for too often, whoever asks', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await node.server.inject({ url: `/fhir/Bundle/${bundleId}`, headers: await asSubject(`reader-${i}`) })).statusCode);
    }
    // The push and the 4 admitted reads of the first test already count against this patient (limit 6).
    expect(statuses).toEqual([200, 429, 429, 429]);
    const last = await node.server.inject({ url: `/fhir/Bundle/${bundleId}`, headers: await asSubject('reader-last') });
    expect(last.statusCode).toBe(429);
    expect(bodyOf<Json>(last)['issue'][0].diagnostics).toMatch(/too many requests for this patient/);
    const events = (await node.store.audit.forPatient(patientId, 50)).map((r) => JSON.parse(r.json) as Json);
    expect(events[0]!['outcomeDesc']).toMatch(/^HTTP 429: too many requests for this patient/);
  });
});
