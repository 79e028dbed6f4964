import { LRUCache } from 'lru-cache';
import { upToEntries } from '../bounded-cache.js';
import type { ConsentRules } from '../consent/consent-decision.js';
import type { ConsentVersion } from './consent-version.js';
import { DuplicateKeyError, type DocumentCollection, type DocumentDatabase } from './document-collection.js';
import { versionKey as consentVersionKey } from './versioned-resources.js';

/**
 * One change of a patient's data that a request's look-ups depend on: a version of one of their
 * Consents (entered before the version is stored, so a reader may find it not stored yet), or a
 * version of one of their documents (entered once the document record names it).
 */
export type PatientChange =
  | { kind: 'consent'; consentId: string; versionId: number }
  | { kind: 'summary'; summaryId: string; versionId: number; timestampMs: number; lastUpdated: Date };

/**
 * A change as stored: `_id` is `<patientId>#<n>`, n = 1, 2, ... without gaps. Inserting it claims
 * position n, so a reader that has seen n changes finds every later one by probing
 * `<patientId>#<n+1>` by `_id`, the only look-up FerretDB 1.x answers without a scan.
 */
type StoredChange = PatientChange & { _id: string; patientId: string };

/**
 * The document whose push created the patient, listed in the patient's record by the insert that
 * stores the patient (`firstDocument`) rather than by a change entry: a new patient's push then
 * writes one document fewer. Never changed once the record is stored (updates of the record set
 * other fields); a patient whose record was stored by another push has none, its documents are
 * all change entries.
 */
export interface FirstDocument {
  summaryId: string;
  timestampMs: number;
  lastUpdated: Date;
}

/** What the consent decision needs of one Consent version. */
export type RuleVersion = ConsentRules & { versionId: number };

/** The newest version of one of the patient's documents this instance knows of. */
export interface DocumentState {
  summaryId: string;
  versionId: number;
  timestampMs: number;
  lastUpdated: Date;
}

/**
 * What one instance knows of a patient: the first `seen` changes, the newest stored version of
 * each of their Consents and documents among them, the Consent changes whose version was not
 * stored when read (a writer under way, or one that stopped between its two inserts: asked again
 * at every read), and when the changes were last read.
 */
export interface PatientState {
  seen: number;
  consents: ReadonlyMap<string, RuleVersion>;
  pending: ReadonlyArray<{ consentId: string; versionId: number }>;
  documents: ReadonlyMap<string, DocumentState>;
  /**
   * Whether the patient's record was read for its {@link FirstDocument} (read once, by the first
   * look-up that needs the patient's documents: the consent decision never does).
   */
  firstRead: boolean;
  readAtMs: number;
}

/** What the decision reads of a stored Consent version. */
type ConsentVersionFacts = Omit<ConsentVersion, 'lastUpdated'>;

interface SummaryFacts {
  _id: string;
  patientId: string;
  versionId: number;
  timestampMs: number;
  lastUpdated: Date;
}

/** Marks a store whose Consent versions and documents all have their change entries. */
const CHANGES_COMPLETE = 'changes-complete';
/** Patients whose state one instance remembers; beyond it the least recently used go. */
const REMEMBERED_PATIENTS = 100_000;
/** Attempts at appending a change when other writers keep taking the next position. */
const MAX_APPEND_ATTEMPTS = 20;

const changeKey = (patientId: string, n: number): string => `${patientId}#${n}`;
const nothingKnown = (): PatientState => ({ seen: 0, consents: new Map(), pending: [], documents: new Map(), firstRead: false, readAtMs: 0 });

/** Of two document versions, the one that is the patient's current summary: the latest Bundle.timestamp, then the latest stored. */
function later(a: DocumentState, b: DocumentState): DocumentState {
  return b.timestampMs > a.timestampMs || (b.timestampMs === a.timestampMs && b.lastUpdated.getTime() > a.lastUpdated.getTime()) ? b : a;
}

/** The patient's current summary among the documents known: the newest by Bundle.timestamp. */
export function currentOf(state: PatientState): DocumentState | undefined {
  let current: DocumentState | undefined;
  for (const d of state.documents.values()) current = current ? later(current, d) : d;
  return current;
}

