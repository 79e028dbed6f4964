import { DuplicateKeyError, type DocumentCollection, type DocumentDatabase } from './document-collection.js';
import { GroupWriter } from './group-writer.js';

/** One request counted: the n-th of its key and window. */
interface CountedRequest {
  /** `<key>:<window start>#<n>`: unique, so two requests never take the same n. */
  _id: string;
  window: string;
  n: number;
  expiresAt: Date;
}

const SWEEP_INTERVAL_MS = 60_000;
const MAX_ATTEMPTS = 50;

/**
 * Requests counted per requester and per patient over fixed windows, in the database, so that
 * every instance sharing it enforces one limit. Each request claims the next number of its
 * window by inserting it: an insert of a unique `_id` is atomic on MongoDB and on FerretDB
 * (whose `$inc` is not, under concurrency), so no count is lost.
 */
export class RequestBudgetRepository {
  private readonly counted: DocumentCollection<CountedRequest>;
  /** Last number this instance took per window: usually the next insert succeeds first time. */
  private readonly last = new Map<string, { n: number; expiresAt: number }>();
  /** Inserts of concurrent requests go out together; each learns whether its own went in. */
  private readonly batcher: GroupWriter<CountedRequest, boolean>;
  private nextSweep = 0;
  constructor(database: DocumentDatabase) {
    this.counted = database.collection<CountedRequest>('request_counts');
    this.batcher = new GroupWriter((docs) => this.counted.insertEach(docs));
  }

  /** The next number of `window` above both this instance's last and `atLeast`. */
  private take(window: string, atLeast: number, expiresAt: Date): number {
    const n = Math.max(this.last.get(window)?.n ?? 0, atLeast) + 1;
    this.last.set(window, { n, expiresAt: expiresAt.getTime() });
    return n;
  }

  /** Counts one request for `key` in the window starting at `windowStart`; resolves to the count so far. */
  async count(key: string, windowStart: number, windowMs: number): Promise<number> {
    const now = Date.now();
    if (now >= this.nextSweep) {
      this.nextSweep = now + SWEEP_INTERVAL_MS;
      // Forget only windows that are over: forgetting a current one would send every request
      // of it to the database for the highest number taken.
      for (const [window, last] of this.last) if (last.expiresAt < now) this.last.delete(window);
      void this.counted.deleteMany({ expiresAt: { $lt: new Date(now) } }).catch(() => undefined);
    }
    const window = `${key}:${windowStart}`;
    const expiresAt = new Date(windowStart + 2 * windowMs);
    // Numbers are taken before any await, so requests of this instance never collide; only
    // another instance's numbers send us to the database for the highest one taken.
    let n = this.take(window, 0, expiresAt);
    // The common case goes out with the other requests' counts in one write.
    if (await this.batcher.submit({ _id: `${window}#${n}`, window, n, expiresAt })) return n;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const top = await this.counted.findOne({ window }, { sort: { n: -1 }, fields: ['n'] });
      n = this.take(window, top?.n ?? n, expiresAt);
      try {
        await this.counted.insertOne({ _id: `${window}#${n}`, window, n, expiresAt });
        return n;
      } catch (error) {
        if (!(error instanceof DuplicateKeyError)) throw error;
      }
    }
    throw new Error('request budget: too much contention on one counter');
  }
}
