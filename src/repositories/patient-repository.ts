import { LRUCache } from 'lru-cache';
import { upToEntries } from '../bounded-cache.js';
import { assertDisclosed, type Disclosure } from '../access/disclosure.js';
import { randomUUID } from 'node:crypto';
import type { PatientFacts } from '../documents/patient-facts.js';
import type { FirstDocument } from './patient-changes.js';
import { CLAIMS, type IdentifierClaim } from './claims.js';
import { DuplicateKeyError, type DocumentCollection, type DocumentDatabase, type Filter } from './document-collection.js';

/** A patient as indexed from the Patient entries of their documents. */
export interface PatientRecord extends PatientFacts {
  /** Server-assigned Patient id. */
  _id: string;
  /** The Patient resource served for this id (from the newest document), serialised. */
  json: string;
  /** Bundle.timestamp of the document the demographics come from. */
  sourceTimestampMs: number;
  /** False until the first document of the patient is stored: such a patient is invisible. */
  hasSummary: boolean;
  lastUpdated: Date;
  /**
   * Every prefix of the family, given names and birth date, searched by equality
   * ({@link searchKeysOf}). Absent in records of earlier releases until the store opens.
   */
  familyPrefixes?: string[];
  givenPrefixes?: string[];
  birthDatePrefixes?: string[];
  searchKeysVersion?: number;
  /**
   * The document whose push created the patient, listed here rather than among the patient's
   * changes (one write fewer a new patient); absent when another push stored the record.
   */
  firstDocument?: FirstDocument;
}

/** Search criteria on patients, already checked and normalised by the route. */
export interface PatientCriteria {
  identifierKey?: string;
  identifierSystem?: string;
  identifierValue?: string;
  familyPrefix?: string;
  givenPrefix?: string;
  birthDate?: { op: 'eq' | 'gt' | 'ge' | 'lt' | 'le'; value: string };
  gender?: string;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Names are indexed by their prefixes up to this length; longer searches also match the name itself. */
const MAX_NAME_PREFIX = 24;
/** Version of {@link searchKeysOf}'s keys: records without it are given them when the store opens. */
const SEARCH_KEYS_VERSION = 1;

/**
 * The keys a demographic search finds a patient by, each an equality: every prefix (1 to
 * {@link MAX_NAME_PREFIX} characters) of each normalised family and given name, and the birth
 * date's year, year-month and date. A "starts with" search is then one equality per criterion,
 * which an index answers on every store: FerretDB 1.x pushes down equality only, never `$regex`,
 * so a regex scans every patient there, while its PostgreSQL backend answers an equality from an
 * index (docs/operations.md).
 */
export function searchKeysOf(facts: Pick<PatientFacts, 'family' | 'given' | 'birthDate'>): Required<Pick<PatientRecord, 'familyPrefixes' | 'givenPrefixes' | 'birthDatePrefixes'>> & { searchKeysVersion: number } {
  const prefixes = (names: readonly string[]): string[] => {
    const all = new Set<string>();
    for (const name of names) {
      const chars = Array.from(name); // code points: a prefix never splits a character
      for (let n = 1; n <= Math.min(chars.length, MAX_NAME_PREFIX); n++) all.add(chars.slice(0, n).join(''));
    }
    return [...all];
  };
  const date = facts.birthDate ?? '';
  const datePrefixes = /^\d{4}(-\d{2}(-\d{2})?)?$/.test(date) ? [date.slice(0, 4), date.slice(0, 7), date.slice(0, 10)].filter((d, i, all) => all.indexOf(d) === i) : [];
  return { familyPrefixes: prefixes(facts.family), givenPrefixes: prefixes(facts.given), birthDatePrefixes: datePrefixes, searchKeysVersion: SEARCH_KEYS_VERSION };
}

/** A "starts with" criterion on a normalised name: its prefix key, and the name itself beyond the keys' length. */
function namePrefixFilter(keys: 'familyPrefixes' | 'givenPrefixes', names: 'family' | 'given', prefix: string): Filter {
  const chars = Array.from(prefix);
  // Nothing left once normalised (only combining marks): any name starts with it, as before.
  if (chars.length === 0) return { [names]: { $regex: '^' } };
  if (chars.length <= MAX_NAME_PREFIX) return { [keys]: prefix };
  return { [keys]: chars.slice(0, MAX_NAME_PREFIX).join(''), [names]: { $regex: `^${escapeRegex(prefix)}` } };
}

const VISIBLE: Filter = { hasSummary: true };
const MAX_CLAIM_ATTEMPTS = 3;
/** Identifier claims remembered per instance; beyond it the memory starts over. */
const MAX_REMEMBERED_CLAIMS = 200_000;

/** Patients and the identifiers that find them. */
export class PatientRepository {
  private readonly patients: DocumentCollection<PatientRecord>;
  private readonly claims: DocumentCollection<IdentifierClaim>;
  /** Upgrades done once per store (their `_id` names them), so that later starts skip them. */
  private readonly upgrades: DocumentCollection<{ _id: string }>;
  /**
   * Who holds each identifier seen by this instance. A claim is inserted once and never changed
   * or removed, so remembering it is always right, across instances too: a known patient's push
   * needs no look-up. (Reads by identifier still ask: see {@link patientIdByIdentifier}.)
   */
  private readonly holders = new LRUCache<string, string>(upToEntries(MAX_REMEMBERED_CLAIMS));
  constructor(database: DocumentDatabase) {
    this.patients = database.collection<PatientRecord>('patients');
    // Shared with the write tokens' uses: a push's two claims are one insert.
    this.claims = database.collection<IdentifierClaim>(CLAIMS);
    this.upgrades = database.collection<{ _id: string }>('store_upgrades');
  }

