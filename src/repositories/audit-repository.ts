import type { DocumentCollection, DocumentDatabase } from './document-collection.js';

/** One audit record as stored: the AuditEvent's bytes, its place in its chain, and its links. */
export interface AuditRecord {
  /** `<chain>:<seq, zero-padded>`: sorts in chain order. */
  _id: string;
  chain: string;
  seq: number;
  recordedMs: number;
  /** Patients the request touched: the access log is found by these. */
  patientIds: string[];
  breakGlass: boolean;
  /** Hash of the previous record of the chain (the chain's genesis for the first). */
  prevHash: string;
  /** Hash of this record's content and `prevHash`. */
  hash: string;
  /** The AuditEvent, serialised. */
  json: string;
  /**
   * The request's token use (as `claims` names it), unique: a token that was not claimed up
   * front is claimed by its request's record. Absent when the token was claimed up front or none
   * authenticated the request.
   */
  tokenUse?: string;
}

/**
 * A chain's registration and its head: a record its writer made durable, advanced off the request
 * path (at most about once a second, and at shutdown), so the chain's end up to the head cannot be
 * cut off unnoticed.
 */
export interface AuditChainHead {
  _id: string;
  headSeq: number;
  headHash: string;
  openedAt: Date;
  writer: string;
}

/** Audit records, append-only: nothing here updates or deletes a record. */
export class AuditRepository {
  private readonly records: DocumentCollection<AuditRecord>;
  private readonly chains: DocumentCollection<AuditChainHead>;
  constructor(database: DocumentDatabase) {
    this.records = database.collection<AuditRecord>('audit_events');
    this.chains = database.collection<AuditChainHead>('audit_chains');
  }

  async ensureIndexes(): Promise<void> {
    await this.records.ensureIndexes([
      // Single-field: FerretDB 1.x fails re-creating a compound index over an array field with data.
      { name: 'patient', keys: { patientIds: 1 } },
      { name: 'chain_seq', keys: { chain: 1, seq: 1 } },
      // A token's single use, claimed by the record of the request it authenticated.
      { name: 'token_use', keys: { tokenUse: 1 }, unique: true, sparse: true },
    ]);
  }

  /** Registers a new chain, before its first record. */
  async openChain(head: AuditChainHead): Promise<void> {
    await this.chains.insertOne(head);
  }

  /**
   * Appends records (in chain order): one insert. The head is moved by {@link advanceHead}, not
   * here, so that a request's audit costs one round trip.
   */
  async append(records: readonly AuditRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.records.insertMany(records);
  }

  /**
   * Moves a chain's head forward to a durable record. Only the chain's own writer calls it, one
   * call at a time, so the conditional update has no racing writer (FerretDB does not make it atomic).
   */
  async advanceHead(chain: string, seq: number, hash: string): Promise<void> {
    await this.chains.updateOne({ _id: chain, headSeq: { $lt: seq } }, { $set: { headSeq: seq, headHash: hash } });
  }

  /** Every chain's head. */
  heads(): Promise<AuditChainHead[]> {
    return this.chains.find({}, { sort: { openedAt: 1, _id: 1 } });
  }

  /** Records of a chain after `afterSeq`, in order, a page at a time. */
  chainPage(chain: string, afterSeq: number, limit: number): Promise<AuditRecord[]> {
    return this.records.find({ chain, seq: { $gt: afterSeq } }, { sort: { seq: 1 }, limit });
  }

  /** One record of a chain, by its id (a lookup by `_id`: fast on FerretDB too). */
  record(id: string): Promise<AuditRecord | null> {
    return this.records.findOne({ _id: id });
  }

  /** Names of chains that have records (a chain without a head is itself a finding). */
  async chainsWithRecords(): Promise<string[]> {
    const firsts = await this.records.find({ seq: 1 }, { fields: ['chain'] });
    return firsts.map((r) => r.chain);
  }

  /**
   * A patient's access log: records that touched them, newest first, after skipping `skip`;
   * only those recorded at or before `untilMs` when given (a stable page sequence while the log grows).
   */
  forPatient(patientId: string, limit: number, skip = 0, untilMs?: number): Promise<AuditRecord[]> {
    return this.records.find(patientLog(patientId, untilMs), { sort: { recordedMs: -1, _id: -1 }, limit, ...(skip > 0 ? { skip } : {}), fields: ['json', 'recordedMs', 'breakGlass'] });
  }

  /** How many records touched the patient (recorded at or before `untilMs` when given). */
  countForPatient(patientId: string, untilMs?: number): Promise<number> {
    return this.records.count(patientLog(patientId, untilMs));
  }
}

function patientLog(patientId: string, untilMs: number | undefined): Record<string, unknown> {
  return untilMs === undefined ? { patientIds: patientId } : { patientIds: patientId, recordedMs: { $lte: untilMs } };
}
