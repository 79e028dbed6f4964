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

  it("answers 429 once one requester asks for a patient too often, counted across instances; other requesters are not locked out", async () => {
    const statuses: number[] = [];
    // The requester limit (4) would stop one reader first: a requester's budget per patient is
    // tested below on a node whose requester limit is above it. Here: several readers, one read each.
    for (let i = 0; i < 4; i++) {
      statuses.push((await node.server.inject({ url: `/fhir/Bundle/${bundleId}`, headers: await asSubject(`reader-${i}`) })).statusCode);
    }
    // Each reader has its own budget for the patient: none is refused for the others' reads.
    expect(statuses).toEqual([200, 200, 200, 200]);
    const wide = await buildTestNode(backend, { PONTIS_LIMIT_PER_REQUESTER: '100', PONTIS_LIMIT_PER_PATIENT: '3', PONTIS_LIMIT_WINDOW_S: '3600' });
    try {
      const twin = withDefaultToken(
        await createServer({ config: wide.config, store: wide.store, logger: pino({ level: 'silent' }), validator: sharedValidator(), trust: await demoTrust() }),
        wide.config.baseUrl,
      );
      await twin.initialize();
      const pushed = await send(wide.server, 'POST', '/fhir/Bundle', documentFor('AB2', '2024-01-01T10:00:00Z'));
      const id = bodyOf<Json>(pushed)['id'] as string;
      const own: number[] = [];
      for (let i = 0; i < 5; i++) {
        const server = i % 2 === 0 ? wide.server : twin;
        const headers = { authorization: `Bearer ${await mintDemoToken({ audience: wide.config.baseUrl, scope: 'system/Bundle.r', subject: 'eager-reader' })}` };
        own.push((await server.inject({ url: `/fhir/Bundle/${id}`, headers })).statusCode);
      }
      expect(own).toEqual([200, 200, 200, 429, 429]);
      const other = await wide.server.inject({ url: `/fhir/Bundle/${id}`, headers: { authorization: `Bearer ${await mintDemoToken({ audience: wide.config.baseUrl, scope: 'system/Bundle.r', subject: 'calm-reader' })}` } });
      expect(other.statusCode).toBe(200);
      const last = await twin.inject({ url: `/fhir/Bundle/${id}`, headers: { authorization: `Bearer ${await mintDemoToken({ audience: wide.config.baseUrl, scope: 'system/Bundle.r', subject: 'eager-reader' })}` } });
      expect(bodyOf<Json>(last)['issue'][0].diagnostics).toMatch(/too many requests for this patient/);
      const patient = (await wide.store.summaries.findById(id))!.patientId;
      const events = (await wide.store.audit.forPatient(patient, 50)).map((r) => JSON.parse(r.json) as Json);
      const throttled = events.filter((e) => String(e['outcomeDesc']).startsWith('HTTP 429: too many requests for this patient'));
      expect(throttled).toHaveLength(3);
      expect(throttled.every((e) => (e['meta'].tag as Json[]).some((t) => t['code'] === 'throttled'))).toBe(true);
      await twin.stop();
    } finally {
      await wide.cleanup();
    }
  });
});