  async ensureIndexes(): Promise<void> {
    await this.patients.ensureIndexes([
      // Not by identifierKeys: a whole identifier finds its patient through its claim (by `_id`),
      // so the index earlier releases made on it costs every push and serves no query.
      { name: 'identifier_values', keys: { identifierValues: 1 } },
      // Names are found by their prefix keys (an index on the names themselves would serve no query).
      { name: 'birth_date', keys: { birthDate: 1 } },
      { name: 'family_prefixes', keys: { familyPrefixes: 1 } },
      { name: 'given_prefixes', keys: { givenPrefixes: 1 } },
      { name: 'birth_date_prefixes', keys: { birthDatePrefixes: 1 } },
    ], ['identifier_keys']);
    await this.addSearchKeys();
  }

  /**
   * Gives patients of earlier releases their search keys ({@link searchKeysOf}), which the
   * demographic search needs to find them. `$ne` rather than `$exists`: FerretDB's PostgreSQL
   * backend filters it in the database, so a store with nothing to do reads no patient.
   */
  private async addSearchKeys(): Promise<void> {
    // Once per store: every later start would otherwise read the whole collection (a scan on FerretDB).
    const marker = `patient-search-keys-${SEARCH_KEYS_VERSION}`;
    if (await this.upgrades.findOne({ _id: marker })) return;
    const outdated = await this.patients.find({ searchKeysVersion: { $ne: SEARCH_KEYS_VERSION } }, { fields: ['family', 'given', 'birthDate'] });
    for (const patient of outdated) {
      // Only while still without keys: a push storing newer demographics meanwhile stores their keys
      // with them. (FerretDB 1.x does not apply such a condition atomically; the window is this
      // one update, once, when a store of an earlier release first opens.)
      await this.patients.updateOne({ _id: patient._id, searchKeysVersion: { $ne: SEARCH_KEYS_VERSION } }, { $set: searchKeysOf({ family: patient.family ?? [], given: patient.given ?? [], birthDate: patient.birthDate ?? null }) });
    }
    try {
      await this.upgrades.insertOne({ _id: marker });
    } catch (error) {
      // Another instance finished the same upgrade first.
      if (!(error instanceof DuplicateKeyError)) throw error;
    }
  }

  /**
   * The id of the patient these identifiers belong to, or of a new patient (`created`): then
   * only its identifier claims are stored, and {@link recordDocument} stores the patient once
   * its first document is. A document without identifiers always gets a new patient.
   */
  async resolve(identifierKeys: readonly string[]): Promise<{ patientId: string; created: boolean }> {
    if (identifierKeys.length === 0) return { patientId: randomUUID(), created: true };
    const remembered = identifierKeys.map((key) => this.holders.get(key));
    // Every identifier known here, all of one patient: nothing to claim or look up.
    if (remembered.every((holder) => holder !== undefined && holder === remembered[0])) return { patientId: remembered[0]!, created: false };
    for (let attempt = 0; attempt < MAX_CLAIM_ATTEMPTS; attempt++) {
      // One identifier (the usual case): claiming it for a new patient is the lookup, one round
      // trip for a new patient. Several: the patient is whoever holds any of them, so look first.
      const known = identifierKeys.length === 1 ? undefined : await this.patientIdByIdentifiers(identifierKeys);
      const patientId = known ?? randomUUID();
      if (await this.claim(patientId, identifierKeys, known === undefined)) return { patientId, created: known === undefined };
      const holder = identifierKeys.length === 1 ? await this.holderOf(identifierKeys[0]!) : undefined;
      if (holder) return { patientId: holder, created: false };
    }
    throw new Error('could not claim patient identifiers after concurrent attempts');
  }

