import type { Logger } from 'pino';
import { loggableError } from '../logger.js';
import type { PeerNode } from '../exchange/peer-directory.js';
import type { AuditCheckpoint } from './audit-checkpoint.js';
import { WitnessRefused, type WitnessClient } from './witness-client.js';

/** Waits between attempts to reach a witness that failed: doubling from `minMs` up to `maxMs`. */
export interface GossipRetry {
  minMs: number;
  maxMs: number;
}

/** What the gossip has done since start-up (reported at shutdown, and in tests). */
export interface GossipCounts {
  /** Checkpoints a witness took. */
  delivered: number;
  /** Attempts that failed and will be retried. */
  failed: number;
  /** Checkpoints a witness answered with an equivocation: it holds a different head for that seq. */
  equivocations: number;
}

/**
 * Hands this node's signed checkpoints to every peer of the directory, off the request path: a
 * queue per peer holding the latest checkpoint of each chain (a later head of a chain commits to
 * every record before it, so it replaces an undelivered earlier one), one call at a time per
 * peer, and on failure a retry after a doubling wait. Failures are counted and logged with the
 * peer and the reason only (never a token, never patient data).
 */
export class CheckpointGossip {
  private readonly queues = new Map<string, Map<string, AuditCheckpoint>>();
  private readonly busy = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private closed = false;
  readonly counts: GossipCounts = { delivered: 0, failed: 0, equivocations: 0 };

  constructor(
    private readonly peers: readonly PeerNode[],
    private readonly client: Pick<WitnessClient, 'submit'>,
    private readonly logger: Logger,
    private readonly retry: GossipRetry = { minMs: 1000, maxMs: 60_000 },
  ) {}

  /** Queues `checkpoint` for every peer; returns at once. */
  deliver(checkpoint: AuditCheckpoint): void {
    if (this.closed) return;
    for (const peer of this.peers) {
      let queue = this.queues.get(peer.country);
      if (!queue) this.queues.set(peer.country, (queue = new Map()));
      const queued = queue.get(checkpoint.chain);
      if (!queued || queued.seq < checkpoint.seq) queue.set(checkpoint.chain, checkpoint);
      this.kick(peer);
    }
  }

  /** Checkpoints not yet delivered, over all peers. */
  get pending(): number {
    let n = 0;
    for (const queue of this.queues.values()) n += queue.size;
    return n;
  }

  /**
   * One last attempt for what is queued, at once (waits are cut short), for at most `timeoutMs`;
   * then nothing more is sent.
   */
  async close(timeoutMs: number): Promise<void> {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const peer of this.peers) this.kick(peer);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all([...this.running]), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private kick(peer: PeerNode): void {
    if (this.closed || this.busy.has(peer.country) || this.timers.has(peer.country)) return;
    if ((this.queues.get(peer.country)?.size ?? 0) === 0) return;
    const run: Promise<void> = this.drain(peer).finally(() => this.running.delete(run));
    this.running.add(run);
  }

  private async drain(peer: PeerNode): Promise<void> {
    this.busy.add(peer.country);
    try {
      const queue = this.queues.get(peer.country)!;
      for (let next = queue.entries().next(); !next.done && !this.closed; next = queue.entries().next()) {
        const [chain, checkpoint] = next.value;
        let outcome: 'witnessed' | 'equivocation';
        try {
          outcome = await this.client.submit(peer, checkpoint);
        } catch (error) {
          this.failed(peer, queue.size, error);
          return;
        }
        this.failures.delete(peer.country);
        if (queue.get(chain) === checkpoint) queue.delete(chain);
        if (outcome === 'equivocation') {
          this.counts.equivocations += 1;
          this.logger.error({ peer: peer.country, chain, seq: checkpoint.seq }, 'audit checkpoint: the witness holds a DIFFERENT head for this position (equivocation); the audit trail or the node key may be compromised');
        } else {
          this.counts.delivered += 1;
        }
      }
    } finally {
      this.busy.delete(peer.country);
    }
  }

  private failed(peer: PeerNode, pending: number, error: unknown): void {
    this.counts.failed += 1;
    const failures = (this.failures.get(peer.country) ?? 0) + 1;
    this.failures.set(peer.country, failures);
    const retryInMs = Math.min(this.retry.maxMs, this.retry.minMs * 2 ** Math.min(failures - 1, 30));
    // What kind of failure, not its message: a refusal's message quotes the peer's answer, which
    // is the peer's text, and logs carry only what this node chose to write.
    const reason = error instanceof WitnessRefused ? `refused (HTTP ${error.status})` : loggableError(error).type;
    this.logger.warn({ peer: peer.country, failures, pending, retryInMs, reason }, 'audit checkpoint not delivered to a witness; will retry');
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(peer.country);
      this.kick(peer);
    }, retryInMs);
    timer.unref();
    this.timers.set(peer.country, timer);
  }
}
