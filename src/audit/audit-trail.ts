import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { AuditEvent } from 'fhir/r4.js';
import type { AuditRecord, AuditRepository } from '../repositories/audit-repository.js';
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
}

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
 */
export class AuditTrail {
  private chain: string | undefined;
  private seq = 0;
  private lastHash = '';
  private readonly writer = new GroupWriter<AuditEntry, void>(async (entries) => {
    const started = performance.now();
    try {
      await this.write(entries);
      this.writes?.(entries.length, (performance.now() - started) / 1000, true);
      return entries.map(() => undefined);
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

  /** Resolves once the entry is durable; rejects if it could not be written. */
  record(entry: AuditEntry): Promise<void> {
    return this.writer.submit(entry);
  }

  private async write(entries: readonly AuditEntry[]): Promise<void> {
    if (this.chain === undefined) {
      const chain = `${hostname().replace(/[^A-Za-z0-9-]/g, '-').slice(0, 40)}-${process.pid}-${randomUUID().slice(0, 8)}`;
      await this.repository.openChain({ _id: chain, headSeq: 0, headHash: genesisHash(chain), openedAt: new Date(), writer: `${hostname()}:${process.pid}` });
      this.chain = chain;
      this.seq = 0;
      this.lastHash = genesisHash(chain);
    }
    const chain = this.chain;
    let prevHash = this.lastHash;
    let seq = this.seq;
    const records: AuditRecord[] = entries.map((entry) => {
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
      return { _id: recordId(chain, seq), ...content, hash };
    });
    await this.repository.append(records);
    this.seq = seq;
    this.lastHash = prevHash;
    this.observer?.durable({ chain, seq, hash: prevHash }, records.length);
  }

  /** Waits for records under way (shutdown). */
  flush(): Promise<void> {
    return this.writer.flush();
  }
}
