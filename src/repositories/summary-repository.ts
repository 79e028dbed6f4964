import { assertDisclosed, type Disclosure } from '../access/disclosure.js';
import type { DocumentCollection, DocumentDatabase } from './document-collection.js';
import { DuplicateKeyError } from './document-collection.js';
import type { DocumentCache } from './document-cache.js';

/** What is known of a stored IPS document; the bytes of each version live apart. */
export interface SummaryRecord {
  /** Server-assigned Bundle id. */
  _id: string;
  /** `system|value` of Bundle.identifier; unique. */
  identifierKey: string;
  patientId: string;
  /** Bundle.timestamp of the latest version, in epoch ms: the newest document is current. */
  timestampMs: number;
  versionId: number;
  lastUpdated: Date;
  contentHash: string;
}

/** One version of a document: written once, never changed. `_id` is `<summaryId>@<versionId>`. */
interface SummaryVersionRecord {
  _id: string;
  summaryId: string;
  versionId: number;
  lastUpdated: Date;
  timestampMs: number;
  contentHash: string;
  /** Fingerprint of the profile set the version was validated under. */
  profileSet?: string;
  json: string;
}

/** One stored version as read back. */
export interface SummaryVersion {
  /** `<summaryId>@<versionId>`: names this immutable version. */
  key: string;
  versionId: number;
  lastUpdated: Date;
  /** Fingerprint of the profile set it was validated under ('' when unknown). */
  profileSet: string;
  bytes: Buffer;
}

/** Which version of which document is a patient's current summary. */
export interface CurrentSummaryRef {
  summaryId: string;
  versionId: number;
  lastUpdated: Date;
}

/** Fields of a new version. */
export type NextVersion = Pick<SummaryRecord, 'versionId' | 'lastUpdated' | 'timestampMs' | 'contentHash'>;

const versionKey = (summaryId: string, versionId: number): string => `${summaryId}@${versionId}`;

/**
 * Stored IPS documents and their versions. Without multi-document transactions, correctness
 * rests on inserts being atomic and `_id` unique, which every MongoDB-wire server guarantees
 * (FerretDB does not make conditional updates atomic):
 * - a version's bytes are inserted under `<id>@<version>` before anything points at them, and
 *   that insert is what claims the version, so two writers can never both make version n;
 * - the document record is a repairable index over its versions, rolled forward when found behind;
 * - a patient's current summary is derived (the newest by Bundle.timestamp), not stored.
 */
export class SummaryRepository {
  private readonly summaries: DocumentCollection<SummaryRecord>;
  private readonly versions: DocumentCollection<SummaryVersionRecord>;
  private readonly currentByPatient = new Map<string, { ref: Promise<CurrentSummaryRef | null>; expires: number }>();

  constructor(
    database: DocumentDatabase,
    private readonly cache: DocumentCache,
    private readonly currentSummaryTtlMs: number,
  ) {
    this.summaries = database.collection<SummaryRecord>('summaries');
    this.versions = database.collection<SummaryVersionRecord>('summary_versions');
  }

  async ensureIndexes(): Promise<void> {
    await this.summaries.ensureIndexes([
      { name: 'identifier_unique', keys: { identifierKey: 1 }, unique: true },
      { name: 'patient_current', keys: { patientId: 1, timestampMs: -1, lastUpdated: -1 } },
    ]);
    await this.versions.ensureIndexes([{ name: 'summary_versions', keys: { summaryId: 1, versionId: -1 } }]);
  }

  findById(id: string): Promise<SummaryRecord | null> {
    return this.summaries.findOne({ _id: id });
  }

  findByIdentifier(identifierKey: string): Promise<SummaryRecord | null> {
    return this.summaries.findOne({ identifierKey });
  }

  /**
   * The patient's current summary: the document with the latest Bundle.timestamp (ties: the
   * latest stored). Remembered by this instance for the configured TTL; its own writes for the
   * patient forget it at once. Concurrent misses for one patient share one query, so an expiry
   * under load costs one database round trip, not one per waiting request.
   */
  currentForPatient(patientId: string): Promise<CurrentSummaryRef | null> {
    const now = Date.now();
    const cached = this.currentByPatient.get(patientId);
    if (cached && cached.expires > now) return cached.ref;
    const pending = this.queryCurrent(patientId).then((ref) => {
      if (ref && this.currentSummaryTtlMs > 0 && this.currentByPatient.get(patientId)?.ref === pending) {
        this.currentByPatient.set(patientId, { ref: Promise.resolve(ref), expires: Date.now() + this.currentSummaryTtlMs });
      } else if (this.currentByPatient.get(patientId)?.ref === pending) {
        this.currentByPatient.delete(patientId);
      }
      return ref;
    });
    if (this.currentByPatient.size >= 100_000) this.currentByPatient.clear();
    // In flight: later callers wait for this query rather than start their own.
    this.currentByPatient.set(patientId, { ref: pending, expires: Number.POSITIVE_INFINITY });
    pending.catch(() => this.currentByPatient.delete(patientId));
    return pending;
  }