/**
 * Each patient's changes (`patient_changes`), through which the per-request look-ups by patient
 * (the consent decision, the current summary) are made by `_id` only: every instance remembers
 * what it read of a patient and probes the next position, so in the steady state a request
 * costs one `_id` miss, and sees every change stored before it started. Several instances on one
 * database stay correct: positions are claimed by unique insert (FerretDB's conditional updates
 * and `$inc` are not atomic under concurrency), never updated.
 */
export class PatientChanges {
  private readonly changes: DocumentCollection<StoredChange>;
  private readonly consentVersions: DocumentCollection<ConsentVersionFacts>;
  private readonly summaries: DocumentCollection<SummaryFacts>;
  private readonly patients: DocumentCollection<{ _id: string; firstDocument?: FirstDocument }>;
  private readonly known = new LRUCache<string, PatientState>(upToEntries(REMEMBERED_PATIENTS));
  /** Reads under way that callers content with a recent state may share. */
  private readonly reading = new Map<string, Promise<PatientState>>();
  /** Patients whose id this instance minted in the current turn of the event loop ({@link minted}). */
  private readonly justMinted = new Set<string>();

  constructor(database: DocumentDatabase) {
    this.changes = database.collection<StoredChange>('patient_changes');
    this.consentVersions = database.collection<ConsentVersionFacts>('consent_versions');
    this.summaries = database.collection<SummaryFacts>('summaries');
    this.patients = database.collection<{ _id: string; firstDocument?: FirstDocument }>('patients');
  }

  /**
   * The patient's state with every change stored before the call. Steady state: one `_id` look-up
   * (the next position, not there), plus one per Consent change still pending.
   */
  async refreshed(patientId: string): Promise<PatientState> {
    const readAtMs = Date.now();
    if (this.justMinted.delete(patientId)) return { ...nothingKnown(), readAtMs };
    const before = this.known.get(patientId) ?? nothingKnown();
    // The next position and the versions still missing, together: one round trip when nothing changed.
    const [first, stillPending] = await Promise.all([
      this.changes.findOne({ _id: changeKey(patientId, before.seen + 1) }),
      Promise.all(before.pending.map((p) => this.consentVersions.findOne({ _id: consentVersionKey(p.consentId, p.versionId) }))),
    ]);
    if (!first && stillPending.every((v) => v === null)) {
      const same = { ...before, readAtMs };
      // A patient without changes is not remembered: probing their first position costs the same,
      // and ids asked for at random would otherwise push real patients out.
      if (before.seen > 0 || before.pending.length > 0 || before.firstRead) this.keep(patientId, same);
      return same;
    }
    const arrived: StoredChange[] = [];
    for (let change = first; change; change = await this.changes.findOne({ _id: changeKey(patientId, before.seen + arrived.length + 1) })) arrived.push(change);
    const consentChanges = [
      ...before.pending.map((p, i) => ({ change: p, version: Promise.resolve(stillPending[i] ?? null) })),
      ...arrived
        .filter((c): c is StoredChange & { kind: 'consent' } => c.kind === 'consent')
        .map((c) => ({ change: c, version: this.consentVersions.findOne({ _id: consentVersionKey(c.consentId, c.versionId) }) })),
    ];
    const versions = await Promise.all(consentChanges.map((c) => c.version));
    const consents = new Map(before.consents);
    const pending: Array<{ consentId: string; versionId: number }> = [];
    consentChanges.forEach(({ change }, i) => {
      const version = versions[i];
      if (!version) {
        pending.push({ consentId: change.consentId, versionId: change.versionId });
        return;
      }
      const held = consents.get(version.consentId);
      if (held && held.versionId >= version.versionId) return;
      const resource = JSON.parse(version.json) as { provision?: ConsentRules['provision'] };
      consents.set(version.consentId, { id: version.consentId, versionId: version.versionId, status: version.status, dateTimeMs: version.dateTimeMs, provision: resource.provision ?? {} });
    });
    const documents = new Map(before.documents);
    for (const c of arrived) if (c.kind === 'summary') this.noteDocument(documents, c);
    const after: PatientState = {
      seen: before.seen + arrived.length,
      consents,
      // A pending version made moot by a newer one found (versions are gapless) is dropped.
      pending: pending.filter((p) => (consents.get(p.consentId)?.versionId ?? 0) < p.versionId),
      documents,
      firstRead: before.firstRead,
      readAtMs,
    };
    this.keep(patientId, after);
    return after;
  }

