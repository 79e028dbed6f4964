import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MemoryDatabase } from '../../src/repositories/memory-database.js';
import type { Backend } from '../support/stores.js';
import { bodyOf, buildTestNode, documentFor, send, type TestNode } from '../support/test-node.js';

/** The embedded store, kept at hand to read its counters. */
function embedded(): Backend & { database?: MemoryDatabase } {
  const backend: Backend & { database?: MemoryDatabase } = {
    name: 'embedded store',
    async open() {
      const database = new MemoryDatabase();
      backend.database = database;
      return { database, cleanup: () => database.close() };
    },
  };
  return backend;
}

describe('the embedded store on the hot paths, as it grows', () => {
  const backend = embedded();
  let node: TestNode;
  let pushed = 0;

  const push = async (): Promise<string> => {
    const nationalId = `scale-${pushed++}`;
    const response = await send(node.server, 'POST', '/fhir/Bundle', documentFor(nationalId, '2026-01-01T00:00:00Z'));
    expect(response.statusCode).toBe(201);
    return nationalId;
  };
  /** Documents the store decoded to answer `work`. */
  const decodedBy = async (work: () => Promise<unknown>): Promise<number> => {
    const before = backend.database!.decodedDocuments();
    await work();
    return backend.database!.decodedDocuments() - before;
  };
  const summaryOf = async (nationalId: string): Promise<void> => {
    const response = await node.server.inject({ url: `/fhir/Patient/$summary?identifier=urn:test:national|${nationalId}` });
    expect(response.statusCode).toBe(200);
    expect(bodyOf(response)['resourceType']).toBe('Bundle');
  };

  beforeAll(async () => {
    node = await buildTestNode(backend);
  });
  afterAll(() => node.cleanup());

  it('decodes as many stored documents per push and per $summary with 5 documents stored as with 85', async () => {
    for (let i = 0; i < 5; i++) await push();
    await summaryOf('scale-0');
    const small = { push: await decodedBy(push), summary: await decodedBy(() => summaryOf('scale-1')) };
    for (let i = 0; i < 80; i++) await push();
    await summaryOf('scale-60');
    const large = { push: await decodedBy(push), summary: await decodedBy(() => summaryOf('scale-61')) };
    expect(large).toEqual(small);
    // Direct look-ups: a handful of documents, not the store.
    expect(large.push).toBeLessThan(10);
    expect(large.summary).toBeLessThan(10);
    expect(backend.database!.storedDocuments()).toBeGreaterThan(5 * 85);
  });

  it('returns a fresh copy on every read: changing what it returned changes nothing stored', async () => {
    const database = backend.database!;
    const things = database.collection<{ _id: string; list: string[]; at: Date }>('things');
    await things.insertOne({ _id: 'a', list: ['x'], at: new Date(0) });
    const first = (await things.findOne({ _id: 'a' }))!;
    first.list.push('y');
    first.at.setTime(5);
    const again = (await things.findOne({ _id: 'a' }))!;
    expect(again.list).toEqual(['x']);
    expect(again.at).toEqual(new Date(0));
  });

  it('answers a scan on a field (the sweep of expired token uses) decoding only what it returns, following inserts, updates and deletes', async () => {
    const database = new MemoryDatabase();
    const uses = database.collection<{ _id: string; expiresAt: Date }>('token_uses');
    const at = (minute: number): Date => new Date(Date.UTC(2026, 0, 1, 0, minute));
    for (let i = 0; i < 40; i++) await uses.insertOne({ _id: `u${i}`, expiresAt: at(i) });
    expect(await uses.deleteMany({ expiresAt: { $lt: at(5) } })).toBe(5);
    // Changed since the first scan: a new use, one moved earlier, one deleted.
    const late = { _id: 'late', expiresAt: at(1) };
    await uses.insertOne(late);
    late.expiresAt.setTime(at(100).getTime());
    await uses.updateOne({ _id: 'u30' }, { $set: { expiresAt: at(2) } });
    await uses.deleteOne({ _id: 'u6' });
    const before = database.decodedDocuments();
    const expired = (await uses.find({ expiresAt: { $lt: at(8) } })).map((u) => u._id).sort();
    expect(expired).toEqual(['late', 'u30', 'u5', 'u7']);
    expect(database.decodedDocuments() - before).toBe(4);
  });
});
