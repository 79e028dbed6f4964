import { describe, expect, it } from '@jest/globals';
import type { DocumentCollection, DocumentDatabase } from '../../src/repositories/document-collection.js';
import { DocumentCache } from '../../src/repositories/document-cache.js';
import { MemoryDatabase } from '../../src/repositories/memory-database.js';
import { SummaryRepository, type SummaryRecord } from '../../src/repositories/summary-repository.js';

/** A database that counts the look-ups made on the patients' changes, and any query of `summaries`. */
function countingDatabase(inner: DocumentDatabase = new MemoryDatabase()): { database: DocumentDatabase; queries: () => number; scans: () => number } {
  let count = 0;
  let scans = 0;
  const database = Object.create(inner) as DocumentDatabase;
  database.collection = <T extends { _id: string }>(name: string): DocumentCollection<T> => {
    const collection = inner.collection<T>(name);
    if (name !== 'patient_changes' && name !== 'summaries') return collection;
    return Object.assign(Object.create(collection) as DocumentCollection<T>, {
      findOne: (...args: Parameters<DocumentCollection<T>['findOne']>) => {
        if (name === 'summaries') scans++;
        else count++;
        return collection.findOne(...args);
      },
    });
  };
  return { database, queries: () => count, scans: () => scans };
}

const record = (id: string, timestampMs: number, patientId = 'patient-1'): SummaryRecord => ({
  _id: id,
  identifierKey: `urn:test|${id}`,
  patientId,
  timestampMs,
  versionId: 1,
  lastUpdated: new Date(),
  contentHash: id,
});

/** A push's storage steps: the document, then its entry among the patient's changes. */
async function stored(summaries: SummaryRepository, document: SummaryRecord): Promise<void> {
  await summaries.create(document, '{}', 'test');
  await summaries.list(document);
}

describe("a patient's current summary", () => {
  it('is read by _id from the patient\'s changes, once for concurrent readers, then reused within the TTL', async () => {
    const { database, queries, scans } = countingDatabase();
    const writer = new SummaryRepository(database, new DocumentCache(1024), 60_000);
    await stored(writer, record('a', 1));
    const summaries = new SummaryRepository(database, new DocumentCache(1024), 60_000);
    const answers = await Promise.all(Array.from({ length: 50 }, () => summaries.currentForPatient('patient-1')));
    expect(new Set(answers.map((a) => a?.summaryId))).toEqual(new Set(['a']));
    // The first change, then the next position (not there).
    expect(queries()).toBe(2);
    await summaries.currentForPatient('patient-1');
    expect(queries()).toBe(2);
    expect(scans()).toBe(0);
  });

  it("is this instance's own newest write at once", async () => {
    const { database } = countingDatabase();
    const summaries = new SummaryRepository(database, new DocumentCache(1024), 60_000);
    await stored(summaries, record('a', 1));
    expect((await summaries.currentForPatient('patient-1'))?.summaryId).toBe('a');
    await stored(summaries, record('b', 2));
    expect((await summaries.currentForPatient('patient-1'))?.summaryId).toBe('b');
    // An older document pushed later does not replace the newer one.
    await stored(summaries, record('c', 0));
    expect((await summaries.currentForPatient('patient-1'))?.summaryId).toBe('b');
  });

  it("is another instance's write once the TTL has passed, and every time with a TTL of 0", async () => {
    const shared = new MemoryDatabase();
    const { database, queries } = countingDatabase(shared);
    const writer = new SummaryRepository(shared, new DocumentCache(1024), 0);
    const reader = new SummaryRepository(database, new DocumentCache(1024), 0);
    await stored(writer, record('a', 1, 'patient-2'));
    expect((await reader.currentForPatient('patient-2'))?.summaryId).toBe('a');
    await stored(writer, record('b', 2, 'patient-2'));
    const before = queries();
    expect((await reader.currentForPatient('patient-2'))?.summaryId).toBe('b');
    await reader.currentForPatient('patient-2');
    // Each read probes again: one position found, one not, then one not.
    expect(queries() - before).toBe(3);
  });
});
