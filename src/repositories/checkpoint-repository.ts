import type { AuditCheckpoint } from '../audit/audit-checkpoint.js';
import { recordId } from '../audit/audit-chain.js';
import { DuplicateKeyError, type DocumentCollection, type DocumentDatabase } from './document-collection.js';

/** A checkpoint this node signed of one of its own chains, as stored. */
export interface StoredCheckpoint {
  /** `<chain>:<seq, zero-padded>`, as the record it signs. */
  _id: string;
  chain: string;
  seq: number;
  hash: string;
  issuedAt: number;
  jws: string;
}

/**
 * The checkpoints this node signed of its own audit chains (`audit_checkpoints`), insert-only.
 * They are not the anchor (a database writer can remove them): the peers that witnessed them
 * are. They let a new process re-send what its predecessor may not have delivered, and
 * `pontis audit verify` check them too.
 */
export class CheckpointRepository {
  private readonly checkpoints: DocumentCollection<StoredCheckpoint>;
  constructor(database: DocumentDatabase) {
    this.checkpoints = database.collection<StoredCheckpoint>('audit_checkpoints');
  }

  async ensureIndexes(): Promise<void> {
    await this.checkpoints.ensureIndexes([{ name: 'issued', keys: { issuedAt: 1 } }]);
  }

  /** Keeps a signed checkpoint; one already kept for that record is left as it is. */
  async record(checkpoint: AuditCheckpoint): Promise<void> {
    const { chain, seq, hash, issuedAt, jws } = checkpoint;
    try {
      await this.checkpoints.insertOne({ _id: recordId(chain, seq), chain, seq, hash, issuedAt, jws });
    } catch (error) {
      if (!(error instanceof DuplicateKeyError)) throw error;
    }
  }

  /** The most recently signed checkpoints, newest first. */
  latest(limit: number): Promise<StoredCheckpoint[]> {
    return this.checkpoints.find({}, { sort: { issuedAt: -1, _id: -1 }, limit });
  }

  /** Every checkpoint in chain order, a page at a time after `afterId`. */
  page(afterId: string, limit: number): Promise<StoredCheckpoint[]> {
    return this.checkpoints.find({ _id: { $gt: afterId } }, { sort: { _id: 1 }, limit });
  }
}
