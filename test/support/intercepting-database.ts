import type { DocumentCollection, DocumentDatabase } from '../../src/repositories/document-collection.js';

/**
 * A database whose collection operations pass through `intercept(operation, call)` first
 * (`operation` is `<collection>.<method>`): the one place test doubles that watch or break a
 * store (counting round trips, simulated failures) wrap the real one.
 */
export class InterceptingDatabase implements DocumentDatabase {
  constructor(
    protected readonly inner: DocumentDatabase,
    private readonly intercept: (operation: string, call: () => unknown) => unknown,
  ) {}

  get kind(): DocumentDatabase['kind'] {
    return this.inner.kind;
  }

  collection<T extends { _id: string }>(name: string): DocumentCollection<T> {
    const target = this.inner.collection<T>(name);
    return new Proxy(target, {
      get: (object, property, receiver) => {
        const value = Reflect.get(object, property, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => this.intercept(`${name}.${String(property)}`, () => (value as (...a: unknown[]) => unknown).apply(object, args));
      },
    });
  }

  ping(): Promise<void> {
    return this.intercept('ping', () => this.inner.ping()) as Promise<void>;
  }
  describe(): Promise<string> {
    return this.inner.describe();
  }
  drop(): Promise<void> {
    return this.inner.drop();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
