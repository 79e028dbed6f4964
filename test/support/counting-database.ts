import type { DocumentDatabase } from '../../src/repositories/document-collection.js';
import { InterceptingDatabase } from './intercepting-database.js';
import type { Backend } from './stores.js';

/**
 * A database that notes every operation (`consents.find`, `request_counts.insertEach`) in the
 * order they are called, and the round trips they cost: what a request costs the database,
 * comparable between requests.
 */
export class CountingDatabase extends InterceptingDatabase {
  operations: string[] = [];
  /**
   * The operations grouped by the wait they share: an operation called while another is under
   * way goes with it (one round trip's wait), one called when none is starts the next group. So
   * `waits.length` is the number of sequential round trips.
   */
  waits: string[][] = [];
  /** Operations under way that were called since the last {@link reset}. */
  private underWay = 0;
  private generation = 0;
  /**
   * Operations that run off the request path on their own schedule (the chain head, budget
   * reports, the token sweep): counted in `operations`, never in `waits`.
   */
  offPath: (operation: string) => boolean = (operation) => operation.startsWith('audit_chains.') || operation.startsWith('request_counts.') || operation === 'claims.deleteMany';
  constructor(inner: DocumentDatabase) {
    super(inner, (operation, call) => {
      this.operations.push(operation);
      if (this.offPath(operation)) return call();
      if (this.underWay === 0) this.waits.push([operation]);
      else this.waits.at(-1)!.push(operation);
      this.underWay++;
      const generation = this.generation;
      const settled = () => {
        if (generation === this.generation) this.underWay--;
      };
      let result: unknown;
      try {
        result = call();
      } catch (error) {
        settled();
        throw error;
      }
      if (result instanceof Promise) return result.finally(settled);
      settled();
      return result;
    });
  }

  /** Forgets what was counted; operations still under way are not waited on by the next ones. */
  reset(): void {
    this.operations = [];
    this.waits = [];
    this.underWay = 0;
    this.generation++;
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
