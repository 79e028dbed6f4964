import type { AuditCheckpoint } from '../audit/audit-checkpoint.js';
import { recordId } from '../audit/audit-chain.js';
import { DuplicateKeyError, type DocumentCollection, type DocumentDatabase } from './document-collection.js';

/** A peer's chain head this node witnessed: the peer's signed checkpoint, as received. */
export interface WitnessedHead extends AuditCheckpoint {
  /** `<issuer> <chain>:<seq, zero-padded>`: one per issuer, chain and seq (issuers hold no space). */
  _id: string;
  receivedAt: Date;
}

/** A second, different head signed for an issuer, chain and seq already witnessed. */
export interface Equivocation {
  /** `<witnessed head id> <hash>`: each different hash once. */
  _id: string;
  issuer: string;
  chain: string;
  seq: number;
  /** The checkpoint witnessed first and the contradicting one, both signed by the issuer. */
  witnessedJws: string;
  jws: string;
  receivedAt: Date;
}

/** What became of a checkpoint handed to the witness. */
export type WitnessOutcome = 'new' | 'known' | 'equivocation';

function headId(issuer: string, chain: string, seq: number): string {
  return `${issuer} ${recordId(chain, seq)}`;
}

/**
 * Heads of other nodes' audit chains this node witnessed (`audit_witnessed_heads`) and the
 * equivocations it caught (`audit_equivocations`): insert-only, and each head claimed by a unique
 * `_id`, so that of two racing different heads exactly one is witnessed and the other is kept as
 * evidence (no conditional update, which FerretDB does not make atomic).
 */
export class WitnessRepository {
  private readonly heads: DocumentCollection<WitnessedHead>;
  private readonly equivocations: DocumentCollection<Equivocation>;
  constructor(database: DocumentDatabase) {
    this.heads = database.collection<WitnessedHead>('audit_witnessed_heads');
    this.equivocations = database.collection<Equivocation>('audit_equivocations');
  }

  async ensureIndexes(): Promise<void> {
    await this.heads.ensureIndexes([{ name: 'issuer', keys: { issuer: 1 } }]);
    await this.equivocations.ensureIndexes([{ name: 'issuer', keys: { issuer: 1 } }]);
  }

  /** Witnesses a verified checkpoint: new, known already (same hash), or an equivocation (kept). */
  async witness(checkpoint: AuditCheckpoint, now = new Date()): Promise<WitnessOutcome> {
    const { issuer, chain, seq, hash, issuedAt, jws } = checkpoint;
    const _id = headId(issuer, chain, seq);
    try {
      await this.heads.insertOne({ _id, issuer, chain, seq, hash, issuedAt, jws, receivedAt: now });
      return 'new';
    } catch (error) {
      if (!(error instanceof DuplicateKeyError)) throw error;
    }
    const witnessed = await this.heads.findOne({ _id });
    if (!witnessed) throw new Error('a witnessed head clashed on insert but cannot be read');
    if (witnessed.hash === hash) return 'known';
    try {
      await this.equivocations.insertOne({ _id: `${_id} ${hash}`, issuer, chain, seq, witnessedJws: witnessed.jws, jws, receivedAt: now });
    } catch (error) {
      if (!(error instanceof DuplicateKeyError)) throw error;
    }
    return 'equivocation';
  }

  /** Heads witnessed for `issuer`, in chain order, after the cursor `after` (`<chain>:<seq>`). */
  headsOf(issuer: string, after: string | undefined, limit: number): Promise<WitnessedHead[]> {
    // Every id of the issuer lies between "<issuer> " and "<issuer>!" (space, then the next byte).
    return this.heads.find({ issuer, _id: { $gt: `${issuer} ${after ?? ''}`, $lt: `${issuer}!` } }, { sort: { _id: 1 }, limit });
  }

  /** Equivocations caught for `issuer`. */
  equivocationsOf(issuer: string, limit: number): Promise<Equivocation[]> {
    return this.equivocations.find({ issuer }, { sort: { _id: 1 }, limit });
  }
}
