import type { DocumentDatabase } from '../../src/repositories/document-collection.js';
import { InterceptingDatabase } from './intercepting-database.js';
import type { Backend } from './stores.js';

/**
 * A database that notes every operation (`consents.find`, `request_counts.insertEach`) in the
 * order they are called: what a request costs in round trips, comparable between requests.
 */
export class CountingDatabase extends InterceptingDatabase {
  operations: string[] = [];
  constructor(inner: DocumentDatabase) {
    super(inner, (operation, call) => {
      this.operations.push(operation);
      return call();
    });
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
