import type { DocumentDatabase } from '../../src/repositories/document-collection.js';
import { InterceptingDatabase } from './intercepting-database.js';

/**
 * A database whose chosen operations fail (`consents.find`, `audit_events.insertMany`, `ping`), as
 * a store that is down or unreachable would: for tests that the node fails closed.
 */
export class FaultyDatabase extends InterceptingDatabase {
  readonly failing = new Set<string>();
  constructor(inner: DocumentDatabase) {
    super(inner, (operation, call) => (this.failing.has(operation) ? Promise.reject(new Error(`simulated failure of ${operation}`)) : call()));
  }
}
