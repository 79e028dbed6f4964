import type { DocumentCollection, DocumentDatabase } from '../../src/repositories/document-collection.js';
import type { Backend } from './stores.js';

/**
 * A database that notes every operation (`consents.find`, `request_counts.insertEach`) in the
 * order they are called: what a request costs in round trips, comparable between requests.
 */
export class CountingDatabase implements DocumentDatabase {
  operations: string[] = [];
  constructor(private readonly inner: DocumentDatabase) {}

  get kind(): DocumentDatabase['kind'] {
    return this.inner.kind;
  }

  collection<T extends { _id: string }>(name: string): DocumentCollection<T> {
    const target = this.inner.collection<T>(name);
    return new Proxy(target, {
      get: (object, property, receiver) => {
        const value = Reflect.get(object, property, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          this.operations.push(`${name}.${String(property)}`);
          return (value as (...a: unknown[]) => unknown).apply(object, args);
        };
      },
    });
  }

  describe(): Promise<string> {
    return this.inner.describe();
  }
  ping(): Promise<void> {
    return this.inner.ping();
  }
  drop(): Promise<void> {
    return this.inner.drop();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** `backend` with its databases wrapped in a {@link CountingDatabase}, the last one opened kept in `last`. */
export function counting(backend: Backend): Backend & { last?: CountingDatabase } {
  const wrapped: Backend & { last?: CountingDatabase } = {
    name: `${backend.name} (counted)`,
    async open() {
      const { database, cleanup } = await backend.open();
      wrapped.last = new CountingDatabase(database);
      return { database: wrapped.last, cleanup };
    },
  };
  return wrapped;
}
