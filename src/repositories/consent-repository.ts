import type { ConsentRules } from '../consent/consent-decision.js';
import type { DocumentCollection, DocumentDatabase } from './document-collection.js';
import type { ConsentVersion } from './consent-version.js';
import { PatientChanges } from './patient-changes.js';
import { versionKey, VersionedResources } from './versioned-resources.js';

export type { ConsentVersion } from './consent-version.js';

/**
 * What is known of a Consent apart from its versions: whose it is, and the newest version known
 * to be stored (0 until version 1 is). Only a hint: readers walk forward from it to the newest
 * version, and repair it when behind.
 */
interface ConsentRecord {
  _id: string;
  patientId: string;
  versionId: number;
}

/** A `consents` record as written before versions were stored apart: the latest version inline. */
interface LegacyConsentRecord extends ConsentRecord {
  status: string;
  dateTimeMs: number;
  lastUpdated: Date;
  json: string;
}

/** `_id` of version `versionId` of Consent `consentId`. */
export const consentVersionKey: (consentId: string, versionId: number) => string = versionKey;

/** Of each Consent among `versions`, its newest version. */
function newestOfEach(versions: readonly ConsentVersion[]): ConsentVersion[] {
  const newest = new Map<string, ConsentVersion>();
  for (const v of versions) {
    const seen = newest.get(v.consentId);
    if (!seen || seen.versionId < v.versionId) newest.set(v.consentId, v);
  }
  return [...newest.values()];
}

/**
 * Consent resources, per patient, versioned like IPS documents by {@link VersionedResources}:
 * without multi-document transactions, and without relying on conditional updates being atomic
 * (FerretDB 1.x applies them to racing writers alike), correctness rests on inserts being atomic
 * and `_id` unique:
 * - the record is inserted first (at version 0: nothing visible yet), then each version's bytes
 *   under `<id>@<version>`; that insert is the commit point and the claim, so of two writers of
 *   version n exactly one succeeds;
 * - versions are gapless (version n+1 is only written by whoever read version n), so the newest
 *   one is found by walking forward from the record's hint, by `_id`;
 * - the consent decision and searches read versions, never the record: they see each Consent at
 *   its newest complete version, whatever state a crashed or racing writer left the record in;
 * - the decision finds a patient's versions through the patient's changes ({@link PatientChanges},
 *   `<patientId>#<n>`, entered before each version): each instance remembers what it read and
 *   probes the next position by `_id`, so a decision costs one `_id` look-up (FerretDB 1.x scans
 *   for any other filter), and sees every version stored before it started.
 */
export class ConsentRepository {
  private readonly records: DocumentCollection<ConsentRecord>;
  private readonly versions: DocumentCollection<ConsentVersion>;
  private readonly versioned: VersionedResources<ConsentRecord, ConsentVersion>;

  constructor(
    database: DocumentDatabase,
    /** The patients' changes, shared with the store's other repositories. */
    private readonly changes: PatientChanges = new PatientChanges(database),
  ) {
    this.records = database.collection<ConsentRecord>('consents');
    this.versions = database.collection<ConsentVersion>('consent_versions');
    this.versioned = new VersionedResources({ records: this.records, versions: this.versions, resourceField: 'consentId' });
  }

  /**
   * Creates the indexes, stores apart the versions held inline by records of earlier releases,
   * and gives versions stored before change entries existed their entries.
   */
  async ensureIndexes(): Promise<void> {
    await this.versions.ensureIndexes([{ name: 'patient_consent_version', keys: { patientId: 1, consentId: 1, versionId: -1 } }]);
    await this.upgradeLegacyRecords();
    await this.changes.recordEarlier();
  }

