import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { gunzipSync, gzipSync, inflateSync } from 'node:zlib';
import { mintDemoToken } from '../../src/auth/demo-tokens.js';
import { storeOn } from '../../src/repositories/store.js';
import { counting, type CountingDatabase } from '../support/counting-database.js';
import { backends } from '../support/stores.js';
import { bodyOf, buildTestNode, documentFor, privacyConsent, send, type Json, type TestNode } from '../support/test-node.js';

/**
 * What a push and a read cost the database: operation by operation (each one command on a
 * MongoDB-wire server) and in round trips (sequential waits: commands sent together share one).
 * The write path makes no look-up it can learn from a unique insert, and request budgets are
 * counted in memory.
 */
describe.each(backends)('database operations per request on the $name', (backend) => {
  let node: TestNode;
  let database: CountingDatabase;
  let patientId: string;

  beforeAll(async () => {
    const counted = counting(backend);
    node = await buildTestNode(counted, { PONTIS_CURRENT_SUMMARY_TTL_MS: '60000' });
    database = counted.last!;
    expect((await send(node.server, 'POST', '/fhir/Bundle', documentFor('RT-0', '2026-01-01T00:00:00Z'))).statusCode).toBe(201);
    patientId = bodyOf<Json>(await node.server.inject('/fhir/Patient?identifier=urn:test:national|RT-0'))['entry'][0].resource.id as string;
    expect((await send(node.server, 'POST', '/fhir/Consent', privacyConsent(patientId, { type: 'permit' }))).statusCode).toBe(201);
  });
  afterAll(async () => {
    await node.cleanup();
  });

  /** Operations of one request, budgets' background reports left out (they run on their own). */
  async function operationsOf(request: () => Promise<{ statusCode: number }>, status: number): Promise<string[]> {
    await node.store.requestCounts.reconcile();
    database.reset();
    expect((await request()).statusCode).toBe(status);
    return database.operations;
  }

  it("a push of a new document of a new patient: the token's and the identifier's claims (one insert; the patient just minted has no changes to probe), the record holding the bytes, the patient's record listing it, audit", async () => {
    const operations = await operationsOf(() => send(node.server, 'POST', '/fhir/Bundle', documentFor('RT-1', '2026-01-02T00:00:00Z')), 201);
    expect(operations).toEqual([
      'claims.insertOne',
      'claims.insertOne',
      'summaries.insertOne',
      'patients.insertOne',
      'audit_events.insertMany',
    ]);
    // Both claims in the same turn: on a MongoDB-wire server one insert command (bench/wire-counter.mjs).
    expect(database.waits).toEqual([
      ['claims.insertOne', 'claims.insertOne'],
      ['summaries.insertOne'],
      ['patients.insertOne'],
      ['audit_events.insertMany'],
    ]);
  });

  it("another instance's $summary of a new patient: the patient's record (listing their first document) is read once, then the probe alone", async () => {
    const pushed = await send(node.server, 'POST', '/fhir/Bundle', documentFor('RT-5', '2026-01-02T00:00:00Z'));
    const id = bodyOf<Json>(pushed)['id'] as string;
    const patient = bodyOf<Json>(await node.server.inject('/fhir/Patient?identifier=urn:test:national|RT-5'))['entry'][0].resource.id as string;
    // A Consent permitting doctors: the patient's first change entry; the document is in their record.
    expect((await send(node.server, 'POST', '/fhir/Consent', privacyConsent(patient, { type: 'permit' }))).statusCode).toBe(201);
    const twin = await buildTestNode({ name: 'shared', open: async () => ({ database, cleanup: async () => undefined }) }, { PONTIS_CURRENT_SUMMARY_TTL_MS: '60000' });
    try {
      const summary = async () =>
        twin.server.inject({ url: '/fhir/Patient/$summary?identifier=urn:test:national|RT-5', headers: { authorization: `Bearer ${await mintDemoToken({ audience: twin.config.baseUrl })}` } });
      database.reset();
      // Its first request starts its audit chain, and reads the patient's record.
      expect((await summary()).statusCode).toBe(200);
      const first = await summary();
      expect(first.statusCode).toBe(200);
      expect(database.operations.filter((o) => o.startsWith('patients.'))).toEqual(['patients.findOne']);
      expect(bodyOf<Json>(first)['id']).toBe(id);
      await twin.store.requestCounts.reconcile();
      database.reset();
      const again = await summary();
      expect(again.statusCode).toBe(200);
      expect(bodyOf<Json>(again)['id']).toBe(id);
      expect(database.operations).toEqual(['claims.findOne', 'patient_changes.findOne', 'audit_events.insertMany']);
    } finally {
      await twin.cleanup();
    }
  });

  it("a read of a Bundle by id by its source: the record (with version 1's bytes, kept until the gate opens), the audit (a hospital's decision reads no Consents)", async () => {
    const first = await send(node.server, 'POST', '/fhir/Bundle', documentFor('RT-3', '2026-01-02T00:00:00Z'));
    const pushed = await send(node.server, 'POST', '/fhir/Bundle', documentFor('RT-3', '2026-01-03T00:00:00Z'));
    // Another instance, which has no bytes in memory: version 1 comes from the record.
    const twin = await buildTestNode({ name: 'shared', open: async () => ({ database, cleanup: async () => undefined }) }, { PONTIS_CURRENT_SUMMARY_TTL_MS: '60000' });
    try {
      // Its first request learns the patient's changes (and starts its audit chain).
      expect((await send(twin.server, 'GET', `/fhir/Bundle/${bodyOf<Json>(first)['id'] as string}`, undefined)).statusCode).toBe(200);
      await twin.store.requestCounts.reconcile();
      database.reset();
      const read = await send(twin.server, 'GET', `/fhir/Bundle/${bodyOf<Json>(pushed)['id'] as string}`, undefined);
      expect(read.statusCode).toBe(200);
      expect(read.payload).toBe(pushed.payload);
      // A hospital system's decision reads no Consents (decisionReadsConsents): no probe.
      expect(database.waits).toEqual([['claims.insertOne'], ['summaries.findOne'], ['audit_events.insertMany']]);
    } finally {
      await twin.cleanup();
    }
  });

  it('an update: token, the record, roll-forward check and consent together, the version (the claim), then hint, change and patient together, audit', async () => {
    const pushed = await send(node.server, 'POST', '/fhir/Bundle', documentFor('RT-4', '2026-01-02T00:00:00Z'));
    const id = bodyOf<Json>(pushed)['id'] as string;
    const update = () => send(node.server, 'PUT', `/fhir/Bundle/${id}`, { ...bodyOf<Json>(pushed), language: 'de-AT' }, { 'if-match': 'W/"1"' });
    await operationsOf(update, 200);
    expect(database.waits).toEqual([
      ['claims.insertOne'],
      ['summaries.findOne'],
      ['summary_versions.findOne'],
      ['summary_versions.insertOne'],
      ['summaries.updateOne', 'patient_changes.insertOne', 'patients.updateOne'],
      ['audit_events.insertMany'],
    ]);
  });

  it("a push of a known patient's new document in 4 round trips: the identifier's holder is remembered, and a hospital's decision reads no Consents", async () => {
    // This instance has read the patient's changes (a Consent was added since their first push).
    await node.server.inject({ url: `/fhir/Patient/${patientId}/$summary`, headers: { authorization: `Bearer ${await mintDemoToken({ audience: node.config.baseUrl })}` } });
    const operations = await operationsOf(() => send(node.server, 'POST', '/fhir/Bundle', documentFor('RT-0', '2026-01-03T00:00:00Z')), 201);
    expect(operations.filter((o) => o.startsWith('patient'))).toEqual(['patient_changes.insertOne', 'patients.updateOne']);
    expect(operations).not.toContain('summaries.findOne');
    expect(database.waits).toEqual([
      ['claims.insertOne'],
      ['summaries.insertOne'],
      ['patient_changes.insertOne', 'patients.updateOne'],
      ['audit_events.insertMany'],
    ]);
  });

  it("another instance learns a known patient's identifier once: a claim refused, one look-up", async () => {
    const twin = await storeOn(node.store.database, node.config);
    database.operations = [];
    const first = await twin.patients.resolve(['urn:test:national|RT-0']);
    expect(database.operations).toEqual(['claims.insertOne', 'claims.findOne']);
    database.operations = [];
    const again = await twin.patients.resolve(['urn:test:national|RT-0']);
    expect(again).toEqual(first);
    expect(first).toEqual({ patientId, created: false });
    expect(database.operations).toEqual([]);
    // A read by identifier asks every time: known and unknown patients cost the same.
    expect(await twin.patients.patientIdByIdentifier('urn:test:national|RT-0')).toBe(patientId);
    expect(database.operations).toEqual(['claims.findOne']);
    await twin.requestCounts.close();
  });

  it('a retried push answers 200 from the stored document and leaves no bytes behind', async () => {
    const document = documentFor('RT-2', '2026-01-02T00:00:00Z');
    const first = await send(node.server, 'POST', '/fhir/Bundle', document);
    expect(first.statusCode).toBe(201);
    const versions = await node.store.database.collection('summary_versions').count({});
    const retried = await send(node.server, 'POST', '/fhir/Bundle', document);
    expect(retried.statusCode).toBe(200);
    const id = bodyOf<Json>(first)['id'] as string;
    expect(bodyOf<Json>(retried)['id']).toBe(id);
    // Its audit record names the stored document, like the first push's.
    const records = await node.store.database.collection<{ _id: string; json: string }>('audit_events').find({}, { sort: { _id: 1 } });
    const entities = (records.map((r) => JSON.parse(r.json) as Json).filter((e) => e['action'] === 'C').slice(-2)).map((e) =>
      (e['entity'] as Json[]).map((x) => x['what']?.reference).filter((r) => typeof r === 'string' && r.startsWith('Bundle/')),
    );
    expect(entities).toEqual([[`Bundle/${id}`], [`Bundle/${id}`]]);
    const conflicting = await send(node.server, 'POST', '/fhir/Bundle', { ...document, language: 'de-AT' });
    expect(conflicting.statusCode).toBe(409);
    expect(await node.store.database.collection('summary_versions').count({})).toBe(versions);
  });

  it("a doctor's $summary: consent, then the audit record that also claims the read-only token", async () => {
    const read = async () =>
      node.server.inject({ url: `/fhir/Patient/${patientId}/$summary`, headers: { authorization: `Bearer ${await mintDemoToken({ audience: node.config.baseUrl })}` } });
    await read();
    const operations = await operationsOf(read, 200);
    expect(operations).toEqual(['patient_changes.findOne', 'audit_events.insertMany']);
    expect(database.waits).toHaveLength(2);
  });

  it("the audit chain's head moves off the request path, at most about once a second", async () => {
    const heads = node.store.database.collection<{ _id: string; headSeq: number }>('audit_chains');
    const newest = async () => (await node.store.database.collection<{ _id: string; seq: number }>('audit_events').find({}, { sort: { _id: -1 }, limit: 1 }))[0]!;
    const last = await newest();
    database.operations = [];
    for (let waited = 0; ((await heads.findOne({ _id: last._id.slice(0, last._id.lastIndexOf(':')) }))?.headSeq ?? 0) < last.seq; waited += 50) {
      expect(waited).toBeLessThan(5000);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(database.operations.filter((o) => o === 'audit_chains.updateOne').length).toBeLessThanOrEqual(1);
  });
});

describe('the document a push echoes', () => {
  let node: TestNode;
  beforeAll(async () => {
    node = await buildTestNode(backends[0]!);
  });
  afterAll(async () => {
    await node.cleanup();
  });

  it('is compressed at the fastest level: the client sent these very bytes', async () => {
    const pushed = await send(node.server, 'POST', '/fhir/Bundle', documentFor('ECHO-1', '2026-01-01T00:00:00Z'), { 'accept-encoding': 'gzip' });
    expect(pushed.statusCode).toBe(201);
    expect(pushed.headers['content-encoding']).toBe('gzip');
    const bytes = gunzipSync(pushed.rawPayload);
    expect(JSON.parse(bytes.toString('utf8'))).toMatchObject({ resourceType: 'Bundle', identifier: { value: 'ECHO-1-2026-01-01T00:00:00Z' } });
    expect(pushed.rawPayload.length).toBe(gzipSync(bytes, { level: 1 }).length);
  });

  it('is compressed in one piece: a Content-Length, Vary: Accept-Encoding, the ETag of the stored version', async () => {
    const pushed = await send(node.server, 'POST', '/fhir/Bundle', documentFor('ECHO-2', '2026-01-01T00:00:00Z'), { 'accept-encoding': 'gzip, deflate' });
    expect(pushed.statusCode).toBe(201);
    expect(pushed.headers['content-encoding']).toBe('gzip');
    expect(pushed.headers['transfer-encoding']).toBeUndefined();
    expect(Number(pushed.headers['content-length'])).toBe(pushed.rawPayload.length);
    expect(String(pushed.headers['vary'])).toMatch(/accept-encoding/i);
    expect(pushed.headers['etag']).toBe('W/"1"');

    const current = JSON.parse(gunzipSync(pushed.rawPayload).toString('utf8')) as Json;
    const id = current['id'] as string;
    const updated = await send(node.server, 'PUT', `/fhir/Bundle/${id}`, { ...current, language: 'de-AT' }, { 'if-match': 'W/"1"', 'accept-encoding': 'gzip' });
    expect(updated.statusCode).toBe(200);
    expect(updated.headers['content-encoding']).toBe('gzip');
    expect(Number(updated.headers['content-length'])).toBe(updated.rawPayload.length);
    expect(updated.headers['etag']).toBe('W/"2"');
    expect(JSON.parse(gunzipSync(updated.rawPayload).toString('utf8'))).toMatchObject({ id, language: 'de-AT', meta: { versionId: '2' } });
  });

  it('is deflated or left as it is when the client asks so', async () => {
    const deflated = await send(node.server, 'POST', '/fhir/Bundle', documentFor('ECHO-3', '2026-01-01T00:00:00Z'), { 'accept-encoding': 'deflate' });
    expect(deflated.statusCode).toBe(201);
    expect(deflated.headers['content-encoding']).toBe('deflate');
    expect(JSON.parse(inflateSync(deflated.rawPayload).toString('utf8'))).toMatchObject({ resourceType: 'Bundle' });
    const plain = await send(node.server, 'POST', '/fhir/Bundle', documentFor('ECHO-4', '2026-01-01T00:00:00Z'), { 'accept-encoding': 'identity' });
    expect(plain.statusCode).toBe(201);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(plain.payload)).toMatchObject({ resourceType: 'Bundle', identifier: { value: 'ECHO-4-2026-01-01T00:00:00Z' } });
  });
});