  /**
   * Claims the identifiers for an existing patient; false when one of them already belongs to
   * another patient (a document may not move to someone else).
   */
  async attach(patientId: string, identifierKeys: readonly string[]): Promise<boolean> {
    for (const key of identifierKeys) {
      const remembered = this.holders.get(key);
      if (remembered !== undefined) {
        if (remembered !== patientId) return false;
        continue;
      }
      try {
        await this.claims.insertOne({ _id: key, patientId });
        this.remember(key, patientId);
      } catch (error) {
        if (!(error instanceof DuplicateKeyError)) throw error;
        if ((await this.holderOf(key)) !== patientId) return false;
      }
    }
    return true;
  }

  /**
   * Patient id claiming one identifier, if any, asked of the database every time: reads by
   * identifier must cost the same whether the patient is known or not, or their timing would
   * tell (test/hardening/patient-budget.test.ts).
   */
  async patientIdByIdentifier(identifierKey: string): Promise<string | undefined> {
    const holder = (await this.claims.findOne({ _id: identifierKey }))?.patientId;
    if (holder !== undefined) this.remember(identifierKey, holder);
    return holder;
  }

  /** The holder of an identifier for a push (the data's source), from memory when known. */
  private async holderOf(identifierKey: string): Promise<string | undefined> {
    return this.holders.get(identifierKey) ?? (await this.patientIdByIdentifier(identifierKey));
  }

  private remember(identifierKey: string, patientId: string): void {
    this.holders.set(identifierKey, patientId);
  }

  private async patientIdByIdentifiers(identifierKeys: readonly string[]): Promise<string | undefined> {
    for (const key of identifierKeys) {
      const id = await this.holderOf(key);
      if (id) return id;
    }
    return undefined;
  }

  /**
   * Claims every unclaimed identifier for the patient. When the patient is new and its first
   * identifier was claimed meanwhile by another writer, gives up (false) so the caller resolves
   * again and joins that patient instead of creating a twin.
   */
  private async claim(patientId: string, identifierKeys: readonly string[], isNew: boolean): Promise<boolean> {
    let rest = identifierKeys;
    if (isNew) {
      try {
        await this.claims.insertOne({ _id: identifierKeys[0]!, patientId });
      } catch (error) {
        if (!(error instanceof DuplicateKeyError)) throw error;
        return false;
      }
      this.remember(identifierKeys[0]!, patientId);
      rest = identifierKeys.slice(1);
    }
    // The others in one round trip; those already held (by this patient or another) stay as they are.
    rest = rest.filter((key) => this.holders.get(key) === undefined);
    if (rest.length > 0) {
      const inserted = await this.claims.insertEach(rest.map((key) => ({ _id: key, patientId })));
      rest.forEach((key, i) => {
        if (inserted[i]) this.remember(key, patientId);
      });
    }
    return true;
  }

