import type { Logger } from 'pino';
import type { NodeIdentity } from '../exchange/node-identity.js';
import type { CheckpointRepository } from '../repositories/checkpoint-repository.js';
import { signCheckpoint, type AuditCheckpoint, type ChainHead } from './audit-checkpoint.js';
import type { ChainHeadObserver } from './audit-trail.js';

/** When a chain head is signed: after `records` records, or `intervalMs` after the first unsigned one. */
export interface CheckpointSettings {
  records: number;
  intervalMs: number;
}

/** Where signed checkpoints go to be witnessed (the gossip to the peers). */
export interface CheckpointSink {
  deliver(checkpoint: AuditCheckpoint): void;
}

/** Stored checkpoints re-sent at start-up: the newest per chain among these. */
const RESENT_AT_START = 100;

/**
 * Signs this node's audit chain heads with its node key, every N records or T ms (whichever comes
 * first), keeps each signed checkpoint (`audit_checkpoints`) and hands it to the peers to witness.
 * Told of heads by the trail after each durable write, it never delays the write or the response:
 * signing, storing and sending run on their own queue, and their failures are logged only.
 */
export class AuditCheckpointer implements ChainHeadObserver {
  private head: ChainHead | undefined;
  private unsigned = 0;
  private timer: NodeJS.Timeout | undefined;
  private work: Promise<void> = Promise.resolve();

  constructor(
    private readonly identity: NodeIdentity,
    private readonly repository: CheckpointRepository,
    private readonly sink: CheckpointSink,
    private readonly settings: CheckpointSettings,
    private readonly logger: Logger,
  ) {}

  /** A head made durable by the trail, `records` records after the previous one. */
  durable(head: ChainHead, records: number): void {
    // The trail opened a new chain (a write failed): the old chain's last head is signed first.
    if (this.head && this.head.chain !== head.chain) this.checkpoint();
    this.head = head;
    this.unsigned += records;
    if (this.unsigned >= this.settings.records) this.checkpoint();
    else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.checkpoint();
      }, this.settings.intervalMs);
      this.timer.unref();
    }
  }

  /**
   * Re-sends the newest stored checkpoint of each recent chain (a process that stopped may not
   * have delivered its last one; a witness takes a known head again without complaint).
   */
  resendStored(): void {
    this.work = this.work
      .then(async () => {
        const newest = new Map<string, AuditCheckpoint>();
        for (const { chain, seq, hash, issuedAt, jws } of await this.repository.latest(RESENT_AT_START)) {
          if ((newest.get(chain)?.seq ?? 0) < seq) newest.set(chain, { issuer: this.identity.issuer, chain, seq, hash, issuedAt, jws });
        }
        for (const checkpoint of newest.values()) this.sink.deliver(checkpoint);
      })
      .catch((error: unknown) => this.logger.warn({ error: nameOf(error) }, 'stored audit checkpoints could not be read for re-sending'));
  }

  /** Signs the head now if records were written since the last checkpoint; waits for the signing. */
  async flush(): Promise<void> {
    this.checkpoint();
    await this.work;
  }

  /** The final checkpoint of this process (shutdown): signed and stored before it returns. */
  close(): Promise<void> {
    return this.flush();
  }

  private checkpoint(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const head = this.head;
    if (!head || this.unsigned === 0) return;
    this.unsigned = 0;
    this.work = this.work.then(() => this.sign(head));
  }

  private async sign(head: ChainHead): Promise<void> {
    let checkpoint: AuditCheckpoint;
    try {
      checkpoint = await signCheckpoint(this.identity, head);
    } catch (error) {
      this.logger.error({ chain: head.chain, seq: head.seq, error: nameOf(error) }, 'audit chain head could not be signed');
      return;
    }
    // The peers are the anchor: they get it first; the local copy is a convenience.
    this.sink.deliver(checkpoint);
    try {
      await this.repository.record(checkpoint);
    } catch (error) {
      this.logger.warn({ chain: head.chain, seq: head.seq, error: nameOf(error) }, 'audit checkpoint sent to the witnesses but not stored here');
    }
  }
}

/** An error's class name: database errors may quote what they were given. */
function nameOf(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
