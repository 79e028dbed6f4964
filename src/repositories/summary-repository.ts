import { assertDisclosed, type Disclosure } from '../access/disclosure.js';
import type { DocumentCollection, DocumentDatabase } from './document-collection.js';
import type { DocumentCache } from './document-cache.js';
import { currentOf, PatientChanges, type FirstDocument } from './patient-changes.js';
import { versionKey, VersionedResources } from './versioned-resources.js';

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

/**
 * Version 1 as kept inside the document's record: one insert stores a new document and is its
 * commit point. Never changed; later versions are stored apart ({@link SummaryVersionRecord}).
 */
interface FirstVersion {
  lastUpdated: Date;
  timestampMs: number;
  contentHash: string;
  profileSet: string;
  json: string;
}

/** A `summaries` record as stored: records of earlier releases have no `first` (their version 1 is apart). */
type StoredSummaryRecord = SummaryRecord & { first?: FirstVersion };

/** The record's fields without the bytes of version 1: what leaves the repository without a Disclosure. */
const RECORD_FIELDS = ['identifierKey', 'patientId', 'timestampMs', 'versionId', 'lastUpdated', 'contentHash'] as const;

/** One version of a document after the first: written once, never changed. `_id` is `<summaryId>@<versionId>`. */
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

/**
 * Stored IPS documents and their versions, versioned by {@link VersionedResources} like Consents.
 * Without multi-document transactions, correctness rests on inserts being atomic and `_id`
 * unique, which every MongoDB-wire server guarantees (FerretDB does not make conditional updates
 * atomic):
 * - a new document is one insert: its record with version 1's bytes inside, unique on the
 *   identifier (the commit point: a retry or a conflicting push is refused there, leaving nothing);
 * - each later version's bytes are inserted under `<id>@<version>` before anything points at
 *   them, and that insert claims the version, so two writers can never both make version n;
 * - the record's latest version is a repairable hint, rolled forward when found behind;
 * - a patient's current summary is derived (the newest by Bundle.timestamp), not stored: from the
 *   patient's changes ({@link PatientChanges}), where each version is entered once the record
 *   names it, so that it is found by `_id` look-ups only (FerretDB 1.x scans for anything else).
 */
export class SummaryRepository {
  private readonly summaries: DocumentCollection<StoredSummaryRecord>;
  private readonly versions: DocumentCollection<SummaryVersionRecord>;
  private readonly versioned: VersionedResources<StoredSummaryRecord, SummaryVersionRecord>;

  constructor(
    database: DocumentDatabase,
    private readonly cache: DocumentCache,
    private readonly currentSummaryTtlMs: number,
    /** The patients' changes, shared with the store's other repositories. */
    private readonly changes: PatientChanges = new PatientChanges(database),
  ) {
    this.summaries = database.collection<StoredSummaryRecord>('summaries');
    this.versions = database.collection<SummaryVersionRecord>('summary_versions');
    this.versioned = new VersionedResources({
      records: this.summaries,
      versions: this.versions,
      resourceField: 'summaryId',
      firstInRecord: {
        fields: ['first'],
        of: (record) => (record.first ? { _id: versionKey(record._id, 1), summaryId: record._id, versionId: 1, ...record.first } : null),
      },
    });
  }

  async ensureIndexes(): Promise<void> {
    // A patient's documents are found through their changes (by `_id`), never by `patientId`:
    // the index earlier releases made for that costs every push and serves no query.
    await this.summaries.ensureIndexes([{ name: 'identifier_unique', keys: { identifierKey: 1 }, unique: true }], ['patient_current']);
    await this.versions.ensureIndexes([{ name: 'summary_versions', keys: { summaryId: 1, versionId: -1 } }]);
    await this.changes.recordEarlier();
  }

  /**
   * The record of document `id`. Never its bytes (they need a Disclosure, {@link version}); but
   * version 1's, held in the record, come in the same round trip and wait in the cache for it.
   */
  async findById(id: string): Promise<SummaryRecord | null> {
    const found = await this.summaries.findOne({ _id: id }, { fields: [...RECORD_FIELDS, 'first'] });
    if (!found) return null;
    const { first, ...record } = found;
    if (first && !this.cache.get(versionKey(id, 1))) this.cache.set(versionKey(id, 1), { bytes: Buffer.from(first.json, 'utf8'), lastUpdated: first.lastUpdated, profileSet: first.profileSet });
    return record;
  }

  findByIdentifier(identifierKey: string): Promise<SummaryRecord | null> {
    return this.summaries.findOne({ identifierKey }, { fields: RECORD_FIELDS });
  }

  /**
   * The patient's current summary: the document with the latest Bundle.timestamp (ties: the
   * latest stored), from the patient's changes as this instance read them at most the configured
   * TTL ago (usually just now, by the consent decision); its own writes are seen at once.
   * Concurrent readers share one read.
   */
  async currentForPatient(patientId: string): Promise<CurrentSummaryRef | null> {
    const current = currentOf(await this.changes.withDocuments(patientId, this.currentSummaryTtlMs));
    return current ? { summaryId: current.summaryId, versionId: current.versionId, lastUpdated: current.lastUpdated } : null;
  }

  /**
   * Makes sure the patient's changes name this version of the document (a push or update whose
   * writer stopped after the record, before the change, is completed by its retry).
   */
  async ensureListed(record: SummaryRecord): Promise<void> {
    const known = (await this.changes.withDocuments(record.patientId, this.currentSummaryTtlMs)).documents.get(record._id);
    if (known && known.versionId >= record.versionId) return;
    await this.list(record);
  }

