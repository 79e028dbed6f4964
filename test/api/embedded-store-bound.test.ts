import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../src/config.js';
import { StoreFullError } from '../../src/repositories/document-collection.js';
import { MemoryDatabase } from '../../src/repositories/memory-database.js';
import type { Backend } from '../support/stores.js';
import { bodyOf, buildTestNode, documentFor, send, type Json, type TestNode } from '../support/test-node.js';

/** The embedded store bounded at `maxBytes`. */
function boundedBackend(maxBytes: number): Backend & { database?: MemoryDatabase } {
  const backend: Backend & { database?: MemoryDatabase } = {
    name: `embedded store of ${maxBytes} bytes`,
    async open() {
      const database = new MemoryDatabase({ maxBytes });
      backend.database = database;
      return { database, cleanup: () => database.close() };
    },
  };
  return backend;
}

/** How many documents each collection of patient data holds. */
async function patientDataCounts(database: MemoryDatabase): Promise<Record<string, number>> {
  const names = ['summary_versions', 'summaries', 'patients', 'patient_changes'];
  const counts = await Promise.all(names.map((name) => database.collection(name).count({})));
  // Identifier claims share `claims` with write tokens' uses (a refused push's token is still used up).
  const identifierClaims = await database.collection('claims').count({ patientId: { $exists: true } });
  return { ...Object.fromEntries(names.map((name, i) => [name, counts[i]!])), identifierClaims };
}

describe('the embedded store bound (PONTIS_EMBEDDED_MAX_BYTES)', () => {
  const backend = boundedBackend(1024 * 1024);
  let node: TestNode;
  const stored: string[] = [];
  let refused: Awaited<ReturnType<typeof send>>;
  let before: Record<string, number>;
  let usedBefore: number;

  beforeAll(async () => {
    node = await buildTestNode(backend);
    // Pushes of distinct new patients until the store refuses one.
    for (let i = 0; i < 200; i++) {
      const database = backend.database!;
      before = await patientDataCounts(database);
      usedBefore = database.capacity().usedBytes;
      const response = await send(node.server, 'POST', '/fhir/Bundle', documentFor(`bound-${randomUUID()}`, '2026-01-01T00:00:00Z'));
      if (response.statusCode === 201) {
        stored.push(bodyOf<Json>(response)['id'] as string);
        continue;
      }
      refused = response;
      break;
    }
  });

  afterAll(() => node.cleanup());

  it('stores documents up to the bound, then refuses the next push with 507 and an OperationOutcome', () => {
    expect(stored.length).toBeGreaterThan(3);
    expect(refused.statusCode).toBe(507);
    const outcome = bodyOf<Json>(refused);
    expect(outcome['resourceType']).toBe('OperationOutcome');
    expect(outcome['issue'][0]).toMatchObject({ severity: 'error', code: 'no-store' });
    expect(outcome['issue'][0].diagnostics).toMatch(/full.*nothing of this write was stored/);
  });

  it('stores nothing of a refused push: no version, record, patient, identifier claim or change entry', async () => {
    expect(await patientDataCounts(backend.database!)).toEqual(before);
    // Only its audit record was written, into the room kept for records.
    const capacity = backend.database!.capacity();
    expect(capacity.usedBytes).toBeGreaterThanOrEqual(usedBefore);
    expect(capacity.usedBytes).toBeLessThanOrEqual(capacity.maxBytes);
    expect(capacity.reservedBytes).toBe(0);
  });

  it('keeps refusing pushes while reads go on', async () => {
    const again = await send(node.server, 'POST', '/fhir/Bundle', documentFor(`bound-${randomUUID()}`, '2026-01-01T00:00:00Z'));
    expect(again.statusCode).toBe(507);
    for (const id of stored.slice(0, 3)) {
      const read = await node.server.inject({ method: 'GET', url: `/fhir/Bundle/${id}` });
      expect(read.statusCode).toBe(200);
      expect(bodyOf<Json>(read)['id']).toBe(id);
    }
    const search = await node.server.inject({ method: 'GET', url: '/fhir/Patient?identifier=urn:test:national|nobody' });
    expect(search.statusCode).toBe(200);
    // $validate stores nothing: it is answered as usual.
    const validated = await send(node.server, 'POST', '/fhir/Bundle/$validate', documentFor(`bound-${randomUUID()}`, '2026-01-01T00:00:00Z'));
    expect(validated.statusCode).toBe(200);
  });

  it('refuses an unauthenticated write with 401, not with the state of the store', async () => {
    const anonymous = await send(node.server, 'POST', '/fhir/Bundle', documentFor(`bound-${randomUUID()}`, '2026-01-01T00:00:00Z'), { authorization: 'none' });
    expect(anonymous.statusCode).toBe(401);
  });
});

