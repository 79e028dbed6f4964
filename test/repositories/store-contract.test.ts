import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { documentContentHash } from '../../src/documents/content-hash.js';
import { DuplicateKeyError, type DocumentCollection, type DocumentDatabase } from '../../src/repositories/document-collection.js';
import { ConsentRepository, consentVersionKey, type ConsentVersion } from '../../src/repositories/consent-repository.js';
import { RequestBudgetRepository } from '../../src/repositories/request-budget-repository.js';
import { TokenUseRepository } from '../../src/repositories/token-use-repository.js';
import { storeOn, type Store } from '../../src/repositories/store.js';
import { localSystemAccess } from '../../src/access/system-access.js';
import { loadConfig } from '../../src/config.js';
import { createServices } from '../../src/server.js';
import type { SummaryService } from '../../src/services/summary-service.js';
import { backends } from '../support/stores.js';
import type { ResourceAsWritten } from '../../src/fhir/resources.js';
import { documentFor as documentJson, privacyConsent, sharedValidator } from '../support/test-node.js';

/** A test document as the route hands it to the service: a Bundle as written. */
const documentFor = (...args: Parameters<typeof documentJson>): ResourceAsWritten<'Bundle'> => documentJson(...args) as ResourceAsWritten<'Bundle'>;

interface Thing {
  _id: string;
  k?: string;
  n?: number;
  tags?: string[];
  nested?: { a: number } | null;
}

const OPTIONS = { currentSummaryTtlMs: 0, documentCacheBytes: 0 };


