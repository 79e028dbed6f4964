import { describe, expect, it } from '@jest/globals';
import type { DocumentCollection, DocumentDatabase } from '../../src/repositories/document-collection.js';
import { DocumentCache } from '../../src/repositories/document-cache.js';
import { MemoryDatabase } from '../../src/repositories/memory-database.js';
import { SummaryRepository, type SummaryRecord } from '../../src/repositories/summary-repository.js';

/** A database that counts the queries made on `summaries`. */
function countingDatabase(): { database: DocumentDatabase; queries: () => number } {
  const inner = new MemoryDatabase();
  let count = 0;
  const database = Object.create(inner) as DocumentDatabase;
  database.collection = <T extends { _id: string }>(name: string): DocumentCollection<T> => {
    const collection = inner.collection<T>(name);
    if (name !== 'summaries') return collection;
    return Object.assign(Object.create(collection) as DocumentCollection<T>, {
      findOne: (...args: Parameters<DocumentCollection<T>['findOne']>) => {
        count++;
        return collection.findOne(...args);
      },
    });
  };
  return { database, queries: () => count };
}

const record = (id: string, timestampMs: number): SummaryRecord => ({
  _id: id,
  identifierKey: `urn:test|${id}`,
  patientId: 'patient-1',
  timestampMs,
  versionId: 1,
  lastUpdated: new Date(),
  contentHash: id,
});

describe("a patient's current summary", () => {
  it('is asked of the database once for concurrent readers, then reused within the TTL', async () => {
    const { database, queries } = countingDatabase();
    const summaries = new SummaryRepository(database, new DocumentCache(1024), 60_000);
    await summaries.create(record('a', 1), '{}', 'test');
    const answers = await Promise.all(Array.from({ length: 50 }, () => summaries.currentForPatient('patient-1')));
    expect(new Set(answers.map((a) => a?.summaryId))).toEqual(new Set(['a']));
    expect(queries()).toBe(1);
    await summaries.currentForPatient('patient-1');
    expect(queries()).toBe(1);
  });

  it("is asked again after this instance's own write for the patient", async () => {
    const { database, queries } = countingDatabase();
    const summaries = new SummaryRepository(database, new DocumentCache(1024), 60_000);
    await summaries.create(record('a', 1), '{}', 'test');
    expect((await summaries.currentForPatient('patient-1'))?.summaryId).toBe('a');
    await summaries.create(record('b', 2), '{}', 'test');
    expect((await summaries.currentForPatient('patient-1'))?.summaryId).toBe('b');
    expect(queries()).toBe(2);
  });

  it('is asked every time with a TTL of 0', async () => {
    const { database, queries } = countingDatabase();
    const summaries = new SummaryRepository(database, new DocumentCache(1024), 0);
    await summaries.create(record('a', 1), '{}', 'test');
    await summaries.currentForPatient('patient-1');
    await summaries.currentForPatient('patient-1');
    expect(queries()).toBe(2);
  });
});