  private async queryCurrent(patientId: string): Promise<CurrentSummaryRef | null> {
    const latest = await this.summaries.findOne(
      { patientId },
      { sort: { timestampMs: -1, lastUpdated: -1 }, fields: ['versionId', 'lastUpdated'] },
    );
    return latest ? { summaryId: latest._id, versionId: latest.versionId, lastUpdated: latest.lastUpdated } : null;
  }

  /**
   * Stores a new document: version 1's bytes, then the record (the commit point). Throws
   * DuplicateKeyError when a document with the same identifier was stored meanwhile.
   */
  async create(record: SummaryRecord, json: string, profileSet: string): Promise<void> {
    await this.insertVersion(record._id, record, json, profileSet);
    try {
      await this.summaries.insertOne(record);
    } catch (error) {
      if (error instanceof DuplicateKeyError) {
        // Nothing points at these bytes: a retry or a conflicting push, answered from the stored document.
        const key = versionKey(record._id, record.versionId);
        this.cache.delete(key);
        await this.versions.deleteOne({ _id: key }).catch(() => undefined);
      }
      throw error;
    }
    this.currentByPatient.delete(record.patientId);
  }

  /**
   * Adds version `next.versionId` of document `record`. False when that version exists already
   * (another writer made it): the record is then rolled forward to it.
   */
  async appendVersion(record: SummaryRecord, next: NextVersion, json: string, profileSet: string): Promise<boolean> {
    try {
      await this.insertVersion(record._id, next, json, profileSet);
    } catch (error) {
      if (!(error instanceof DuplicateKeyError)) throw error;
      return false;
    }
    await this.advance(record._id, next);
    this.currentByPatient.delete(record.patientId);
    return true;
  }

  /**
   * Brings a record up to its newest stored version, finishing a version whose writer stopped
   * after storing the bytes. Returns the record as it is now.
   */
  async rollForward(record: SummaryRecord): Promise<SummaryRecord> {
    const newer = await this.versions.findOne(
      { _id: versionKey(record._id, record.versionId + 1) },
      { fields: ['versionId', 'lastUpdated', 'timestampMs', 'contentHash'] },
    );
    if (!newer) return record;
    const next: NextVersion = {
      versionId: newer.versionId,
      lastUpdated: newer.lastUpdated,
      timestampMs: newer.timestampMs,
      contentHash: newer.contentHash,
    };
    await this.advance(record._id, next);
    this.currentByPatient.delete(record.patientId);
    return this.rollForward({ ...record, ...next });
  }

  private async advance(id: string, next: NextVersion): Promise<void> {
    await this.summaries.updateOne(
      { _id: id, versionId: { $lt: next.versionId } },
      { $set: { versionId: next.versionId, lastUpdated: next.lastUpdated, timestampMs: next.timestampMs, contentHash: next.contentHash } },
    );
  }

  /**
   * Bytes of one version of a document of patient `owner.patientId`, from memory when seen
   * before; null when no such version exists. Refuses without a disclosure for that patient.
   */
  async version(owner: { summaryId: string; patientId: string }, versionId: number, disclosure: Disclosure): Promise<SummaryVersion | null> {
    assertDisclosed(disclosure, owner.patientId);
    const { summaryId } = owner;
    const key = versionKey(summaryId, versionId);
    const cached = this.cache.get(key);
    if (cached) return { key, versionId, ...cached };
    const found = await this.versions.findOne({ _id: key }, { fields: ['lastUpdated', 'json', 'profileSet'] });
    if (!found) return null;
    const version = { bytes: Buffer.from(found.json, 'utf8'), lastUpdated: found.lastUpdated, profileSet: found.profileSet ?? '' };
    this.cache.set(key, version);
    return { key, versionId, ...version };
  }

  /** Version numbers of a document up to `upTo`, newest first. */
  async versionNumbers(summaryId: string, upTo: number): Promise<number[]> {
    const found = await this.versions.find({ summaryId, versionId: { $lte: upTo } }, { sort: { versionId: -1 }, fields: ['versionId'] });
    return found.map((v) => v.versionId);
  }

  private async insertVersion(summaryId: string, version: NextVersion, json: string, profileSet: string): Promise<void> {
    const { versionId, lastUpdated, timestampMs, contentHash } = version;
    const key = versionKey(summaryId, versionId);
    await this.versions.insertOne({ _id: key, summaryId, versionId, lastUpdated, timestampMs, contentHash, profileSet, json });
    this.cache.set(key, { bytes: Buffer.from(json, 'utf8'), lastUpdated, profileSet });
  }
}