describe.each(backends)('storage contract on the $name', (backend) => {
  let database: DocumentDatabase;
  let cleanup: () => Promise<void>;
  let store: Store;
  let service: SummaryService;
  let services: ReturnType<typeof createServices>;
  const system = () => localSystemAccess('AT', 'contract-test');

  const currentId = async (patientId: string): Promise<string> =>
    (JSON.parse((await service.currentSummary(patientId, system())).bytes.toString()) as { id: string }).id;

  beforeAll(async () => {
    ({ database, cleanup } = await backend.open());
    store = await storeOn(database, OPTIONS);
    services = createServices({ config: loadConfig({ LOG_LEVEL: 'silent' }), store, validator: sharedValidator() });
    service = services.summaries;
  });
  afterAll(async () => {
    await cleanup?.();
  });

  it('open again on a database holding data (a node restarting)', async () => {
    await service.push(documentFor('R1', '2024-01-01T10:00:00Z'), system());
    const reopened = await storeOn(database, OPTIONS);
    expect(await reopened.patients.patientIdByIdentifier('urn:test:national|R1')).toEqual(expect.any(String));
  });

  describe('consents', () => {
    const version = (id: string, patientId: string, dateTime: string, type: string, status = 'active', versionId = 1): ConsentVersion => ({
      _id: consentVersionKey(id, versionId),
      consentId: id,
      patientId,
      status,
      dateTimeMs: Date.parse(dateTime),
      versionId,
      lastUpdated: new Date(),
      json: JSON.stringify({ resourceType: 'Consent', id, meta: { versionId: String(versionId) }, status, provision: { type } }),
    });
    const records = () => database.collection<{ _id: string; patientId: string; versionId: number }>('consents');

    it("keep a patient's Consents newest first, and give the decision the active ones", async () => {
      await store.consents.create(version('k1', 'pc', '2025-01-01T00:00:00Z', 'permit'));
      await store.consents.create(version('k2', 'pc', '2026-01-01T00:00:00Z', 'deny'));
      await store.consents.create(version('k3', 'pc', '2024-01-01T00:00:00Z', 'permit', 'inactive'));
      await store.consents.create(version('k4', 'other', '2026-01-01T00:00:00Z', 'permit'));
      expect((await store.consents.forPatient('pc')).map((c) => c.consentId)).toEqual(['k2', 'k1', 'k3']);
      const rules = await store.consents.rulesForPatient('pc');
      expect(rules.map((r) => [r.id, r.provision.type]).sort()).toEqual([['k1', 'permit'], ['k2', 'deny']]);
    });

    it('store each version once: of racing writers of one version on two instances exactly one succeeds', async () => {
      const other = new ConsentRepository(database);
      await store.consents.create(version('k5', 'pr', '2025-01-01T00:00:00Z', 'permit'));
      const writers = Array.from({ length: 8 }, (_, i) => (i % 2 ? other : store.consents).appendVersion(version('k5', 'pr', '2025-01-01T00:00:00Z', `w${i}`, 'active', 2)));
      const won = await Promise.all(writers);
      expect(won.filter(Boolean)).toHaveLength(1);
      const winner = `w${won.indexOf(true)}`;
      expect(JSON.parse((await store.consents.current('k5'))!.json).provision.type).toBe(winner);
      expect((await store.consents.history('k5')).map((v) => v.versionId)).toEqual([2, 1]);
      expect((await store.consents.rulesForPatient('pr')).map((r) => r.provision.type)).toEqual([winner]);
      expect(await store.consents.appendVersion(version('k5', 'pr', '2025-01-01T00:00:00Z', 'late', 'active', 2))).toBe(false);
      expect(JSON.parse((await store.consents.version('k5', 1))!.json).provision.type).toBe('permit');
    });

    it('show nothing of a Consent whose creation stopped before version 1 was stored', async () => {
      await records().insertOne({ _id: 'k6', patientId: 'pi', versionId: 0 });
      expect(await store.consents.current('k6')).toBeNull();
      expect(await store.consents.forPatient('pi')).toEqual([]);
      expect(await store.consents.rulesForPatient('pi')).toEqual([]);
    });

    it('serve the newest versions when the record was left behind (writer stopped, or racing hints)', async () => {
      await store.consents.create(version('k7', 'pb', '2025-01-01T00:00:00Z', 'permit'));
      // Versions 2 and 3 stored (each after the patient's change entry naming it), the record never
      // moved: as if their writers died right after the insert.
      const versions = database.collection<ConsentVersion>('consent_versions');
      const changes = database.collection<{ _id: string; patientId: string; kind: string; consentId: string; versionId: number }>('patient_changes');
      await changes.insertOne({ _id: 'pb#2', patientId: 'pb', kind: 'consent', consentId: 'k7', versionId: 2 });
      await versions.insertOne(version('k7', 'pb', '2025-01-01T00:00:00Z', 'deny', 'active', 2));
      await changes.insertOne({ _id: 'pb#3', patientId: 'pb', kind: 'consent', consentId: 'k7', versionId: 3 });
      await versions.insertOne(version('k7', 'pb', '2025-01-01T00:00:00Z', 'permit', 'inactive', 3));
      expect(await records().findOne({ _id: 'k7' })).toMatchObject({ versionId: 1 });
      expect(await store.consents.rulesForPatient('pb')).toEqual([]);
      expect((await store.consents.forPatient('pb')).map((c) => c.versionId)).toEqual([3]);
      expect((await store.consents.current('k7'))?.versionId).toBe(3);
      // Reading repaired the record; the next version claims 4, and version 3 cannot be made again.
      expect(await records().findOne({ _id: 'k7' })).toMatchObject({ versionId: 3 });
      expect(await store.consents.appendVersion(version('k7', 'pb', '2025-01-01T00:00:00Z', 'deny', 'active', 3))).toBe(false);
      expect(await store.consents.appendVersion(version('k7', 'pb', '2025-01-01T00:00:00Z', 'deny', 'active', 4))).toBe(true);
      expect((await store.consents.rulesForPatient('pb')).map((r) => r.provision.type)).toEqual(['deny']);
    });

    it('take over Consents stored inline by an earlier release when the store opens', async () => {
      const legacy = { _id: 'k8', patientId: 'pl', status: 'active', dateTimeMs: 1, versionId: 4, lastUpdated: new Date(), json: JSON.stringify({ resourceType: 'Consent', id: 'k8', provision: { type: 'deny' } }) };
      await records().insertOne(legacy);
      await new ConsentRepository(database).ensureIndexes();
      expect((await store.consents.rulesForPatient('pl')).map((r) => [r.id, r.provision.type])).toEqual([['k8', 'deny']]);
      expect(await store.consents.current('k8')).toMatchObject({ versionId: 4, json: legacy.json });
      expect(await records().findOne({ _id: 'k8' })).toEqual({ _id: 'k8', patientId: 'pl', versionId: 4 });
      // Opening again changes nothing.
      await new ConsentRepository(database).ensureIndexes();
      expect((await store.consents.history('k8')).map((v) => v.versionId)).toEqual([4]);
    });

    it('let exactly one of concurrent If-Match writers through the service; the others get 412, history stays gapless', async () => {
      const pushed = await service.push(documentFor('K9', '2024-01-01T10:00:00Z'), system());
      const patientId = pushed.record.patientId;
      const created = await services.consents.create(privacyConsent(patientId, { type: 'permit' }), system());
      const id = created.consent.consentId;
      // Eight rounds: before Consents were versioned by insert, FerretDB let two writers through in about 4 rounds of 10.
      for (let round = 1; round <= 8; round++) {
        const racing = await Promise.allSettled(
          ['permit', 'deny', 'permit', 'deny', 'permit'].map((type) => services.consents.replace(id, round, { ...privacyConsent(patientId, { type }), id }, system())),
        );
        const winners = racing.filter((r) => r.status === 'fulfilled');
        expect(winners).toHaveLength(1);
        for (const r of racing) if (r.status === 'rejected') expect(r.reason).toMatchObject({ output: { statusCode: 412 } });
        expect(await services.consents.read(id, system())).toMatchObject({ versionId: round + 1 });
      }
      expect((await services.consents.history(id, system())).map((v) => v.versionId)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1]);
    });
  });

  describe('collections', () => {
    let things: DocumentCollection<Thing>;
    beforeAll(async () => {
      things = database.collection<Thing>('contract_things');
      await things.ensureIndexes([{ name: 'k_unique', keys: { k: 1 }, unique: true }]);
      for (const [i, k] of ['c', 'a', 'b'].entries()) await things.insertOne({ _id: `t${i}`, k, n: i, tags: [k], nested: null });
    });

    it("count requests of concurrent callers exactly per instance, plus the other instances' counts once reconciled", async () => {
      const a = new RequestBudgetRepository(database);
      const b = new RequestBudgetRepository(database);
      const window = Date.now() - (Date.now() % 60_000);
      const counts = await Promise.all(Array.from({ length: 10 }, () => a.count('k', window, 60_000)));
      expect([...counts].sort((x, y) => x - y)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
      for (let i = 0; i < 5; i++) await b.count('k', window, 60_000);
      // Before reconciling, each knows only its own; after, each counts the other's too.
      expect(await b.count('k', window, 60_000)).toBe(6);
      await a.reconcile();
      await b.reconcile();
      await a.reconcile();
      expect(await a.count('k', window, 60_000)).toBe(6 + 11);
      expect(await b.count('k', window, 60_000)).toBe(10 + 7);
      expect(await a.count('other', window, 60_000)).toBe(1);
      expect(await a.count('k', window + 60_000, 60_000)).toBe(1);
      await a.close();
      await b.close();
    });

    it('insert each of many independently, telling which went in', async () => {
      const each = database.collection<{ _id: string; n: number }>('contract_each');
      await each.insertOne({ _id: 'e0', n: 0 });
      expect(await each.insertEach([{ _id: 'e1', n: 1 }, { _id: 'e0', n: 9 }, { _id: 'e1', n: 8 }, { _id: 'e2', n: 2 }])).toEqual([true, false, false, true]);
      expect((await each.find({}, { sort: { _id: 1 } })).map((d) => [d._id, d.n])).toEqual([['e0', 0], ['e1', 1], ['e2', 2]]);
    });

    it('let exactly one of concurrent first uses of a token id through', async () => {
      const a = new TokenUseRepository(database);
      const b = new TokenUseRepository(database);
      const expires = new Date(Date.now() + 60_000);
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).firstUse('iss', 'jti-1', expires)));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await a.firstUse('iss', 'jti-2', expires)).toBe(true);
      a.close();
      b.close();
    });

    it('insert many in order, and delete many', async () => {
      const batch = database.collection<{ _id: string; n: number }>('contract_batch');
      await batch.insertMany([1, 2, 3].map((n) => ({ _id: `b${n}`, n })));
      await expect(batch.insertMany([{ _id: 'b4', n: 4 }, { _id: 'b1', n: 9 }])).rejects.toBeInstanceOf(DuplicateKeyError);
      expect(await batch.count({})).toBe(4);
      expect(await batch.deleteMany({ n: { $gte: 3 } })).toBe(2);
      expect((await batch.find({}, { sort: { _id: 1 } })).map((b) => b._id)).toEqual(['b1', 'b2']);
    });

    it('refuse a second document with the same _id or unique key', async () => {
      await expect(things.insertOne({ _id: 't0', k: 'z' })).rejects.toBeInstanceOf(DuplicateKeyError);
      await expect(things.insertOne({ _id: 'other', k: 'a' })).rejects.toBeInstanceOf(DuplicateKeyError);
      expect(await things.count({})).toBe(3);
    });

    it('insert each of concurrent single documents on its own: a clash refuses only its own, and exactly one of racing twins goes in', async () => {
      const racing = database.collection<{ _id: string; k?: string; n: number }>('contract_racing');
      await racing.ensureIndexes([{ name: 'k_unique', keys: { k: 1 }, unique: true, sparse: true }]);
      await racing.insertOne({ _id: 'r0', k: 'held', n: 0 });
      // Sent in one turn of the event loop, as concurrent requests' inserts are.
      const outcomes = await Promise.allSettled([
        racing.insertOne({ _id: 'r1', n: 1 }),
        racing.insertOne({ _id: 'r0', n: 9 }),
        racing.insertOne({ _id: 'r2', k: 'held', n: 9 }),
        racing.insertOne({ _id: 'r3', k: 'twin', n: 3 }),
        racing.insertOne({ _id: 'r4', k: 'twin', n: 4 }),
        racing.insertOne({ _id: 'r5', n: 5 }),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'rejected', expect.any(String), expect.any(String), 'fulfilled']);
      for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(DuplicateKeyError);
      expect(outcomes.slice(3, 5).filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      const stored = await racing.find({}, { sort: { _id: 1 } });
      expect(stored.map((d) => d._id).filter((id) => id !== 'r3' && id !== 'r4')).toEqual(['r0', 'r1', 'r5']);
      expect(stored.find((d) => d._id === 'r0')?.n).toBe(0);
      expect(stored.filter((d) => d.k === 'twin')).toHaveLength(1);
    });

    it('find with sort, skip, limit and fields', async () => {
      const page = await things.find({}, { sort: { k: 1 }, skip: 1, limit: 1, fields: ['k'] });
      expect(page).toEqual([{ _id: 't2', k: 'b' }]);
    });

    it('match $regex, $or, $ne null and array membership', async () => {
      expect((await things.find({ k: { $regex: '^[ab]' } }, { sort: { _id: 1 } })).map((t) => t._id)).toEqual(['t1', 't2']);
      expect(await things.count({ $or: [{ n: { $lt: 1 } }, { k: 'b' }] })).toBe(2);
      expect(await things.count({ tags: 'c' })).toBe(1);
      expect(await things.count({ nested: { $ne: null } })).toBe(0);
    });

    it('find by indexed fields and ranges, following updates and deletes that change the values', async () => {
      const keyed = database.collection<{ _id: string; owner: string; at: number; when: Date; tags: string[] }>('contract_keyed');
      await keyed.ensureIndexes([{ name: 'owner', keys: { owner: 1, at: -1 } }, { name: 'tags', keys: { tags: 1 } }]);
      for (let i = 0; i < 6; i++) await keyed.insertOne({ _id: `k${i}`, owner: i % 2 ? 'odd' : 'even', at: i, when: new Date(1000 * i), tags: [`t${i}`, 'all'] });
      expect((await keyed.find({ owner: 'odd', at: { $gte: 3 } }, { sort: { at: -1 } })).map((d) => d._id)).toEqual(['k5', 'k3']);
      expect(await keyed.count({ owner: 'even', when: { $lt: new Date(3000) } })).toBe(2);
      // A range never matches a value of another type.
      expect(await keyed.count({ owner: 'even', at: { $lte: '9' } })).toBe(0);
      expect(await keyed.count({ tags: 'all', at: { $gt: 1, $lt: 4 } })).toBe(2);
      expect(await keyed.updateOne({ _id: 'k1', at: { $lte: 1 } }, { $set: { owner: 'even' }, $addToSet: { tags: { $each: ['moved', 'all'] } } })).toBe(true);
      expect((await keyed.find({ owner: 'odd' }, { sort: { _id: 1 } })).map((d) => d._id)).toEqual(['k3', 'k5']);
      expect((await keyed.find({ owner: 'even' }, { sort: { _id: 1 } })).map((d) => d._id)).toEqual(['k0', 'k1', 'k2', 'k4']);
      expect(await keyed.findOne({ tags: 'moved' }, { fields: ['tags'] })).toEqual({ _id: 'k1', tags: ['t1', 'all', 'moved'] });
      expect(await keyed.deleteMany({ owner: 'even', at: { $lt: 2 } })).toBe(2);
      expect(await keyed.count({ tags: 'all' })).toBe(4);
      expect(await keyed.findOne({ tags: 'moved' })).toBeNull();
    });

    it('free a unique key when its holder changes or goes, and refuse it while held', async () => {
      const unique = database.collection<{ _id: string; code?: string }>('contract_unique');
      await unique.ensureIndexes([{ name: 'code_unique', keys: { code: 1 }, unique: true, sparse: true }]);
      await unique.insertOne({ _id: 'u1', code: 'A' });
      await unique.insertOne({ _id: 'u2' });
      await unique.insertOne({ _id: 'u3' });
      await expect(unique.insertOne({ _id: 'u4', code: 'A' })).rejects.toBeInstanceOf(DuplicateKeyError);
      await expect(unique.updateOne({ _id: 'u2' }, { $set: { code: 'A' } })).rejects.toBeInstanceOf(DuplicateKeyError);
      expect(await unique.updateOne({ _id: 'u1' }, { $set: { code: 'B' } })).toBe(true);
      await unique.insertOne({ _id: 'u4', code: 'A' });
      expect(await unique.deleteOne({ code: 'B' })).toBe(true);
      await unique.insertOne({ _id: 'u5', code: 'B' });
      expect((await unique.find({}, { sort: { _id: 1 } })).map((d) => [d._id, d.code ?? null])).toEqual([['u2', null], ['u3', null], ['u4', 'A'], ['u5', 'B']]);
    });

    it('update atomically with $set, $addToSet and $push, and report a miss', async () => {
      expect(await things.updateOne({ _id: 't0', n: 0 }, { $set: { n: 10, nested: { a: 1 } }, $addToSet: { tags: { $each: ['c', 'x'] } } })).toBe(true);
      expect(await things.updateOne({ _id: 't0', n: 0 }, { $set: { n: 11 } })).toBe(false);
      expect(await things.updateOne({ _id: 't0' }, { $push: { tags: 'y' } })).toBe(true);
      expect(await things.findOne({ _id: 't0' })).toEqual({ _id: 't0', k: 'c', n: 10, tags: ['c', 'x', 'y'], nested: { a: 1 } });
      expect(await things.findOne({ 'nested.a': 1 }, { fields: ['n'] })).toEqual({ _id: 't0', n: 10 });
    });

    it('refuse an update that breaks a unique key', async () => {
      await expect(things.updateOne({ _id: 't0' }, { $set: { k: 'a' } })).rejects.toBeInstanceOf(DuplicateKeyError);
    });

    it('hand out copies, not the stored documents', async () => {
      const found = (await things.findOne({ _id: 't1' }))!;
      found.tags!.push('mutated');
      expect((await things.findOne({ _id: 't1' }))!.tags).toEqual(['a']);
    });

    it('delete one document', async () => {
      expect(await things.deleteOne({ _id: 't2' })).toBe(true);
      expect(await things.deleteOne({ _id: 't2' })).toBe(false);
    });
  });

  describe('summaries and patients', () => {
    it('store a document, index its patient and make it current', async () => {
      const pushed = await service.push(documentFor('P1', '2024-01-01T10:00:00Z'), system());
      expect(pushed.created).toBe(true);
      const patientId = pushed.record.patientId;
      const current = await service.currentSummary(patientId, system());
      expect(JSON.parse(current.bytes.toString())).toMatchObject({ id: pushed.record._id, meta: { versionId: '1' } });
      const patient = await store.patients.findVisible(patientId, await services.gate.open(system(), patientId));
      expect(patient?.identifierKeys).toEqual(['urn:test:national|P1']);
      expect(JSON.parse(patient!.json)).toMatchObject({ resourceType: 'Patient', id: patientId });
    });

    it('treat the same document again as a retry, and other content under its identifier as a conflict', async () => {
      const first = await service.push(documentFor('P2', '2024-01-01T10:00:00Z'), system());
      const again = await service.push(documentFor('P2', '2024-01-01T10:00:00Z'), system());
      expect(again.created).toBe(false);
      expect(again.record._id).toBe(first.record._id);
      const changed = documentJson('P2', '2024-01-01T10:00:00Z');
      changed['entry'][0].resource.title = 'changed';
      await expect(service.push(changed as ResourceAsWritten<'Bundle'>, system())).rejects.toMatchObject({ output: { statusCode: 409 } });
    });

    it('keep the newest document current whatever order they arrive in', async () => {
      const newer = await service.push(documentFor('P3', '2024-06-01T10:00:00Z'), system());
      const older = await service.push(documentFor('P3', '2023-06-01T10:00:00Z'), system());
      expect(older.record.patientId).toBe(newer.record.patientId);
      expect(await currentId(newer.record.patientId)).toBe(newer.record._id);
      const newest = await service.push(documentFor('P3', '2025-06-01T10:00:00Z'), system());
      expect(await currentId(newer.record.patientId)).toBe(newest.record._id);
      expect((await service.read(older.record._id, system())).record._id).toBe(older.record._id);
    });

    it('store one document and one patient when the same push races itself', async () => {
      const results = await Promise.all([0, 1, 2, 3].map(() => service.push(documentFor('P4', '2024-01-01T10:00:00Z'), system())));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.record._id)).size).toBe(1);
    });

    it('join racing documents of one new patient into one patient', async () => {
      const results = await Promise.all(
        ['2024-01-01T10:00:00Z', '2024-02-01T10:00:00Z', '2024-03-01T10:00:00Z'].map((t) => service.push(documentFor('P5', t), system())),
      );
      expect(new Set(results.map((r) => r.record.patientId)).size).toBe(1);
      const latest = results[2]!;
      expect(await currentId(latest.record.patientId)).toBe(latest.record._id);
      const found = await store.patients.search({ identifierKey: 'urn:test:national|P5' }, 0, 10);
      expect(found.total).toBe(1);
    });

    it('finish an interrupted push when it is retried', async () => {
      // Simulate a crash after the document record was written, before the patient pointer moved.
      const bundle = documentFor('P6', '2024-01-01T10:00:00Z');
      const { patientId } = await store.patients.resolve(['urn:test:national|P6']);
      const record = {
        _id: 'interrupted-1',
        identifierKey: 'urn:test:documents|P6-2024-01-01T10:00:00Z',
        patientId,
        timestampMs: Date.parse('2024-01-01T10:00:00Z'),
        versionId: 1,
        lastUpdated: new Date(),
        contentHash: documentContentHash(bundle),
      };
      await store.summaries.create(record, JSON.stringify({ ...bundle, id: 'interrupted-1' }), sharedValidator().profileSet);
      // The document is stored, but neither entered among the patient's changes (not yet their
      // current summary) nor is the patient findable by search.
      await expect(currentId(patientId)).rejects.toMatchObject({ output: { statusCode: 404 } });
      expect(await store.patients.identity(patientId)).toBeNull();

      const retried = await service.push(bundle, system());
      expect(retried.created).toBe(false);
      expect((await store.patients.identity(patientId))?.identifierKeys).toEqual(['urn:test:national|P6']);
      expect(await currentId(patientId)).toBe('interrupted-1');
    });

    it('append versions under optimistic locking and keep every version readable', async () => {
      const pushed = await service.push(documentFor('P7', '2024-01-01T10:00:00Z'), system());
      const id = pushed.record._id;
      const v2 = { ...JSON.parse(pushed.bytes.toString()), language: 'de-AT' };
      const updated = await service.replace(id, 1, v2, system());
      expect(updated.versionId).toBe(2);
      await expect(service.replace(id, 1, { ...v2, language: 'fr' }, system())).rejects.toMatchObject({ output: { statusCode: 412 } });
      const racing = await Promise.allSettled([service.replace(id, 2, { ...v2, language: 'it' }, system()), service.replace(id, 2, { ...v2, language: 'es' }, system())]);
      expect(racing.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const history = await service.history(id, system());
      expect(history.map((h) => h.versionId)).toEqual([3, 2, 1]);
      expect(JSON.parse((await service.readVersion(id, 2, system())).bytes.toString()).language).toBe('de-AT');
      expect(JSON.parse((await service.readVersion(id, 1, system())).bytes.toString()).language).toBe(JSON.parse(pushed.bytes.toString()).language);
    });

    it('roll a document forward to a version whose writer stopped before updating the record', async () => {
      const pushed = await service.push(documentFor('P9', '2024-01-01T10:00:00Z'), system());
      const v2 = { ...JSON.parse(pushed.bytes.toString()), language: 'pt-PT' };
      // Store version 2's bytes as a writer would, then "crash" before the record moves on.
      const next = { versionId: 2, lastUpdated: new Date(), timestampMs: pushed.record.timestampMs, contentHash: documentContentHash(v2) };
      const stalled = { ...pushed.record, _id: pushed.record._id };
      await store.database
        .collection<{ _id: string; [field: string]: unknown }>('summary_versions')
        .insertOne({ _id: `${stalled._id}@2`, summaryId: stalled._id, ...next, profileSet: sharedValidator().profileSet, json: JSON.stringify(v2) });
      expect((await service.read(stalled._id, system())).versionId).toBe(1);
      // A client updating from version 1 learns it is stale, and the record is repaired.
      await expect(service.replace(stalled._id, 1, { ...v2, language: 'es' }, system())).rejects.toMatchObject({ output: { statusCode: 412 } });
      expect((await service.read(stalled._id, system())).versionId).toBe(2);
      expect((await service.replace(stalled._id, 2, { ...v2, language: 'es' }, system())).versionId).toBe(3);
    });

    it('store a new document as one record holding version 1, and read documents of earlier releases whose version 1 is apart', async () => {
      const pushed = await service.push(documentFor('P10', '2024-01-01T10:00:00Z'), system());
      expect(await store.database.collection('summary_versions').findOne({ _id: `${pushed.record._id}@1` })).toBeNull();
      // A record as earlier releases wrote it: no bytes inside, version 1 in summary_versions.
      const bundle = documentFor('P11', '2024-01-01T10:00:00Z');
      const { patientId } = await store.patients.resolve(['urn:test:national|P11']);
      const lastUpdated = new Date();
      const legacy = { _id: 'legacy-1', identifierKey: 'urn:test:documents|P11-2024-01-01T10:00:00Z', patientId, timestampMs: Date.parse('2024-01-01T10:00:00Z'), versionId: 1, lastUpdated, contentHash: '' };
      await store.database.collection('summaries').insertOne(legacy);
      await store.database
        .collection<{ _id: string; [field: string]: unknown }>('summary_versions')
        .insertOne({ _id: 'legacy-1@1', summaryId: 'legacy-1', versionId: 1, lastUpdated, timestampMs: legacy.timestampMs, contentHash: '', profileSet: sharedValidator().profileSet, json: JSON.stringify({ ...bundle, id: 'legacy-1' }) });
      const read = await service.read('legacy-1', system());
      expect(JSON.parse(read.bytes.toString()).identifier).toEqual(bundle['identifier']);
      // Its retry is recognised from the bytes apart, and an update goes on from there.
      expect((await service.push(bundle, system())).created).toBe(false);
      const updated = await service.replace('legacy-1', 1, { ...bundle, language: 'de-AT' }, system());
      expect(updated.versionId).toBe(2);
      expect((await service.history('legacy-1', system())).map((h) => h.versionId)).toEqual([2, 1]);
    });

    it('search patients by identifier parts, names, birth date and gender', async () => {
      await service.push(documentFor('P8', '2024-01-01T10:00:00Z'), system());
      const byValue = await store.patients.search({ identifierValue: 'P8' }, 0, 10);
      expect(byValue.total).toBe(1);
      const bySystem = await store.patients.search({ identifierSystem: 'urn:test:national' }, 0, 100);
      expect(bySystem.total).toBeGreaterThanOrEqual(8);
      const patient = JSON.parse((await store.patients.findVisible(byValue.patients[0]!._id, await services.gate.open(system(), byValue.patients[0]!._id)))!.json);
      const family = String(patient.name[0].family);
      const byName = await store.patients.search({ familyPrefix: family.slice(0, 3).toLowerCase(), identifierValue: 'P8' }, 0, 10);
      expect(byName.total).toBe(1);
      const byBirth = await store.patients.search({ birthDate: { op: 'eq', value: String(patient.birthDate).slice(0, 4) }, identifierValue: 'P8' }, 0, 10);
      expect(byBirth.total).toBe(1);
      const wrongGender = await store.patients.search({ gender: patient.gender === 'male' ? 'female' : 'male', identifierValue: 'P8' }, 0, 10);
      expect(wrongGender.total).toBe(0);
      const injected = await store.patients.search({ familyPrefix: '.*' }, 0, 10);
      expect(injected.total).toBe(0);
    });
  });
});
