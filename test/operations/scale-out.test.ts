import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../src/config.js';
import { verifyAuditTrail } from '../../src/audit/audit-verification.js';
import { MongoDatabase } from '../../src/repositories/mongo-database.js';
import { storeOn, type Store } from '../../src/repositories/store.js';
import { freePort, startNode, type NodeProcess } from '../support/node-process.js';
import { documentFor, hospitalToken, privacyConsent, type Json } from '../support/test-node.js';

/**
 * Three instances of one node behind a (simulated, round-robin) load balancer on one MongoDB-wire
 * database, under mixed load: pushes, racing If-Match updates of one Bundle and one Consent,
 * reads, searches. The invariants of one instance hold (docs/operations.md): no lost update,
 * one audit record per audited request, every audit chain verifies (one per instance).
 */

const INSTANCES = 3;
const ROUNDS = 4;
const BASE = 'http://pontis.test/fhir';
const AUDITED = /^\/fhir\/(Bundle|Patient|Consent)/;

interface Answer {
  status: number;
  body: Json;
  requestId: string;
}

const nodes: NodeProcess[] = [];
let urls: string[] = [];
let uri: string;
let database: string;
const sent: { requestId: string; path: string; status: number }[] = [];

beforeAll(async () => {
  uri = process.env['PONTIS_TEST_MONGODB_URI']!;
  if (!uri) throw new Error(process.env['PONTIS_TEST_MONGODB_MISSING'] ?? 'no MongoDB test server');
  database = `pontis_scale_${randomUUID().slice(0, 8)}`;
  const ports = await Promise.all(Array.from({ length: INSTANCES }, () => freePort()));
  const env = { MONGODB_URI: uri, MONGODB_DATABASE: database, PONTIS_BASE_URL: BASE, PONTIS_SEED: '0', HOST: '127.0.0.1', PONTIS_COUNTRY: 'AT', PONTIS_LIMIT_PER_PATIENT: '0', PONTIS_LIMIT_PER_REQUESTER: '0' };
  // One at a time: each creates the indexes at start-up.
  for (const port of ports) nodes.push(await startNode({ ...env, PORT: String(port) }));
  urls = ports.map((p) => `http://127.0.0.1:${p}`);
}, 120_000);

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  const db = await MongoDatabase.connect(uri, database);
  await db.drop();
  await db.close();
});

let turn = 0;
/** Sends to the next instance in turn (or to `instance`), with a fresh token and its own request id. */
async function send(method: string, path: string, body?: Json, headers: Record<string, string> = {}, instance?: number): Promise<Answer> {
  const requestId = `scale-${randomUUID()}`;
  const url = urls[instance ?? turn++ % INSTANCES]!;
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { 'content-type': 'application/fhir+json', authorization: `Bearer ${await hospitalToken(BASE)}`, 'x-request-id': requestId, ...headers },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  sent.push({ requestId, path, status: response.status });
  return { status: response.status, body: JSON.parse(text || '{}') as Json, requestId };
}