  /**
   * Notes a patient this instance has just minted (see {@link PatientChanges.minted}): call right
   * before the push's consent decision, in the same turn of the event loop.
   */
  patientMinted(patientId: string): void {
    this.changes.minted(patientId);
  }

  /**
   * How a new patient's record lists this, their first document ({@link FirstDocument}): stored
   * with the patient, in place of a change entry ({@link list}); then {@link listedWithPatient}.
   */
  static firstDocumentOf(record: Pick<SummaryRecord, '_id' | 'timestampMs' | 'lastUpdated'>): FirstDocument {
    return { summaryId: record._id, timestampMs: record.timestampMs, lastUpdated: record.lastUpdated };
  }

  /** Notes that the patient's record, just stored by this instance, lists the document ({@link firstDocumentOf}): it may now be the current summary. */
  listedWithPatient(record: Pick<SummaryRecord, '_id' | 'patientId' | 'timestampMs' | 'lastUpdated'>): void {
    this.changes.listedWithPatient(record.patientId, SummaryRepository.firstDocumentOf(record));
  }

  /** Enters the record's version among the patient's changes: it may now be the current summary. */
  list(record: Pick<SummaryRecord, '_id' | 'patientId' | 'versionId' | 'timestampMs' | 'lastUpdated'>): Promise<void> {
    return this.changes.append(record.patientId, { kind: 'summary', summaryId: record._id, versionId: record.versionId, timestampMs: record.timestampMs, lastUpdated: record.lastUpdated });
  }

  /**
   * Stores a new document: its record with version 1's bytes inside, one insert (the commit
   * point). Throws DuplicateKeyError when a document with the same identifier is stored: then
   * nothing of this one is. The caller then enters it among the patient's changes ({@link list}):
   * until then it is stored but not yet anyone's current summary (a retry completes it,
   * {@link ensureListed}).
   */
  async create(record: SummaryRecord, json: string, profileSet: string): Promise<Buffer> {
    const { lastUpdated, timestampMs, contentHash } = record;
    await this.summaries.insertOne({ ...record, first: { lastUpdated, timestampMs, contentHash, profileSet, json } });
    // The bytes cached are the bytes answered: encoded once (0.2 ms for an all-sections document).
    const bytes = Buffer.from(json, 'utf8');
    this.cache.set(versionKey(record._id, 1), { bytes, lastUpdated, profileSet });
    return bytes;
  }

  /**
   * Claims version `next.versionId` of document `record` by storing its bytes, returned as
   * cached. Undefined when that
   * version exists already (another writer made it): the caller then rolls the record forward to
   * it. Once claimed, the version is stored: {@link completeVersion} makes it the record's and the
   * patient's (a writer stopping before that is finished by the next {@link rollForward}).
   */
  async claimVersion(record: SummaryRecord, next: NextVersion, json: string, profileSet: string): Promise<Buffer | undefined> {
    const { versionId, lastUpdated, timestampMs, contentHash } = next;
    if (!(await this.versioned.claim({ _id: versionKey(record._id, versionId), summaryId: record._id, versionId, lastUpdated, timestampMs, contentHash, profileSet, json }))) return undefined;
    const bytes = Buffer.from(json, 'utf8');
    this.cache.set(versionKey(record._id, versionId), { bytes, lastUpdated, profileSet });
    return bytes;
  }

  /** Moves the record's hint to a claimed version and enters it among the patient's changes: independent, so in one round trip's wait. */
  async completeVersion(record: SummaryRecord, next: NextVersion): Promise<void> {
    const { versionId, lastUpdated, timestampMs, contentHash } = next;
    await Promise.all([this.versioned.advance(record._id, versionId, { lastUpdated, timestampMs, contentHash }), this.list({ ...record, ...next })]);
  }

  /**
   * Brings a record up to its newest stored version, finishing a version whose writer stopped
   * after storing the bytes. Returns the record as it is now.
   */
  async rollForward(record: SummaryRecord): Promise<SummaryRecord> {
    const newer = await this.versioned.after(record._id, record.versionId, ['versionId', 'lastUpdated', 'timestampMs', 'contentHash']);
    const newest = newer.at(-1);
    if (!newest) return record;
    const next: NextVersion = { versionId: newest.versionId, lastUpdated: newest.lastUpdated, timestampMs: newest.timestampMs, contentHash: newest.contentHash };
    // The newest version is the one the patient's current summary may be: earlier ones never again.
    await this.completeVersion(record, next);
    return { ...record, ...next };
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
    const found = await this.versioned.version(summaryId, versionId, ['lastUpdated', 'json', 'profileSet']);
    if (!found) return null;
    const version = { bytes: Buffer.from(found.json, 'utf8'), lastUpdated: found.lastUpdated, profileSet: found.profileSet ?? '' };
    this.cache.set(key, version);
    return { key, versionId, ...version };
  }

  /** Version numbers of a document up to `upTo`, newest first. */
  async versionNumbers(summaryId: string, upTo: number): Promise<number[]> {
    const apart = (await this.versions.find({ summaryId, versionId: { $lte: upTo } }, { sort: { versionId: -1 }, fields: ['versionId'] })).map((v) => v.versionId);
    // Version 1 exists whenever the record does: in the record, or apart (earlier releases).
    return upTo >= 1 && !apart.includes(1) ? [...apart, 1] : apart;
  }
}