  /**
   * Records written by earlier releases carry their latest version inline, and no version apart:
   * without this, the decision (which reads versions) would not see them, a deny among them
   * included. Idempotent, and safe when several instances start at once.
   */
  private async upgradeLegacyRecords(): Promise<void> {
    const legacy = (await this.records.find({ json: { $exists: true } })) as LegacyConsentRecord[];
    if (legacy.length === 0) return;
    // Their change entries first, as any writer does (again after a crash: a repeated entry is harmless).
    for (const r of legacy) await this.appendChange(r.patientId, r._id, r.versionId);
    await this.versions.insertEach(
      legacy.map((r) => ({
        _id: consentVersionKey(r._id, r.versionId),
        consentId: r._id,
        patientId: r.patientId,
        versionId: r.versionId,
        status: r.status,
        dateTimeMs: r.dateTimeMs,
        lastUpdated: r.lastUpdated,
        json: r.json,
      })),
    );
    for (const r of legacy) await this.records.updateOne({ _id: r._id }, { $unset: { json: '', status: '', dateTimeMs: '', lastUpdated: '' } });
  }

  /**
   * Stores a new Consent at version 1: its record (at version 0: nothing visible) and the
   * patient's change entry, independent of each other and so in one round trip's wait, then the
   * version (the commit point), then the record's hint.
   */
  async create(first: ConsentVersion): Promise<void> {
    await Promise.all([
      this.records.insertOne({ _id: first.consentId, patientId: first.patientId, versionId: 0 }),
      this.appendChange(first.patientId, first.consentId, first.versionId),
    ]);
    // Nobody else knows this id yet: the claim cannot be taken.
    if (!(await this.versioned.claim(first))) throw new Error('a new Consent\'s first version was taken');
    await this.versioned.advance(first.consentId, first.versionId);
  }

  /**
   * Stores version `next.versionId` of a Consent, after the patient's change entry naming it.
   * False when that version exists already (another writer claimed it): the entry then names
   * the other writer's version, which is as it should be.
   */
  async appendVersion(next: ConsentVersion): Promise<boolean> {
    await this.appendChange(next.patientId, next.consentId, next.versionId);
    if (!(await this.versioned.claim(next))) return false;
    await this.versioned.advance(next.consentId, next.versionId);
    return true;
  }

  /**
   * Consent `id` at its newest stored version, or null when there is no such Consent (or its
   * creation stopped before version 1 was stored). Repairs the record when found behind.
   */
  async current(id: string): Promise<ConsentVersion | null> {
    const record = await this.records.findOne({ _id: id }, { fields: ['versionId'] });
    if (!record) return null;
    const known = record.versionId;
    // The version the record names and the ones after it, together: one round trip when current.
    const [named, newer] = await Promise.all([known > 0 ? this.versioned.version(id, known) : Promise.resolve(null), this.versioned.after(id, known)]);
    // The record only ever names stored versions: a missing one is corruption, not a client error.
    if (known > 0 && !named) throw new Error('stored Consent version is missing');
    const latest = newer.at(-1) ?? named;
    if (latest && latest.versionId > known) await this.versioned.advance(id, latest.versionId);
    return latest;
  }

  /** Version `versionId` of Consent `id`, or null. */
  version(id: string, versionId: number): Promise<ConsentVersion | null> {
    return this.versioned.version(id, versionId);
  }

  /** Every stored version of Consent `id`, newest first. */
  history(id: string): Promise<ConsentVersion[]> {
    return this.versioned.history(id);
  }

  /** A patient's Consents at their newest versions, newest by Consent.dateTime first. */
  async forPatient(patientId: string): Promise<ConsentVersion[]> {
    const newest = newestOfEach(await this.versions.find({ patientId }));
    return newest.sort((a, b) => b.dateTimeMs - a.dateTimeMs || (a.consentId < b.consentId ? -1 : a.consentId > b.consentId ? 1 : 0));
  }

  /**
   * What the decision reads of a patient's Consents: the active ones at their newest stored
   * versions, found through the patient's changes. Sees every version stored before the call;
   * in the steady state one `_id` look-up (the next change, not there). Throws when the store
   * cannot be read.
   */
  async rulesForPatient(patientId: string): Promise<ConsentRules[]> {
    const state = await this.changes.refreshed(patientId);
    return [...state.consents.values()].filter((v) => v.status === 'active').map(({ versionId: _, ...rules }) => rules);
  }

  /** Enters the change before its version is stored: whoever sees the version, the decision sees it too. */
  private appendChange(patientId: string, consentId: string, versionId: number): Promise<void> {
    return this.changes.append(patientId, { kind: 'consent', consentId, versionId });
  }
}
