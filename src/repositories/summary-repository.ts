import type { DocumentCollection, DocumentDatabase } from './document-collection.js';
import { DocumentCache } from './document-cache.js';

/** One stored version of a document. */
export interface SummaryVersion {
  versionId: number;
  lastUpdated: Date;
  /** Key of the immutable serialised Bundle of this version. */
  contentId: string;
}

/** What is known of a stored IPS document (its bytes live apart, by content id). */
export interface SummaryRecord {
  /** Server-assigned Bundle id. */
  _id: string;
  /** `system|value` of Bundle.identifier; unique. */
  identifierKey: string;
  patientId: string;
  /** Bundle.timestamp in epoch ms. */
  timestampMs: number;
  versionId: number;
  lastUpdated: Date;
  contentHash: string;
  contentId: string;
  /** Every version, oldest first, the current one included. */
  versions: SummaryVersion[];
}

/** Serialised Bundle of one version; written once, never changed. */
interface SummaryContentRecord {
  _id: string;
  summaryId: string;
  versionId: number;
  json: string;
}

/**
 * Stored IPS documents and their versions. A version's bytes are written before the record that
 * makes them reachable, so a crash between the two leaves an unreachable blob, never a record
 * pointing at nothing.
 */
export class SummaryRepository {
  private readonly summaries: DocumentCollection<SummaryRecord>;
  private readonly contents: DocumentCollection<SummaryContentRecord>;

  constructor(
    database: DocumentDatabase,
    private readonly cache: DocumentCache,
  ) {
    this.summaries = database.collection<SummaryRecord>('summaries');
    this.contents = database.collection<SummaryContentRecord>('summary_contents');
  }

  async ensureIndexes(): Promise<void> {
    await this.summaries.ensureIndexes([
      { name: 'identifier_unique', keys: { identifierKey: 1 }, unique: true },
      { name: 'patient_current', keys: { patientId: 1, timestampMs: -1 } },
    ]);
    await this.contents.ensureIndexes([{ name: 'summary_versions', keys: { summaryId: 1, versionId: -1 } }]);
  }

  findById(id: string): Promise<SummaryRecord | null> {
    return this.summaries.findOne({ _id: id });
  }

  findByIdentifier(identifierKey: string): Promise<SummaryRecord | null> {
    return this.summaries.findOne({ identifierKey });
  }

  /** The patient's document with the latest Bundle.timestamp (ties: latest update). */
  latestForPatient(patientId: string): Promise<SummaryRecord | null> {
    return this.summaries.findOne({ patientId }, { sort: { timestampMs: -1, lastUpdated: -1 } });
  }

  /**
   * Stores a new document: bytes first, then the record. Throws DuplicateKeyError when a
   * document with the same identifier was stored meanwhile.
   */
  async create(record: SummaryRecord, json: string): Promise<void> {
    await this.writeContent(record._id, record.versionId, record.contentId, json);
    await this.summaries.insertOne(record);
  }

  /**
   * Adds version `next` on top of `expectedVersion`; false when another writer got there first
   * (the loser's bytes stay unreachable).
   */
  async appendVersion(
    id: string,
    expectedVersion: number,
    next: Pick<SummaryRecord, 'timestampMs' | 'contentHash' | 'contentId' | 'versionId' | 'lastUpdated'>,
    json: string,
  ): Promise<boolean> {
    await this.writeContent(id, next.versionId, next.contentId, json);
    return this.summaries.updateOne(
      { _id: id, versionId: expectedVersion },
      {
        $set: {
          versionId: next.versionId,
          lastUpdated: next.lastUpdated,
          timestampMs: next.timestampMs,
          contentHash: next.contentHash,
          contentId: next.contentId,
        },
        $push: { versions: { versionId: next.versionId, lastUpdated: next.lastUpdated, contentId: next.contentId } },
      },
    );
  }

  /** Serialised Bundle of one version, from memory when seen before. */
  async content(contentId: string): Promise<Buffer | null> {
    const cached = this.cache.get(contentId);
    if (cached) return cached;
    const found = await this.contents.findOne({ _id: contentId }, { fields: ['json'] });
    if (!found) return null;
    const bytes = Buffer.from(found.json, 'utf8');
    this.cache.set(contentId, bytes);
    return bytes;
  }

  private async writeContent(summaryId: string, versionId: number, contentId: string, json: string): Promise<void> {
    await this.contents.insertOne({ _id: contentId, summaryId, versionId, json });
    this.cache.set(contentId, Buffer.from(json, 'utf8'));
  }
}
