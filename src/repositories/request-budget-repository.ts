import { randomUUID } from 'node:crypto';
import { DuplicateKeyError, type DocumentCollection, type DocumentDatabase } from './document-collection.js';

/**
 * One instance's counts of one window, as it last reported them. Only that instance writes it,
 * so no update ever races another (FerretDB's conditional updates and `$inc` are not atomic).
 */
interface WindowReport {
  /** `<instance>@<window start>`. */
  _id: string;
  instance: string;
  windowStart: number;
  expiresAt: Date;
  /** Requests counted per hashed key (`r:<hash>`, `p:<hash>`): no identifiers. */
  counts: Record<string, number>;
}

/** This instance's counts of one window. */
interface LocalWindow {
  counts: Map<string, number>;
  expiresAt: number;
  /** Counted since the last report. */
  dirty: boolean;
  /** Its report exists in the database (later reports update it). */
  reported: boolean;
}

/** How often an instance that counted something reports its counts and reads the others'. */
export const RECONCILE_INTERVAL_MS = 1000;
const SWEEP_INTERVAL_MS = 60_000;
/** Keys counted per window and instance; beyond it, new keys are refused rather than grow memory without bound. */
const MAX_KEYS_PER_WINDOW = 200_000;

/**
 * Requests counted per requester and per patient over fixed windows. Each instance counts in
 * memory, exactly, with no database round trip on the request's path; every second in which it
 * counted anything it reports its counts (one document per instance and window) and reads the
 * other instances' reports. A key's count is this instance's own plus the others' last reported.
 *
 * Bound across instances: a requester can exceed a limit only by what the other instances
 * accept for it before their next report reaches this one (one reconciliation interval, plus a
 * database round trip), and never by more than what every instance accepts on its own count
 * (limit × instances). A single instance is exact.
 */
export class RequestBudgetRepository {
  private readonly reports: DocumentCollection<WindowReport>;
  private readonly instance = randomUUID();
  private readonly local = new Map<number, LocalWindow>();
  /** Per window start: the sum over other instances of their last reported counts. */
  private others = new Map<number, Map<string, number>>();
  private timer: NodeJS.Timeout | undefined;
  private reconciling: Promise<void> | undefined;
  private nextSweep = 0;

  constructor(database: DocumentDatabase) {
    this.reports = database.collection<WindowReport>('request_counts');
  }

  /** Counts one request for `key` in the window starting at `windowStart`; resolves to the count so far. */
  async count(key: string, windowStart: number, windowMs: number): Promise<number> {
    let window = this.local.get(windowStart);
    if (!window) {
      window = { counts: new Map(), expiresAt: windowStart + 2 * windowMs, dirty: false, reported: false };
      this.local.set(windowStart, window);
    }
    const seen = window.counts.get(key);
    // Fail closed: a flood of distinct keys is counted as over any limit rather than exhaust memory.
    if (seen === undefined && window.counts.size >= MAX_KEYS_PER_WINDOW) return Number.MAX_SAFE_INTEGER;
    const n = (seen ?? 0) + 1;
    window.counts.set(key, n);
    window.dirty = true;
    this.schedule();
    return n + (this.others.get(windowStart)?.get(key) ?? 0);
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // A failed reconciliation is retried at the next count: the counts stay in memory.
      void this.reconcile().catch(() => undefined);
    }, RECONCILE_INTERVAL_MS);
    this.timer.unref();
  }

  /**
   * Reports this instance's changed counts and reads the other instances' reports of the windows
   * it counts in; forgets windows that are over. Runs on its own every second in which this
   * instance counted anything; tests and shutdown call it directly.
   */
  reconcile(): Promise<void> {
    // This run reports everything counted so far: a pending run would have nothing new.
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.reconciling ??= this.exchange().finally(() => {
      this.reconciling = undefined;
    });
    return this.reconciling;
  }

  private async exchange(): Promise<void> {
    const now = Date.now();
    for (const [start, window] of this.local) if (window.expiresAt < now) this.local.delete(start);
    for (const [start, window] of this.local) {
      if (!window.dirty) continue;
      window.dirty = false;
      const counts = Object.fromEntries(window.counts);
      const report: WindowReport = { _id: `${this.instance}@${start}`, instance: this.instance, windowStart: start, expiresAt: new Date(window.expiresAt), counts };
      try {
        if (window.reported) {
          await this.reports.updateOne({ _id: report._id }, { $set: { counts } });
        } else {
          try {
            await this.reports.insertOne(report);
          } catch (error) {
            // Inserted by an earlier attempt whose answer was lost.
            if (!(error instanceof DuplicateKeyError)) throw error;
            await this.reports.updateOne({ _id: report._id }, { $set: { counts } });
          }
          window.reported = true;
        }
      } catch (error) {
        window.dirty = true;
        throw error;
      }
    }
    const starts = [...this.local.keys()];
    if (starts.length > 0) {
      const found = await this.reports.find({ windowStart: { $in: starts } }, { fields: ['instance', 'windowStart', 'counts'] });
      const others = new Map<number, Map<string, number>>();
      for (const report of found) {
        if (report.instance === this.instance) continue;
        let sums = others.get(report.windowStart);
        if (!sums) others.set(report.windowStart, (sums = new Map()));
        for (const [key, n] of Object.entries(report.counts)) sums.set(key, (sums.get(key) ?? 0) + n);
      }
      this.others = others;
    } else {
      this.others = new Map();
    }
    if (now >= this.nextSweep) {
      this.nextSweep = now + SWEEP_INTERVAL_MS;
      // Reports (and counts of earlier releases) of windows that are over.
      await this.reports.deleteMany({ expiresAt: { $lt: new Date(now) } });
    }
  }

  /** Stops reconciling (shutdown), after a last report of what was counted. */
  async close(): Promise<void> {
    await this.reconcile().catch(() => undefined);
  }
}
