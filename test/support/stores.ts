import { randomUUID } from 'node:crypto';
import type { DocumentDatabase } from '../../src/repositories/document-collection.js';
import { MemoryDatabase } from '../../src/repositories/memory-database.js';
import { MongoDatabase } from '../../src/repositories/mongo-database.js';

/** A database backend the contract and API suites run on. */
export interface Backend {
  name: string;
  /** A fresh, empty database; dropped by the returned cleanup. */
  open(): Promise<{ database: DocumentDatabase; cleanup(): Promise<void> }>;
}

/** The embedded default store. */
export const memoryBackend: Backend = {
  name: 'embedded store',
  async open() {
    const database = new MemoryDatabase();
    return { database, cleanup: () => database.close() };
  },
};

/**
 * The MongoDB-wire server provided by the global set-up. Opening fails with instructions when
 * none could be had, so the MongoDB suites fail loudly rather than being skipped.
 */
export const mongoBackend: Backend = {
  name: 'MongoDB',
  async open() {
    const uri = process.env['PONTIS_TEST_MONGODB_URI'];
    if (!uri) throw new Error(process.env['PONTIS_TEST_MONGODB_MISSING'] ?? 'no MongoDB test server configured');
    const database = await MongoDatabase.connect(uri, `pontis_test_${randomUUID().slice(0, 8)}`);
    return {
      database,
      async cleanup() {
        await database.drop();
        await database.close();
      },
    };
  },
};

/** Both backends, for suites that must hold on each. */
export const backends: readonly Backend[] = [memoryBackend, mongoBackend];
