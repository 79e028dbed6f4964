import { DuplicateKeyError, type DocumentCollection, type Filter } from './document-collection.js';

/** `_id` of version `versionId` of resource `id`: inserting it is what claims the version. */
export const versionKey = (id: string, versionId: number): string => `${id}@${versionId}`;

/** What every stored version has: `_id` is {@link versionKey}, written once, never changed. */
export interface StoredVersion {
  _id: string;
  versionId: number;
}

/** What every resource record has: its id, and the newest version it knows to be stored (a hint). */
export interface VersionedRecord {
  _id: string;
  versionId: number;
}

/** How one kind of versioned resource is stored. */
export interface VersionedResourceShape<R extends VersionedRecord, V extends StoredVersion> {
  /** The records (`summaries`, `consents`). */
  records: DocumentCollection<R>;
  /** The versions written apart (`summary_versions`, `consent_versions`). */
  versions: DocumentCollection<V>;
  /** The field of a version naming its resource (`summaryId`, `consentId`). */
  resourceField: keyof V & string;
  /**
   * Version 1 kept inside the record itself (documents: one insert stores the document and is
   * its commit point), read with these record fields; absent: every version is stored apart.
   * Records without them (earlier releases) have version 1 apart as well.
   */
  firstInRecord?: { fields: readonly string[]; of(record: R): V | null };
}

/**
 * The one versioning mechanism of Bundles and Consents (issue 11), resting only on atomic
 * inserts and unique `_id`s (FerretDB 1.x applies a conditional update or `$inc` to racing
 * writers alike):
 * - version n+1 is claimed by inserting `<id>@<n+1>`: of racing writers exactly one succeeds;
 * - versions are gapless (n+1 is only written by whoever read n), so the newest is found by
 *   walking forward by `_id` from the record's hint;
 * - the hint is moved forward after each version, and repaired by whoever finds it behind
 *   (a writer stopped after its version, or two hint updates raced and the lower landed last).
 */
export class VersionedResources<R extends VersionedRecord, V extends StoredVersion> {
  constructor(private readonly shape: VersionedResourceShape<R, V>) {}

  /**
   * Claims version `version.versionId` by inserting it: false when that version exists already
   * (another writer claimed it). Other failures throw.
   */
  async claim(version: V): Promise<boolean> {
    try {
      await this.shape.versions.insertOne(version);
      return true;
    } catch (error) {
      if (error instanceof DuplicateKeyError) return false;
      throw error;
    }
  }

  /**
   * Version `versionId` of resource `id` (with only `fields`, when given), or null. Version 1 of a
   * resource kept in its record is read from the record.
   */
  async version(id: string, versionId: number, fields?: readonly string[]): Promise<V | null> {
    const first = this.shape.firstInRecord;
    if (versionId === 1 && first) {
      const record = await this.shape.records.findOne({ _id: id }, { fields: first.fields });
      const inline = record ? first.of(record) : null;
      if (inline || !record) return inline;
      // A record of an earlier release: its version 1 is stored apart.
    }
    return this.shape.versions.findOne({ _id: versionKey(id, versionId) }, fields ? { fields } : {});
  }

  /**
   * The version after `known`, and the one after that, up to the newest: versions are gapless,
   * so this finds every version stored after `known`. Empty when `known` is the newest.
   */
  async after(id: string, known: number, fields?: readonly string[]): Promise<V[]> {
    const newer: V[] = [];
    for (let next = await this.version(id, known + 1, fields); next; next = await this.version(id, known + newer.length + 1, fields)) newer.push(next);
    return newer;
  }

  /**
   * Moves the record's hint forward to `versionId` (with `set`: other fields of that version).
   * Not atomic on FerretDB (two racing updates may both apply, the lower last): harmless, as
   * readers walk forward from whatever it says.
   */
  async advance(id: string, versionId: number, set: Partial<R> = {}): Promise<void> {
    await this.shape.records.updateOne({ _id: id, versionId: { $lt: versionId } }, { $set: { ...set, versionId } });
  }

  /** Every stored version of resource `id` up to `upTo` (all when absent), newest first. */
  async history(id: string, upTo?: number, fields?: readonly string[]): Promise<V[]> {
    const filter: Filter = { [this.shape.resourceField]: id, ...(upTo === undefined ? {} : { versionId: { $lte: upTo } }) };
    const apart = await this.shape.versions.find(filter, { sort: { versionId: -1 }, ...(fields ? { fields } : {}) });
    if (!this.shape.firstInRecord || apart.some((v) => v.versionId === 1) || (upTo !== undefined && upTo < 1)) return apart;
    const first = await this.version(id, 1, fields);
    return first ? [...apart, first] : apart;
  }
}
