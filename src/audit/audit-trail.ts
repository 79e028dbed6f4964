import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { AuditEvent } from 'fhir/r4.js';
import type { AuditRecord, AuditRepository } from '../repositories/audit-repository.js';
import { DuplicateKeyError } from '../repositories/document-collection.js';
import { GroupWriter } from '../repositories/group-writer.js';
import { genesisHash, recordHash, recordId } from './audit-chain.js';
import type { ChainHead } from './audit-checkpoint.js';

/** Told of each group write of audit records: how many, how long, whether it was made durable. */
export type AuditWriteObserver = (records: number, seconds: number, ok: boolean) => void;

/** What is recorded for one request. */
export interface AuditEntry {
  event: AuditEvent;
  patientIds: string[];
  breakGlass: boolean;
  /**
   * The single use of the request's token, claimed by this record (its unique `tokenUse`) when
   * the token was not claimed up front (tokens that cannot write: see token-verifier.ts).
   */
  tokenUse?: string;
}

/** What became of an entry: written, or not written because its token was used before. */
export type AuditOutcome = 'durable' | 'token-replayed';

/** How long the chain's head may lag its last durable record: it is moved off the request path. */
export const HEAD_INTERVAL_MS = 1000;

/** Told of each chain head made durable (the checkpointer); must return at once and not throw. */
export interface ChainHeadObserver {
  durable(head: ChainHead, records: number): void;
}

/**
 * The append-only audit trail of one node instance. Each instance writes its own hash chain
 * (several instances may share a database: chains never interleave), so no coordination is
 * needed between writers. Records waiting while a write is under way go out together in the
 * next group write, and each caller's promise resolves only once its record is durable.
 * If a write fails, the chain is abandoned (its head still marks what was made durable) and
 * the next record opens a new one.
 *
 * A request's record costs one insert: the chain's head (`audit_chains`) is moved forward on its
 * own, at most every {@link HEAD_INTERVAL_MS} and at {@link flush}, so it may lag the records by
 * that much (a crash leaves it there; `audit verify` checks records up to it, the witnesses the
 * signed heads). A record may claim its request's token (`tokenUse`, unique): if the token was
 * used before, that record alone is not written, the others of its group are chained on without it.
 */
export class AuditTrail {
  private chain: string | undefined;
  private seq = 0;
  private lastHash = '';
  /** The newest durable record not yet named by the stored head. */
  private unsavedHead: { chain: string; seq: number; hash: string } | undefined;
  private headTimer: NodeJS.Timeout | undefined;
  /** Head updates one at a time (the conditional update is safe only without a racing writer). */
  private headWork: Promise<void> = Promise.resolve();
  private readonly writer = new GroupWriter<AuditEntry, AuditOutcome>(async (entries) => {
    const started = performance.now();
    try {
      const outcomes = await this.write(entries);
      this.writes?.(entries.length, (performance.now() - started) / 1000, true);
      return outcomes;
    } catch (error) {
      this.writes?.(entries.length, (performance.now() - started) / 1000, false);
      this.chain = undefined;
      throw error;
    }
  });

  constructor(
    private readonly repository: AuditRepository,
    private readonly observer?: ChainHeadObserver,
    /** Told of each group write: records, seconds, durable or not (metrics). */
    private readonly writes?: AuditWriteObserver,
  ) {}

  /**
   * Resolves once the entry is durable (`durable`), or to `token-replayed` when its `tokenUse`
   * was claimed before (nothing of it is written); rejects if it could not be written.
   */
  record(entry: AuditEntry): Promise<AuditOutcome> {
    return this.writer.submit(entry);
  }

  private async write(entries: readonly AuditEntry[]): Promise<AuditOutcome[]> {
    if (this.chain === undefined) {
      // The abandoned chain's last durable head is stored before a new chain takes its place.
      if (this.unsavedHead) await this.saveHead().catch(() => undefined);
      const chain = `${hostname().replace(/[^A-Za-z0-9-]/g, '-').slice(0, 40)}-${process.pid}-${randomUUID().slice(0, 8)}`;
      await this.repository.openChain({ _id: chain, headSeq: 0, headHash: genesisHash(chain), openedAt: new Date(), writer: `${hostname()}:${process.pid}` });
      this.chain = chain;
      this.seq = 0;
      this.lastHash = genesisHash(chain);
    }
    const chain = this.chain;
    const outcomes: AuditOutcome[] = entries.map(() => 'durable');
    let pending = entries.map((entry, index) => ({ entry, index }));
    let written = 0;
    while (pending.length > 0) {
      const records = this.chained(chain, pending.map((p) => p.entry));
      try {
        await this.repository.append(records);
        this.advance(chain, records.length, records);
        written += records.length;
        break;
      } catch (error) {
        if (!(error instanceof DuplicateKeyError)) throw error;
        // Inserted in order up to the refused one: which is it? (Only a replayed token gets here.)
        const stored = await this.repository.chainPage(chain, this.seq, records.length);
        const kept = stored.filter((r, i) => r._id === records[i]?._id && r.hash === records[i]?.hash).length;
        const refused = pending[kept];
        if (stored.length !== kept || !refused?.entry.tokenUse) throw error;
        this.advance(chain, kept, records);
        written += kept;
        outcomes[refused.index] = 'token-replayed';
        pending = pending.slice(kept + 1);
      }
    }
    if (written > 0) this.observer?.durable({ chain, seq: this.seq, hash: this.lastHash }, written);
    return outcomes;
  }

  /** Records for `entries`, chained after the last durable one. */
  private chained(chain: string, entries: readonly AuditEntry[]): AuditRecord[] {
    let prevHash = this.lastHash;
    let seq = this.seq;
    return entries.map((entry) => {
      seq += 1;
      const content = {
        chain,
        seq,
        recordedMs: Date.parse(entry.event.recorded),
        patientIds: entry.patientIds,
        breakGlass: entry.breakGlass,
        prevHash,
        json: JSON.stringify(entry.event),
      };
      const hash = recordHash(content);
      prevHash = hash;
      return { _id: recordId(chain, seq), ...content, hash, ...(entry.tokenUse === undefined ? {} : { tokenUse: entry.tokenUse }) };
    });
  }

  /** The first `count` of `records` are durable: the chain goes on from the last of them. */
  private advance(chain: string, count: number, records: readonly AuditRecord[]): void {
    if (count === 0) return;
    const last = records[count - 1]!;
    this.seq = last.seq;
    this.lastHash = last.hash;
    this.unsavedHead = { chain, seq: last.seq, hash: last.hash };
    if (!this.headTimer) {
      this.headTimer = setTimeout(() => {
        this.headTimer = undefined;
        void this.saveHead().catch(() => undefined);
      }, HEAD_INTERVAL_MS);
      this.headTimer.unref();
    }
  }

  /** Stores the newest durable head; a failure leaves it for the next attempt. */
  private saveHead(): Promise<void> {
    this.headWork = this.headWork
      .catch(() => undefined)
      .then(async () => {
        const head = this.unsavedHead;
        if (!head) return;
        this.unsavedHead = undefined;
        try {
          await this.repository.advanceHead(head.chain, head.seq, head.hash);
        } catch (error) {
          // Retried with the next write, or at flush, unless a newer head supersedes it.
          this.unsavedHead ??= head;
          throw error;
        }
      });
    return this.headWork;
  }

  /** Waits for records under way, then stores the chain's head (shutdown). */
  async flush(): Promise<void> {
    await this.writer.flush();
    if (this.headTimer) {
      clearTimeout(this.headTimer);
      this.headTimer = undefined;
    }
    await this.saveHead();
  }
}
