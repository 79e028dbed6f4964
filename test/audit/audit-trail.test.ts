import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Server } from '@hapi/hapi';
import pino from 'pino';
import { mintDemoToken } from '../../src/auth/demo-tokens.js';
import { verifyAuditTrail } from '../../src/audit/audit-verification.js';
import type { DocumentDatabase } from '../../src/repositories/document-collection.js';
import type { AuditRecord } from '../../src/repositories/audit-repository.js';
import { storeOn, type Store } from '../../src/repositories/store.js';
import { createServer } from '../../src/server.js';
import { backends } from '../support/stores.js';
import { buildTestNode, demoTrust, documentFor, send, sharedValidator, withDefaultToken, type Json, type TestNode } from '../support/test-node.js';

describe.each(backends)('audit trail on the $name', (backend) => {
  let node: TestNode;
  let database: DocumentDatabase;
  let patientId: string;

  beforeAll(async () => {
    node = await buildTestNode(backend);
    database = node.store.database;
  });
  afterAll(() => node.cleanup());

  it('holds exactly one record per request to patient data, refused ones included, and none for others', async () => {
    const before = (await verifyAuditTrail(node.store.audit)).records;
    const aud = node.config.baseUrl;
    let audited = 0;
    const pushed = await send(node.server, 'POST', '/fhir/Bundle', documentFor('AUD1', '2024-01-01T10:00:00Z'));
    audited++;
    expect(pushed.statusCode).toBe(201);
    patientId = (JSON.parse((await node.server.inject('/fhir/Patient?identifier=urn:test:national|AUD1')).payload) as Json)['entry'][0].resource.id;
    audited++;
    const id = (JSON.parse(pushed.payload) as Json)['id'];
    for (const url of [`/fhir/Bundle/${id}`, `/fhir/Bundle/${id}/_history`, `/fhir/Bundle/${id}/_history/1`, `/fhir/Patient/${patientId}`, `/fhir/Patient/${patientId}/$summary`]) {
      expect((await node.server.inject(url)).statusCode).toBe(200);
      audited++;
    }
    // Refused: no token, a clinician without consent, a scope missing.
    expect((await node.server.inject({ url: `/fhir/Patient/${patientId}/$summary`, headers: { authorization: 'none' } })).statusCode).toBe(401);
    audited++;
    const clinician = await mintDemoToken({ audience: aud, issuer: 'ncp', country: 'PT' });
    expect((await node.server.inject({ url: `/fhir/Patient/${patientId}/$summary`, headers: { authorization: `Bearer ${clinician}` } })).statusCode).toBe(403);
    audited++;
    const noScope = await mintDemoToken({ audience: aud, scope: 'system/Consent.r' });
    expect((await node.server.inject({ url: `/fhir/Bundle/${id}`, headers: { authorization: `Bearer ${noScope}` } })).statusCode).toBe(403);
    audited++;
    // Not patient data: no record.
    expect((await node.server.inject('/fhir/metadata')).statusCode).toBe(200);
    expect((await node.server.inject({ method: 'DELETE', url: `/fhir/Bundle/${id}` })).statusCode).toBe(405);
    const after = await verifyAuditTrail(node.store.audit);
    expect(after.broken).toBeUndefined();
    expect(after.records - before).toBe(audited);
    const log = await node.store.audit.forPatient(patientId, 100);
    expect(log.length).toBeGreaterThanOrEqual(8);
  });

  describe('verification finds a record', () => {
    const records = () => database.collection<AuditRecord>('audit_events');
    // The node has one writer, so one chain: its records in order.
    const chainOf = () => records().find({}, { sort: { _id: 1 } });

    it('altered', async () => {
      const all = await chainOf();
      const target = all[2]!;
      expect(target.json).toContain('"outcomeDesc":"HTTP');
      await records().updateOne({ _id: target._id }, { $set: { json: target.json.replace('"outcomeDesc":"HTTP', '"outcomeDesc":"HTTQ') } });
      const result = await verifyAuditTrail(node.store.audit);
      expect(result.broken).toMatchObject({ chain: target.chain, seq: target.seq, problem: expect.stringMatching(/altered/) });
      await records().updateOne({ _id: target._id }, { $set: { json: target.json } });
      expect((await verifyAuditTrail(node.store.audit)).broken).toBeUndefined();
    });

    it('removed from the middle, or from the end', async () => {
      const all = await chainOf();
      const middle = all[3]!;
      await records().deleteOne({ _id: middle._id });
      expect((await verifyAuditTrail(node.store.audit)).broken).toMatchObject({ seq: middle.seq, problem: expect.stringMatching(/missing/) });
      await records().insertOne(middle);
      const last = all[all.length - 1]!;
      // The head follows the records within about a second (off the request path): cut off behind it.
      for (let waited = 0; ((await database.collection<{ _id: string; headSeq: number }>('audit_chains').findOne({ _id: last.chain }))?.headSeq ?? 0) < last.seq; waited += 50) {
        expect(waited).toBeLessThan(5000);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await records().deleteOne({ _id: last._id });
      expect((await verifyAuditTrail(node.store.audit)).broken).toMatchObject({ seq: last.seq, problem: expect.stringMatching(/removed/) });
      await records().insertOne(last);
      expect((await verifyAuditTrail(node.store.audit)).broken).toBeUndefined();
    });

    it('swapped with another (reordered)', async () => {
      const all = await chainOf();
      const [a, b] = [all[1]!, all[2]!];
      // Swap contents under each other's position, keeping their own hashes and links.
      await records().deleteOne({ _id: a._id });
      await records().deleteOne({ _id: b._id });
      await records().insertOne({ ...b, _id: a._id, seq: a.seq });
      await records().insertOne({ ...a, _id: b._id, seq: b.seq });
      expect((await verifyAuditTrail(node.store.audit)).broken).toMatchObject({ seq: a.seq, problem: expect.stringMatching(/link|altered/) });
      await records().deleteOne({ _id: a._id });
      await records().deleteOne({ _id: b._id });
      await records().insertOne(a);
      await records().insertOne(b);
      expect((await verifyAuditTrail(node.store.audit)).broken).toBeUndefined();
    });
  });

  describe('a token that cannot write, claimed by the audit record of its request', () => {
    let shared: { database: DocumentDatabase; cleanup(): Promise<void> };
    const instances: Server[] = [];
    let store: Store;
    let bundleId: string;
    beforeAll(async () => {
      shared = await backend.open();
      store = await storeOn(shared.database, node.config);
      for (let i = 0; i < 2; i++) {
        const server = await createServer({ config: node.config, store: i === 0 ? store : await storeOn(shared.database, node.config), logger: pino({ level: 'silent' }), validator: sharedValidator(), trust: await demoTrust() });
        await server.initialize();
        instances.push(server);
      }
      const pushed = await send(withDefaultToken(instances[0]!, node.config.baseUrl), 'POST', '/fhir/Bundle', documentFor('REPLAY1', '2024-01-01T10:00:00Z'));
      expect(pushed.statusCode).toBe(201);
      bundleId = (JSON.parse(pushed.payload) as Json)['id'] as string;
    });
    afterAll(async () => {
      for (const s of instances) await s.stop();
      await shared.cleanup();
    });
    const readOnly = () => mintDemoToken({ audience: node.config.baseUrl, scope: 'system/Bundle.r' });
    const read = (instance: number, token: string) => instances[instance]!.inject({ url: `/fhir/Bundle/${bundleId}`, headers: { authorization: `Bearer ${token}` } });
    const replays = async () =>
      (await shared.database.collection<AuditRecord>('audit_events').find({})).filter((r) => (JSON.parse(r.json) as Json)['outcomeDesc']?.includes('already used')).length;

    it('is refused at another instance on the same database, the refusal recorded and nothing released', async () => {
      const token = await readOnly();
      const before = await replays();
      expect((await read(0, token)).statusCode).toBe(200);
      const again = await read(1, token);
      expect(again.statusCode).toBe(401);
      expect(again.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
      expect(again.payload).not.toContain('REPLAY1');
      expect(JSON.parse(again.payload)).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ diagnostics: expect.stringMatching(/already used \(jti\)/) }] });
      expect(await replays()).toBe(before + 1);
      expect((await verifyAuditTrail(store.audit)).broken).toBeUndefined();
    });

    it('used twice at once at two instances: exactly one read goes through', async () => {
      const token = await readOnly();
      const answers = await Promise.all([read(0, token), read(1, token), read(0, token), read(1, token)]);
      expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 401, 401, 401]);
      expect((await verifyAuditTrail(store.audit)).broken).toBeUndefined();
    });

    it('first used for a read, then replayed as a write at another instance: refused, nothing stored', async () => {
      const token = await readOnly();
      expect((await read(0, token)).statusCode).toBe(200);
      const write = await instances[1]!.inject({ method: 'POST', url: '/fhir/Bundle', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' }, payload: JSON.stringify(documentFor('REPLAY2', '2024-01-01T10:00:00Z')) });
      expect(write.statusCode).toBe(401);
      expect(await shared.database.collection('summaries').count({ identifierKey: { $regex: 'REPLAY2' } })).toBe(0);
    });

    it('is refused by a route that writes no audit record (its single use could not be claimed there)', async () => {
      const validate = await instances[0]!.inject({ method: 'POST', url: '/fhir/Bundle/$validate', headers: { authorization: `Bearer ${await readOnly()}`, 'content-type': 'application/fhir+json' }, payload: JSON.stringify(documentFor('REPLAY3', '2024-01-01T10:00:00Z')) });
      expect(validate.statusCode).toBe(403);
    });
  });

  it('stays verifiable with two instances writing into one database at once', async () => {
    const { database: shared, cleanup } = await backend.open();
    const servers: Server[] = [];
    let store: Store | undefined;
    try {
      store = await storeOn(shared, node.config);
      for (let i = 0; i < 2; i++) {
        const server = withDefaultToken(
          await createServer({ config: node.config, store, logger: pino({ level: 'silent' }), validator: sharedValidator(), trust: await demoTrust() }),
          node.config.baseUrl,
        );
        await server.initialize();
        servers.push(server);
      }
      const pushed = await send(servers[0]!, 'POST', '/fhir/Bundle', documentFor('TWO1', '2024-01-01T10:00:00Z'));
      const id = (JSON.parse(pushed.payload) as Json)['id'];
      const reads = await Promise.all(Array.from({ length: 40 }, (_, i) => servers[i % 2]!.inject(`/fhir/Bundle/${id}`)));
      expect(reads.every((r) => r.statusCode === 200)).toBe(true);
      const result = await verifyAuditTrail(store.audit);
      expect(result).toMatchObject({ chains: 2, records: 41 });
      expect(result.broken).toBeUndefined();
    } finally {
      for (const s of servers) await s.stop();
      await cleanup();
    }
  });
});
