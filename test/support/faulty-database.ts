import type { DocumentCollection, DocumentDatabase } from '../../src/repositories/document-collection.js';

/**
 * A database whose chosen operations fail (`consents.find`, `audit_events.insertMany`), as a
 * store that is down or unreachable would: for tests that the node fails closed.
 */
export class FaultyDatabase implements DocumentDatabase {
  readonly failing = new Set<string>();
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
          if (this.failing.has(`${name}.${String(property)}`)) return Promise.reject(new Error(`simulated failure of ${name}.${String(property)}`));
          return (value as (...a: unknown[]) => unknown).apply(object, args);
        };
      },
    });
  }

  describe(): Promise<string> {
    return this.inner.describe();
  }
  ping(): Promise<void> {
    return this.failing.has('ping') ? Promise.reject(new Error('simulated failure of ping')) : this.inner.ping();
  }
  drop(): Promise<void> {
    return this.inner.drop();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