  /**
   * Notes that this instance has just minted `patientId` (its claim of the patient's identifiers
   * won, or the document has none): the patient's first read in this turn of the event loop (the
   * push's consent decision, which follows at once) probes nothing. Exact, not a shortcut: a
   * Consent needs a visible patient, so a change of this patient needs a document of theirs stored
   * after the claim, at least two round trips away; and a document change does not bear on a
   * decision (the push's own entry, or a racing push's, is appended after whatever is there).
   * Forgotten when the turn ends, so no later read can rely on it.
   */
  minted(patientId: string): void {
    this.justMinted.add(patientId);
    setImmediate(() => this.justMinted.delete(patientId));
  }

  /**
   * The patient's state as read at most `maxAgeMs` ago (the current summary may be that stale on
   * another instance's writes; this instance's own are seen at once). Concurrent callers share one read.
   */
  recent(patientId: string, maxAgeMs: number): Promise<PatientState> {
    const known = this.known.get(patientId);
    if (known && Date.now() - known.readAtMs < maxAgeMs) return Promise.resolve(known);
    let reading = this.reading.get(patientId);
    if (!reading) {
      reading = this.refreshed(patientId).finally(() => this.reading.delete(patientId));
      this.reading.set(patientId, reading);
    }
    return reading;
  }

  /**
   * {@link recent}, with the document listed in the patient's record ({@link FirstDocument}) among
   * the documents: for the current summary. The record is read once per patient and instance,
   * with the first such look-up (a patient without a record yet is read again next time: their
   * record may still be stored with it).
   */
  async withDocuments(patientId: string, maxAgeMs: number): Promise<PatientState> {
    const state = await this.recent(patientId, maxAgeMs);
    if (state.firstRead) return state;
    const patient = await this.patients.findOne({ _id: patientId }, { fields: ['firstDocument'] });
    if (!patient) return state;
    const held = this.known.get(patientId);
    const base = held && held.seen >= state.seen ? held : state;
    const documents = new Map(base.documents);
    if (patient.firstDocument) this.noteDocument(documents, { kind: 'summary', versionId: 1, ...patient.firstDocument });
    const read: PatientState = { ...base, documents, firstRead: true };
    this.known.set(patientId, read);
    return read;
  }

  /**
   * Notes that this instance stored the patient's record with its first document in it
   * ({@link FirstDocument}): its own write, seen at once, as {@link append} does for a change entry.
   */
  listedWithPatient(patientId: string, first: FirstDocument): void {
    this.justMinted.delete(patientId);
    const known = this.known.get(patientId) ?? nothingKnown();
    const documents = new Map(known.documents);
    this.noteDocument(documents, { kind: 'summary', versionId: 1, ...first });
    this.known.set(patientId, { ...known, documents, firstRead: true });
  }

