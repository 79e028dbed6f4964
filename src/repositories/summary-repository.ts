import { assertDisclosed, type Disclosure } from '../access/disclosure.js';
import type { DocumentCollection, DocumentDatabase } from './document-collection.js';
import { DuplicateKeyError } from './document-collection.js';
import type { DocumentCache } from './document-cache.js';
import { currentOf, PatientChanges } from './patient-changes.js';

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
 * - a patient's current summary is derived (the newest by Bundle.timestamp), not stored: from the
 *   patient's changes ({@link PatientChanges}), where each version is entered once the record
 *   names it, so that it is found by `_id` look-ups only (FerretDB 1.x scans for anything else).
 */
export class SummaryRepository {
  private readonly summaries: DocumentCollection<SummaryRecord>;
  private readonly versions: DocumentCollection<SummaryVersionRecord>;

  constructor(
    database: DocumentDatabase,
    private readonly cache: DocumentCache,
    private readonly currentSummaryTtlMs: number,
    /** The patients' changes, shared with the store's other repositories. */
    private readonly changes: PatientChanges = new PatientChanges(database),
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
    await this.changes.recordEarlier();
  }

  findById(id: string): Promise<SummaryRecord | null> {
    return this.summaries.findOne({ _id: id });
  }

  findByIdentifier(identifierKey: string): Promise<SummaryRecord | null> {
    return this.summaries.findOne({ identifierKey });
  }

  /**
   * The patient's current summary: the document with the latest Bundle.timestamp (ties: the
   * latest stored), from the patient's changes as this instance read them at most the configured
   * TTL ago (usually just now, by the consent decision); its own writes are seen at once.
   * Concurrent readers share one read.
   */
  async currentForPatient(patientId: string): Promise<CurrentSummaryRef | null> {
    const current = currentOf(await this.changes.recent(patientId, this.currentSummaryTtlMs));
    return current ? { summaryId: current.summaryId, versionId: current.versionId, lastUpdated: current.lastUpdated } : null;
  }

  /**
   * Makes sure the patient's changes name this version of the document (a push or update whose
   * writer stopped after the record, before the change, is completed by its retry).
   */
  async ensureListed(record: SummaryRecord): Promise<void> {
    const known = (await this.changes.recent(record.patientId, this.currentSummaryTtlMs)).documents.get(record._id);
    if (known && known.versionId >= record.versionId) return;
    await this.list(record);
  }

  /** Enters the record's version among the patient's changes: it may now be the current summary. */
  list(record: Pick<SummaryRecord, '_id' | 'patientId' | 'versionId' | 'timestampMs' | 'lastUpdated'>): Promise<void> {
    return this.changes.append(record.patientId, { kind: 'summary', summaryId: record._id, versionId: record.versionId, timestampMs: record.timestampMs, lastUpdated: record.lastUpdated });
  }

  /**
   * Stores a new document: version 1's bytes, then the record (the commit point). Throws
   * DuplicateKeyError when a document with the same identifier was stored meanwhile. The caller
   * then enters it among the patient's changes ({@link list}): until then it is stored but not
   * yet anyone's current summary (a retry completes it, {@link ensureListed}).
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
    await this.list({ ...record, ...next });
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
    await this.list({ ...record, ...next });
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