describe(`${INSTANCES} instances on one database under mixed load`, () => {
  it('lose no update, write one audit record per audited request, and leave audit chains that verify', async () => {
    // A Bundle and a Consent that every instance will race to update.
    const national = `SC-${randomUUID().slice(0, 8)}`;
    const pushed = await send('POST', '/fhir/Bundle', documentFor(national, '2024-01-01T10:00:00Z'), { prefer: 'return=representation' });
    expect(pushed.status).toBe(201);
    let bundle = pushed.body;
    const patientId = (await send('GET', `/fhir/Patient?identifier=${encodeURIComponent(`urn:test:national|${national}`)}`)).body['entry'][0].resource.id as string;
    const created = await send('POST', '/fhir/Consent', privacyConsent(patientId, { type: 'permit' }), { prefer: 'return=representation' });
    expect(created.status).toBe(201);
    let consent = created.body;
    const others: string[] = [];
    const bundleWinners: string[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const bundleAttempts = Array.from({ length: INSTANCES * 2 }, (_, w) => {
        const body = structuredClone(bundle);
        body['entry'][0].resource.title = `round ${round} writer ${w}`;
        return body;
      });
      const consentAttempts = Array.from({ length: INSTANCES * 2 }, (_, w) => ({ ...consent, dateTime: `2026-01-01T${String(round).padStart(2, '0')}:${String(w).padStart(2, '0')}:00Z` }));
      const fresh = `SC-${randomUUID().slice(0, 8)}`;
      const answers = await Promise.all([
        ...bundleAttempts.map((b, w) => send('PUT', `/fhir/Bundle/${bundle['id']}`, b, { 'if-match': `W/"${round}"` }, w % INSTANCES)),
        ...consentAttempts.map((c, w) => send('PUT', `/fhir/Consent/${consent['id']}`, c, { 'if-match': `W/"${round}"` }, w % INSTANCES)),
        send('POST', '/fhir/Bundle', documentFor(fresh, '2024-02-01T10:00:00Z')),
        send('GET', `/fhir/Patient/${patientId}`),
        send('GET', `/fhir/Patient?family=${encodeURIComponent('Kr')}`),
        send('GET', `/fhir/Patient/${patientId}/$summary`),
        send('GET', `/fhir/Consent?patient=${patientId}`),
        send('GET', '/health/ready'),
      ]);
      const bundleAnswers = answers.slice(0, bundleAttempts.length);
      const consentAnswers = answers.slice(bundleAttempts.length, bundleAttempts.length + consentAttempts.length);
      for (const group of [bundleAnswers, consentAnswers]) {
        expect(group.filter((a) => a.status === 200)).toHaveLength(1);
        expect(group.filter((a) => a.status !== 200).map((a) => a.status)).toEqual(Array(group.length - 1).fill(412));
      }
      for (const a of answers.slice(-6)) expect(a.status).toBeLessThan(500);
      expect(answers[bundleAttempts.length + consentAttempts.length]!.status).toBe(201);
      others.push(fresh);
      bundleWinners.push(bundleAttempts[bundleAnswers.findIndex((a) => a.status === 200)]!['entry'][0].resource.title);
      // Versions are immutable and read by id: any instance answers the newest at once.
      bundle = (await send('GET', `/fhir/Bundle/${bundle['id']}`)).body;
      consent = (await send('GET', `/fhir/Consent/${consent['id']}`)).body;
      expect([bundle['meta'].versionId, consent['meta'].versionId]).toEqual([String(round + 1), String(round + 1)]);
    }
    // No lost update: the history holds every winner, gapless, on every instance.
    for (let i = 0; i < INSTANCES; i++) {
      const history = await send('GET', `/fhir/Bundle/${bundle['id']}/_history`, undefined, {}, i);
      const titles = (history.body['entry'] as Json[]).map((e) => e['resource'].entry[0].resource.title as string);
      expect(titles.slice(0, ROUNDS)).toEqual([...bundleWinners].reverse());
      expect((history.body['entry'] as Json[]).map((e) => e['resource'].meta.versionId)).toEqual(Array.from({ length: ROUNDS + 1 }, (_, k) => String(ROUNDS + 1 - k)));
    }
    for (const national of others) {
      const found = await send('GET', `/fhir/Patient?identifier=${encodeURIComponent(`urn:test:national|${national}`)}`);
      expect(found.body['total']).toBe(1);
    }

    // Stop every instance (each flushes its audit trail), then read the database itself.
    await Promise.all(nodes.map((n) => n.stop()));
    const store: Store = await storeOn(await MongoDatabase.connect(uri, database), loadConfig({}));
    try {
      const verification = await verifyAuditTrail(store.audit);
      expect(verification.broken).toBeUndefined();
      const heads = await store.audit.heads();
      expect(heads.length).toBeGreaterThanOrEqual(INSTANCES);
      const perRequest = new Map<string, number>();
      for (const head of heads) {
        for (let after = 0; ; ) {
          const page = await store.audit.chainPage(head._id, after, 500);
          if (page.length === 0) break;
          for (const record of page) {
            const event = JSON.parse(record.json) as Json;
            const id = (event['entity'] as Json[]).find((e) => e['type']?.code === 'XrequestId')?.['what'].identifier.value as string;
            perRequest.set(id, (perRequest.get(id) ?? 0) + 1);
          }
          after = page[page.length - 1]!.seq;
        }
      }
      const audited = sent.filter((s) => AUDITED.test(s.path));
      expect(audited.length).toBeGreaterThan(ROUNDS * INSTANCES * 4);
      for (const s of audited) expect([s.path, s.status, perRequest.get(s.requestId)]).toEqual([s.path, s.status, 1]);
      const notAudited = sent.filter((s) => !AUDITED.test(s.path));
      for (const s of notAudited) expect(perRequest.has(s.requestId)).toBe(false);
      expect(perRequest.size).toBe(audited.length);
    } finally {
      await store.close();
    }
  }, 180_000);
});
