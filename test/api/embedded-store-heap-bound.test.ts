import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { StoreFullError } from '../../src/repositories/document-collection.js';
import { MemoryDatabase } from '../../src/repositories/memory-database.js';
import { captureLogs, type LogCapture } from '../support/log-capture.js';
import type { Backend } from '../support/stores.js';
import { bodyOf, buildTestNode, documentFor, send, type Json, type TestNode } from '../support/test-node.js';

const KIB = 1024;
const MIB = 1024 * KIB;

/**
 * The embedded store keeps its documents' bytes off the V8 heap, and on it only their entries
 * (maps, `_id`s, Buffer objects, index entries): that part has a bound of its own, a share of the
 * heap limit, met before the bytes' bound when documents are small or the heap is.
 */
describe('MemoryDatabase heap bound', () => {
  it("refuses patient data past the heap's share with StoreFullError, storing nothing of it, though its bytes would fit", async () => {
    const database = new MemoryDatabase({ maxBytes: 64 * MIB, maxHeapBytes: 16 * KIB });
    const patients = database.collection<{ _id: string }>('patients');
    let stored = 0;
    let refusal: unknown;
    for (; stored < 100; stored++) {
      try {
        await patients.insertOne({ _id: `p${stored}` });
      } catch (error) {
        refusal = error;
        break;
      }
    }
    expect(refusal).toBeInstanceOf(StoreFullError);
    expect(String((refusal as Error).message)).toMatch(/heap bound/);
    expect(stored).toBeGreaterThan(5);
    expect(await patients.count({})).toBe(stored);
    const capacity = database.capacity();
    expect(capacity.usedHeapBytes).toBeLessThanOrEqual(capacity.patientDataHeapBytes);
    expect(capacity.usedBytes).toBeLessThan(capacity.patientDataBytes / 100);
    // Records may go on into the heap's last eighth.
    await database.collection<{ _id: string }>('audit_events').insertOne({ _id: 'chain:1' });
    expect(database.capacity().usedHeapBytes).toBeGreaterThan(capacity.patientDataHeapBytes - 1000);
  });

  it('gives back the heap a deleted document held, and refuses a reservation the heap has no room for', async () => {
    const database = new MemoryDatabase({ maxBytes: 64 * MIB, maxHeapBytes: 24 * KIB });
    const versions = database.collection<{ _id: string; json: string }>('summary_versions');
    await versions.insertOne({ _id: 'a@1', json: 'x'.repeat(1000) });
    const held = database.capacity().usedHeapBytes;
    expect(held).toBeGreaterThan(0);
    // 21 KiB of patient data's heap: one write's room (16 KiB) besides what is held, not two.
    const release = database.reserve(1000);
    expect(database.capacity().reservedHeapBytes).toBeGreaterThan(0);
    expect(() => database.reserve(1000)).toThrow(/heap bound/);
    release();
    expect(database.capacity().reservedHeapBytes).toBe(0);
    await versions.deleteOne({ _id: 'a@1' });
    expect(database.capacity()).toMatchObject({ usedBytes: 0, usedHeapBytes: 0 });
  });

  it('says how many documents each bound lets it hold, and which is met first', async () => {
    const heapFirst = await new MemoryDatabase({ maxBytes: 8 * 1024 * MIB, maxHeapBytes: 256 * MIB }).describe();
    expect(heapFirst).toMatch(/holds at most 8192 MiB \(PONTIS_EMBEDDED_MAX_BYTES\), its documents kept off the V8 heap, and 256 MiB of the heap/);
    expect(heapFirst).toMatch(/about [\d,]+ minimal or [\d,]+ all-sections IPS documents, each of its own patient; the heap bound is met first/);
    const bytesFirst = await new MemoryDatabase({ maxBytes: 512 * MIB, maxHeapBytes: 2048 * MIB }).describe();
    expect(bytesFirst).not.toMatch(/met first/);
    const [, minimal, allSections] = /about ([\d,]+) minimal or ([\d,]+) all-sections/.exec(bytesFirst)!;
    expect(Number(minimal!.replace(/,/g, ''))).toBeGreaterThan(4 * Number(allSections!.replace(/,/g, '')));
  });
});

describe('the embedded store heap bound through the API', () => {
  let database: MemoryDatabase;
  const backend: Backend = {
    name: 'embedded store with a small heap bound',
    async open() {
      database = new MemoryDatabase({ maxBytes: 64 * MIB, maxHeapBytes: 160 * KIB });
      return { database, cleanup: () => database.close() };
    },
  };
  let node: TestNode;
  const stored: string[] = [];
  let refused: Awaited<ReturnType<typeof send>> | undefined;
  let logs: LogCapture;

  beforeAll(async () => {
    logs = captureLogs();
    node = await buildTestNode(backend, {}, logs.logger);
    for (let i = 0; i < 100 && !refused; i++) {
      const response = await send(node.server, 'POST', '/fhir/Bundle', documentFor(`heap-${randomUUID()}`, '2026-01-01T00:00:00Z'));
      if (response.statusCode === 201) stored.push(bodyOf<Json>(response)['id'] as string);
      else refused = response;
    }
  });
  afterAll(() => node.cleanup());

  it('refuses a push with 507 once the heap bound is met, long before the bytes bound, and reads go on', async () => {
    expect(stored.length).toBeGreaterThan(3);
    expect(refused?.statusCode).toBe(507);
    expect(bodyOf<Json>(refused!)['issue'][0]).toMatchObject({ code: 'no-store', diagnostics: expect.stringMatching(/full.*nothing of this write was stored/) });
    const capacity = database.capacity();
    expect(capacity.usedBytes).toBeLessThan(capacity.patientDataBytes / 4);
    expect(capacity.reservedHeapBytes).toBe(0);
    const read = await node.server.inject({ method: 'GET', url: `/fhir/Bundle/${stored[0]}` });
    expect(read.statusCode).toBe(200);
  });

  it('tells the operator which bound was met, once', () => {
    const full = logs.take().filter((line) => line.includes('EMBEDDED STORE FULL'));
    expect(full).toHaveLength(1);
    expect(JSON.parse(full[0]!)).toMatchObject({ level: 40, bound: expect.stringMatching(/heap bound/), msg: expect.stringMatching(/--max-old-space-size/) });
  });
});