  /**
   * Claims the next position of the patient's changes for `change`: an insert, retried at the
   * position after the last one when another writer took it.
   */
  async append(patientId: string, change: PatientChange): Promise<void> {
    // "Minted, so without changes" stops being true here (a decision that reads no Consents never used the mark).
    this.justMinted.delete(patientId);
    let n = (this.known.get(patientId)?.seen ?? 0) + 1;
    for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS; attempt++) {
      try {
        await this.changes.insertOne({ ...change, _id: changeKey(patientId, n), patientId });
        this.learnOwn(patientId, n, change);
        return;
      } catch (error) {
        if (!(error instanceof DuplicateKeyError)) throw error;
        // Taken: learn how far the changes go, then try after them.
        n = (await this.refreshed(patientId)).seen + 1;
      }
    }
    throw new Error('could not record the change of the patient after concurrent attempts');
  }

  /**
   * Gives Consent versions and documents stored before change entries existed their entries:
   * without them the decision and the current summary would not see them. Once per store (a
   * marker says it is done); safe to repeat and when several instances start at once (a change
   * entered twice is harmless).
   */
  async recordEarlier(): Promise<void> {
    if (await this.changes.findOne({ _id: CHANGES_COMPLETE })) return;
    const byPatient = new Map<string, PatientChange[]>();
    const add = (patientId: string, change: PatientChange) => byPatient.set(patientId, [...(byPatient.get(patientId) ?? []), change]);
    const newestConsents = new Map<string, ConsentVersionFacts>();
    for (const v of await this.consentVersions.find({}, { fields: ['consentId', 'patientId', 'versionId'] })) {
      if ((newestConsents.get(v.consentId)?.versionId ?? 0) < v.versionId) newestConsents.set(v.consentId, v);
    }
    for (const v of newestConsents.values()) add(v.patientId, { kind: 'consent', consentId: v.consentId, versionId: v.versionId });
    for (const s of await this.summaries.find({}, { fields: ['patientId', 'versionId', 'timestampMs', 'lastUpdated'] })) {
      add(s.patientId, { kind: 'summary', summaryId: s._id, versionId: s.versionId, timestampMs: s.timestampMs, lastUpdated: s.lastUpdated });
    }
    // What is entered already, read once (not a probe per patient: this may be a large store).
    const keyOf = (change: PatientChange): string => (change.kind === 'consent' ? `c ${change.consentId}@${change.versionId}` : `s ${change.summaryId}@${change.versionId}`);
    const entered = new Map<string, { named: Set<string>; last: number }>();
    for (const c of await this.changes.find({ patientId: { $ne: '' } })) {
      const held = entered.get(c.patientId) ?? { named: new Set<string>(), last: 0 };
      held.named.add(keyOf(c));
      held.last = Math.max(held.last, Number(c._id.slice(c._id.lastIndexOf('#') + 1)));
      entered.set(c.patientId, held);
    }
    // Documents listed in their patient's record are entered too.
    for (const p of await this.patients.find({ firstDocument: { $exists: true } }, { fields: ['firstDocument'] })) {
      const held = entered.get(p._id) ?? { named: new Set<string>(), last: 0 };
      held.named.add(`s ${p.firstDocument!.summaryId}@1`);
      entered.set(p._id, held);
    }
    const missing: StoredChange[] = [];
    for (const [patientId, wanted] of byPatient) {
      const held = entered.get(patientId) ?? { named: new Set<string>(), last: 0 };
      for (const change of wanted) if (!held.named.has(keyOf(change))) missing.push({ ...change, _id: changeKey(patientId, ++held.last), patientId });
    }
    // All at once; a position another instance took meanwhile is appended after its entries.
    const inserted = missing.length > 0 ? await this.changes.insertEach(missing) : [];
    for (const [i, change] of missing.entries()) {
      if (inserted[i]) continue;
      const { _id: _, patientId, ...rest } = change;
      await this.append(patientId, rest as PatientChange);
    }
    try {
      await this.changes.insertOne({ _id: CHANGES_COMPLETE, patientId: '', kind: 'consent', consentId: '', versionId: 0 });
    } catch (error) {
      if (!(error instanceof DuplicateKeyError)) throw error;
    }
  }

  /** This instance's own change at position n: known at once when it knows everything before it. */
  private learnOwn(patientId: string, n: number, change: PatientChange): void {
    const known = this.known.get(patientId);
    if (change.kind === 'summary' && (known?.seen ?? 0) === n - 1) {
      const documents = new Map(known?.documents ?? []);
      this.noteDocument(documents, change);
      this.keep(patientId, { ...(known ?? nothingKnown()), seen: n, documents, readAtMs: known?.readAtMs ?? 0 });
    } else if (known) {
      // Read again before the state is reused (a Consent's version is stored after its entry).
      this.known.set(patientId, { ...known, readAtMs: 0 });
    }
  }

  private noteDocument(documents: Map<string, DocumentState>, change: PatientChange & { kind: 'summary' }): void {
    const held = documents.get(change.summaryId);
    if (held && held.versionId >= change.versionId) return;
    documents.set(change.summaryId, { summaryId: change.summaryId, versionId: change.versionId, timestampMs: change.timestampMs, lastUpdated: new Date(change.lastUpdated) });
  }

  /** Keeps the state that has read further (concurrent reads of one patient may finish in any order). */
  private keep(patientId: string, state: PatientState): void {
    const held = this.known.get(patientId);
    if (!held || held.seen < state.seen || (held.seen === state.seen && held.readAtMs <= state.readAtMs)) this.known.set(patientId, state);
  }
}
