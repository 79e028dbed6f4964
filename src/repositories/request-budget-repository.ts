import type { DocumentCollection, DocumentDatabase } from './document-collection.js';

interface WindowCount {
  /** `<kind>:<key>:<window start>`. */
  _id: string;
  count: number;
  expiresAt: Date;
}

const SWEEP_INTERVAL_MS = 60_000;

/**
 * Requests counted per requester and per patient over fixed windows, in the database, so that
 * every instance sharing it enforces one limit.
 */
export class RequestBudgetRepository {
  private readonly counts: DocumentCollection<WindowCount>;
  private nextSweep = 0;
  constructor(database: DocumentDatabase) {
    this.counts = database.collection<WindowCount>('request_counts');
  }

  /** Counts one request for `key` in the window starting at `windowStart`; resolves to the count so far. */
  async count(key: string, windowStart: number, windowMs: number): Promise<number> {
    const now = Date.now();
    if (now >= this.nextSweep) {
      this.nextSweep = now + SWEEP_INTERVAL_MS;
      void this.counts.deleteMany({ expiresAt: { $lt: new Date(now) } }).catch(() => undefined);
    }
    return this.counts.increment(`${key}:${windowStart}`, { expiresAt: new Date(windowStart + 2 * windowMs) });
  }
}