describe('MemoryDatabase capacity', () => {
  it('refuses an insert of patient data past its share with StoreFullError, storing nothing of it', async () => {
    const database = new MemoryDatabase({ maxBytes: 64 * 1024 });
    const versions = database.collection<{ _id: string; json: string }>('summary_versions');
    await versions.insertOne({ _id: 'a@1', json: 'x'.repeat(50_000) });
    await expect(versions.insertOne({ _id: 'b@1', json: 'x'.repeat(10_000) })).rejects.toBeInstanceOf(StoreFullError);
    expect(await versions.count({})).toBe(1);
    expect(await versions.findOne({ _id: 'b@1' })).toBeNull();
    // Records (audit) may still use the eighth kept for them.
    await database.collection<{ _id: string; text: string }>('audit_events').insertOne({ _id: 'chain:1', text: 'y'.repeat(8000) });
    expect(database.capacity().usedBytes).toBeGreaterThan(database.capacity().patientDataBytes);
    await expect(database.collection<{ _id: string; text: string }>('audit_events').insertOne({ _id: 'chain:2', text: 'y'.repeat(20_000) })).rejects.toBeInstanceOf(StoreFullError);
  });

  it('counts characters beyond Latin-1 twice, as V8 keeps them', async () => {
    const database = new MemoryDatabase();
    await database.collection<{ _id: string; name: string }>('patients').insertOne({ _id: 'latin', name: 'é'.repeat(10_000) });
    const latin = database.capacity().usedBytes;
    await database.collection<{ _id: string; name: string }>('patients').insertOne({ _id: 'greek', name: 'Ω'.repeat(10_000) });
    expect(database.capacity().usedBytes - latin).toBeGreaterThan(1.9 * latin);
  });

  it('gives back what a deleted document held, and reservations once released', async () => {
    const database = new MemoryDatabase({ maxBytes: 256 * 1024 });
    const versions = database.collection<{ _id: string; json: string }>('summary_versions');
    await versions.insertOne({ _id: 'a@1', json: 'x'.repeat(100_000) });
    expect(() => database.reserve(150_000)).toThrow(StoreFullError);
    await versions.deleteOne({ _id: 'a@1' });
    expect(database.capacity().usedBytes).toBe(0);
    const release = database.reserve(150_000);
    expect(() => database.reserve(100_000)).toThrow(StoreFullError);
    release();
    release();
    expect(database.capacity().reservedBytes).toBe(0);
    database.reserve(100_000)();
  });

  it('states its bound when it describes itself', async () => {
    expect(await new MemoryDatabase({ maxBytes: 512 * 1024 * 1024 }).describe()).toMatch(/holds at most 512 MiB \(PONTIS_EMBEDDED_MAX_BYTES\)/);
  });
});

describe('PONTIS_EMBEDDED_MAX_BYTES', () => {
  // The default from the machine's memory, with faked readings: test/config/embedded-store-bounds.test.ts.
  it("defaults to half of what this machine's memory holds and refuses more than all of it, naming the variable", () => {
    const defaults = loadConfig({});
    expect(defaults.embeddedMaxBytes).toBeGreaterThan(0);
    expect(loadConfig({ PONTIS_EMBEDDED_MAX_BYTES: '8388608' }).embeddedMaxBytes).toBe(8388608);
    expect(() => loadConfig({ PONTIS_EMBEDDED_MAX_BYTES: String(defaults.embeddedMaxBytes * 2 + 2) })).toThrow(/PONTIS_EMBEDDED_MAX_BYTES.*must be at most/);
    expect(() => loadConfig({ PONTIS_EMBEDDED_MAX_BYTES: '1000' })).toThrow(/PONTIS_EMBEDDED_MAX_BYTES/);
  });
});