  /**
   * Records that a document of the patient is stored: the patient becomes visible, gains the
   * document's identifiers, and takes its demographics when the document is the newest seen.
   * `created`: the patient was made by this push ({@link resolve}), so it is inserted whole, with
   * `first`, the document, listed in it. Resolves to whether it was: when not (a racing push of the
   * patient stored the record first, or the patient was not new), the caller lists the document
   * among the patient's changes. Idempotent, so a retried push finishes an interrupted one (whose
   * patient may not be stored yet).
   */
  async recordDocument(patientId: string, timestampMs: number, facts: PatientFacts, patientJson: string, created = false, first?: FirstDocument): Promise<boolean> {
    const demographics = {
      sourceTimestampMs: timestampMs,
      json: patientJson,
      family: facts.family,
      given: facts.given,
      birthDate: facts.birthDate,
      gender: facts.gender,
      ...searchKeysOf(facts),
    };
    const whole = (): PatientRecord => ({
      _id: patientId,
      identifierKeys: [...facts.identifierKeys],
      identifierSystems: [...facts.identifierSystems],
      identifierValues: [...facts.identifierValues],
      ...demographics,
      hasSummary: true,
      lastUpdated: new Date(),
    });
    if (created && (await this.insertWhole(first ? { ...whole(), firstDocument: first } : whole()))) return first !== undefined;
    const identifiers = {
      identifierKeys: { $each: facts.identifierKeys },
      identifierSystems: { $each: facts.identifierSystems },
      identifierValues: { $each: facts.identifierValues },
    };
    for (let attempt = 0; attempt < MAX_CLAIM_ATTEMPTS; attempt++) {
      const newest = await this.patients.updateOne(
        { _id: patientId, sourceTimestampMs: { $lte: timestampMs } },
        { $set: { hasSummary: true, ...demographics, lastUpdated: new Date() }, $addToSet: identifiers },
      );
      if (newest) return false;
      if (await this.patients.updateOne({ _id: patientId }, { $set: { hasSummary: true }, $addToSet: identifiers })) return false;
      // Not stored yet: its first push stopped after claiming the identifiers.
      if (await this.insertWhole(whole())) return false;
    }
    throw new Error('could not record the patient after concurrent attempts');
  }

  /** Inserts a patient; false when it exists already (another push of theirs stored it first). */
  private async insertWhole(record: PatientRecord): Promise<boolean> {
    try {
      await this.patients.insertOne(record);
      return true;
    } catch (error) {
      if (!(error instanceof DuplicateKeyError)) throw error;
      return false;
    }
  }

  /** What identifies a patient with at least one stored summary (no demographics). */
  identity(patientId: string): Promise<Pick<PatientRecord, '_id' | 'identifierKeys' | 'lastUpdated'> | null> {
    return this.patients.findOne({ _id: patientId, ...VISIBLE }, { fields: ['identifierKeys', 'lastUpdated'] });
  }

  /** A patient with at least one stored summary; refuses without a disclosure for them. */
  async findVisible(patientId: string, disclosure: Disclosure): Promise<PatientRecord | null> {
    assertDisclosed(disclosure, patientId);
    return this.patients.findOne({ _id: patientId, ...VISIBLE });
  }

  /**
   * Ids of visible patients matching every criterion, ordered by id: no demographics, which
   * are read per patient through {@link findVisible} once a decision permits it.
   */
  async search(criteria: PatientCriteria, skip: number, limit: number): Promise<{ total: number; patients: Array<Pick<PatientRecord, '_id'>> }> {
    const filter: Filter = { ...VISIBLE };
    if (criteria.identifierKey !== undefined) {
      const id = await this.patientIdByIdentifier(criteria.identifierKey);
      if (!id) return { total: 0, patients: [] };
      filter['_id'] = id;
    }
    if (criteria.identifierSystem !== undefined) filter['identifierSystems'] = criteria.identifierSystem;
    if (criteria.identifierValue !== undefined) filter['identifierValues'] = criteria.identifierValue;
    if (criteria.familyPrefix !== undefined) Object.assign(filter, namePrefixFilter('familyPrefixes', 'family', criteria.familyPrefix));
    if (criteria.givenPrefix !== undefined) Object.assign(filter, namePrefixFilter('givenPrefixes', 'given', criteria.givenPrefix));
    if (criteria.gender !== undefined) filter['gender'] = criteria.gender;
    if (criteria.birthDate !== undefined) {
      const { op, value } = criteria.birthDate;
      // eq: the date and every more precise date within it (1980-05 finds 1980-05-12), one key each.
      if (op === 'eq' && /^\d{4}(-\d{2}(-\d{2})?)?$/.test(value)) filter['birthDatePrefixes'] = value;
      else filter['birthDate'] = op === 'eq' ? { $regex: `^${escapeRegex(value)}` } : { [`$${op === 'ge' ? 'gte' : op === 'le' ? 'lte' : op}`]: value };
    }
    const [total, patients] = await Promise.all([
      this.patients.count(filter),
      this.patients.find(filter, { sort: { _id: 1 }, skip, limit, fields: ['_id'] }),
    ]);
    return { total, patients };
  }
}
