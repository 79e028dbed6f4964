import type { Bundle } from 'fhir/r4.js';
import { LRUCache } from 'lru-cache';
import { createHash, randomUUID } from 'node:crypto';
import { upToEntries } from '../bounded-cache.js';
import type { Access } from '../access/access-context.js';
import { writeClaimOf } from '../auth/token-verifier.js';
import type { Disclosure } from '../access/disclosure.js';
import type { PatientDataGate } from '../access/patient-data-gate.js';
import { withholdSections } from '../consent/summary-redaction.js';
import { withServerMeta, withServerMetaText, type SerialisedWithoutServerMeta } from '../fhir/server-meta.js';
import type { ResourceAsWritten } from '../fhir/resources.js';
import { parseResourceText } from '../fhir/resource-body.js';
import { documentContentHash } from '../documents/content-hash.js';
import { checkDocumentRules, type DocumentFacts } from '../documents/document-rules.js';
import { identifierKey, patientFacts } from '../documents/patient-facts.js';
import { fhirError, type Problem } from '../fhir/operation-outcome.js';
import { IPS_BUNDLE_PROFILE } from '../validation/index.js';
import type { DocumentValidator } from '../validation/index.js';
import { DuplicateKeyError } from '../repositories/document-collection.js';
import type { PatientRepository } from '../repositories/patient-repository.js';
import { SummaryRepository, type SummaryRecord, type SummaryVersion } from '../repositories/summary-repository.js';

/** A stored document version as it leaves the node: its record and its serialised bytes. */
export interface StoredSummary {
  record: SummaryRecord;
  versionId: number;
  lastUpdated: Date;
  bytes: Buffer;
  /**
   * Set when consent withheld sections from this copy: a short digest of which, so that the
   * copy's entity tag differs from the whole version's (a client holding the whole version must
   * not be told by a 304 that it is what it may read now).
   */
  redaction?: string;
}

/** Result of a push: whether a new document was stored, or a retry matched a stored one. */
export interface PushResult extends StoredSummary {
  created: boolean;
  /** Warnings and information from profile validation (errors refuse the push). */
  notes: Problem[];
}

/** A pushed document that passed the rules and the profiles: its facts, the validator's notes, its content hash ('' when not computed) and, when the validator wrote it, its text to store less the server's members. */
type CheckedDocument = DocumentFacts & { notes: Problem[]; contentHash: string; serialised?: SerialisedWithoutServerMeta };

/**
 * Stores, versions and finds IPS documents; a patient's current summary is their newest
 * document by Bundle.timestamp. Writes are ordered so that, without transactions, a crash at any
 * point leaves readers consistent: a new document is one insert (its record with version 1's bytes,
 * the commit point), an update its version's bytes then the record's hint; then the patient's
 * change entry and demographics, which a retried push completes.
 */
export class SummaryService {
  constructor(
    private readonly summaries: SummaryRepository,
    private readonly patients: PatientRepository,
    private readonly validator: DocumentValidator,
    /** Every read and write of patient data passes through it. */
    private readonly gate: PatientDataGate,
    /** The profile every stored document must meet. */
    private readonly documentProfile: string = IPS_BUNDLE_PROFILE,
  ) {}

  /**
   * Verdicts on redacted variants (version and withheld sections): their bytes, or their errors;
   * the least recently used go first, beyond 10,000 variants or 256 MB of bytes.
   */
  private readonly redacted = new LRUCache<string, Buffer | Problem[]>({ max: 10_000, maxSize: 256 * 1024 * 1024, sizeCalculation: (v) => (Buffer.isBuffer(v) ? Math.max(1, v.length) : 1) });

  /** Verdicts on versions stored under another profile set: their errors, or none. */
  private readonly revalidated = new LRUCache<string, Problem[]>(upToEntries(100_000));

  /**
   * Checks the document rules, then the node's document profile (and every profile the
   * document declares): the facts, any warnings and (`hashed`) the content hash, else '', or a
   * 422 naming every problem. Given the JSON text the document was parsed from, profile
   * validation and hashing run on the validator's worker thread meanwhile the rules are checked here.
   */
  private async checked(bundle: ResourceAsWritten<'Bundle'>, json: string | undefined, hashed: boolean): Promise<CheckedDocument> {
    const offloaded: Promise<{ issues: Problem[]; contentHash: string; serialised?: SerialisedWithoutServerMeta }> | undefined =
      json === undefined
        ? undefined
        : hashed && this.validator.checkDocument
          ? this.validator.checkDocument(json, bundle, this.documentProfile)
          : !hashed && this.validator.checkPush
            ? // The text to store comes with the verdict (from the worker's parse for large documents).
              this.validator.checkPush(json, bundle, this.documentProfile).then((v) => ({ ...v, contentHash: '' }))
            : Promise.resolve(this.validator.validate(bundle, this.documentProfile, json)).then((issues) => ({ issues, contentHash: hashed ? documentContentHash(bundle) : '' }));
    // Settled here so that a refusal by the rules leaves no rejection unhandled.
    const verdict = offloaded?.then((v) => ({ ok: true as const, ...v }), (error: unknown) => ({ ok: false as const, error }));
    const check = checkDocumentRules(bundle);
    if (!check.ok) throw fhirError(422, check.problems);
    let issues: Problem[];
    let contentHash: string;
    let serialised: SerialisedWithoutServerMeta | undefined;
    if (verdict) {
      const settled = await verdict;
      if (!settled.ok) throw settled.error;
      ({ issues, contentHash } = settled);
      serialised = settled.serialised;
    } else {
      issues = await this.validator.validate(bundle, this.documentProfile);
      contentHash = hashed ? documentContentHash(bundle) : '';
    }
    // A ValidationIssue is a Problem: it goes into the OperationOutcome as it is.
    if (issues.some((i) => i.severity === 'error')) throw fhirError(422, issues);
    return { ...check.facts, notes: issues, contentHash, ...(serialised ? { serialised } : {}) };
  }

  /**
   * Stores a new document, or recognises a retry of a stored one (same identifier and content).
   * `text`: the JSON text `bundle` was parsed from, when the caller has it (checked off the event loop).
   */
  async push(bundle: ResourceAsWritten<'Bundle'>, access: Access, text?: string): Promise<PushResult> {
    // No content hash: only a refused insert (a retry or a conflict) needs one, see sameContent.
    return this.store(await this.checked(bundle, text, false), () => bundle, access);
  }

  /**
   * {@link push} from the request's text (its UTF-8 checked): with a validator that checks a
   * pushed document from its text alone, every check (the body's 400s, the rules, the profile)
   * runs there, and a large document is parsed only on a validation worker, never on the event loop.
   */
  async pushText(text: string, access: Access): Promise<PushResult> {
    if (!this.validator.checkPushText) return this.push(parseResourceText(text, 'Bundle'), access, text);
    const check = await this.validator.checkPushText(text, this.documentProfile);
    if ('refused' in check) throw fhirError(check.refused.status, check.refused.problems);
    const { facts, issues, serialised, document } = check;
    // Parsed here only when a refused insert needs the document (a retry or a conflict), and the worker kept it.
    return this.store({ ...facts, notes: issues, contentHash: '', serialised }, () => (document as ResourceAsWritten<'Bundle'> | undefined) ?? parseResourceText(text, 'Bundle'), access);
  }

  /** Stores a checked new document (`documentOf`: the document as parsed, asked for only when needed), or recognises a retry of a stored one. */
  private async store(facts: CheckedDocument, documentOf: () => ResourceAsWritten<'Bundle'>, access: Access): Promise<PushResult> {
    const key = identifierKey(facts.identifier.system, facts.identifier.value);
    const hash = facts.contentHash;
    // No look-up of the identifier first: the record's insert is unique on it, so a retry (or a
    // conflicting document) is found when that insert is refused, and a new document, the usual
    // push, costs no query (on FerretDB 1.x a scan of every document).
    const patient = patientFacts(facts.patient);
    // A write token claimed by its route (POST /fhir/Bundle): sent here, in the same turn as the
    // identifier's claim, so that both go out as one insert (`claims`); a replay may leave the
    // identifier's claim behind for one new identifier (as a crash after it does: nothing reads it
    // until a document is stored); a claim linking several identifiers to one patient is made only
    // once the token is known not to be a replay.
    const tokenClaim = writeClaimOf(access.requester);
    if (tokenClaim && patient.identifierKeys.length > 1) await tokenClaim;
    const [{ patientId, created: newPatient }] = await Promise.all([this.patients.resolve(patient.identifierKeys), tokenClaim]);
    // A patient minted just now has no changes yet: the decision that follows at once needs no probe.
    if (newPatient) this.summaries.patientMinted(patientId);
    const disclosure = await this.gate.open(access, patientId);
    const id = randomUUID();
    const now = new Date();
    const record: SummaryRecord = {
      _id: id,
      identifierKey: key,
      patientId,
      timestampMs: facts.timestampMs,
      versionId: 1,
      lastUpdated: now,
      contentHash: hash,
    };
    const meta = { versionId: '1', lastUpdated: now.toISOString() };
    const json = facts.serialised ? withServerMetaText(facts.serialised, 'Bundle', id, meta) : JSON.stringify(withServerMeta(documentOf(), 'Bundle', id, meta));
    let bytes: Buffer;
    try {
      // One insert: the record with version 1's bytes inside, unique on the identifier.
      bytes = await this.summaries.create(record, json, this.validator.profileSet);
    } catch (error) {
      if (!(error instanceof DuplicateKeyError)) throw error;
      const winner = await this.summaries.findByIdentifier(key);
      if (!winner) throw error;
      // The audit record names the stored document, not the id this push would have had.
      this.gate.touched(access, `Bundle/${winner._id}`);
      return this.retried(winner, documentOf(), facts, winner.patientId === patientId ? disclosure : await this.gate.open(access, winner.patientId));
    }
    disclosure.touched(`Bundle/${id}`);
    const patientJson = this.patientJson(facts, patientId, now);
    if (newPatient) {
      // After the commit point: the new patient's record lists the document (one insert for both);
      // if a racing push of the patient stored the record first, the document is listed apart.
      const listed = await this.patients.recordDocument(patientId, facts.timestampMs, patient, patientJson, true, SummaryRepository.firstDocumentOf(record));
      if (listed) this.summaries.listedWithPatient(record);
      else await this.summaries.list(record);
    } else {
      // After the commit point, independent of each other: one round trip's wait for both.
      await Promise.all([this.summaries.list(record), this.patients.recordDocument(patientId, facts.timestampMs, patient, patientJson)]);
    }
    return { created: true, record, versionId: 1, lastUpdated: now, bytes, notes: facts.notes };
  }

  private async retried(existing: SummaryRecord, bundle: ResourceAsWritten<'Bundle'>, facts: CheckedDocument, disclosure: Disclosure): Promise<PushResult> {
    if (!(await this.sameContent(existing, bundle, facts.contentHash, disclosure))) {
      throw fhirError(409, {
        code: 'duplicate',
        expression: 'Bundle.identifier',
        message: `a different document with this identifier is stored as Bundle/${existing._id}; a document's identity is immutable, give a new document a new identifier`,
      });
    }
    // The first push may have stopped before listing the document or indexing the patient: finish it.
    await this.summaries.ensureListed(existing);
    await this.patients.recordDocument(
      existing.patientId,
      existing.timestampMs,
      patientFacts(facts.patient),
      this.patientJson(facts, existing.patientId, existing.lastUpdated),
    );
    return { created: false, ...(await this.latest(existing, disclosure)), notes: facts.notes };
  }

  /**
   * Stores a new version of document `id` if `expectedVersion` is still its latest (optimistic
   * locking). Identity (identifier and patient) may not change; an identical body is a no-op.
   */
  async replace(id: string, expectedVersion: number, bundle: ResourceAsWritten<'Bundle'>, access: Access, text?: string): Promise<PushResult> {
    const found = await this.requireRecord(id, access);
    // Independent (a document never changes patient): one round trip's wait for both.
    const [existing, disclosure] = await Promise.all([this.summaries.rollForward(found), this.gate.open(access, found.patientId)]);
    if (existing.versionId !== expectedVersion) throw this.stale(existing);
    const facts = await this.checked(bundle, text, true);
    if (identifierKey(facts.identifier.system, facts.identifier.value) !== existing.identifierKey) {
      throw fhirError(409, {
        code: 'conflict',
        expression: 'Bundle.identifier',
        message: "Bundle.identifier cannot change: a document's identity is immutable; push a new document instead",
      });
    }
    const patient = patientFacts(facts.patient);
    if (!(await this.patients.attach(existing.patientId, patient.identifierKeys))) {
      throw fhirError(409, {
        code: 'conflict',
        expression: `Bundle.entry[${facts.patientIndex}].resource.identifier`,
        message: 'the document would move to another patient; push a new document for that patient instead',
      });
    }
    const hash = facts.contentHash;
    if (await this.sameContent(existing, bundle, hash, disclosure)) return { created: false, ...(await this.latest(existing, disclosure)), notes: facts.notes };

    const next = { versionId: existing.versionId + 1, lastUpdated: new Date(), timestampMs: facts.timestampMs, contentHash: hash };
    const json = JSON.stringify(
      withServerMeta(bundle, 'Bundle', id, { versionId: String(next.versionId), lastUpdated: next.lastUpdated.toISOString() }),
    );
    const bytes = await this.summaries.claimVersion(existing, next, json, this.validator.profileSet);
    if (!bytes) throw this.stale(await this.summaries.rollForward(existing));
    // After the claim (the commit point), independent of each other: one round trip's wait.
    await Promise.all([
      this.summaries.completeVersion(existing, next),
      this.patients.recordDocument(existing.patientId, facts.timestampMs, patient, this.patientJson(facts, existing.patientId, next.lastUpdated)),
    ]);
    const record: SummaryRecord = { ...existing, ...next };
    return { created: false, record, versionId: next.versionId, lastUpdated: next.lastUpdated, bytes, notes: facts.notes };
  }

  /**
   * Whether `bundle` (content hash `hash`, or '' when not computed) has the content of
   * `existing`'s latest version. A push stores no content hash ('', since only a retry, a
   * conflicting push or an update ever compares it): it is then taken from the stored bytes,
   * which hash alike, the hash ignoring what the server assigns.
   */
  private async sameContent(existing: SummaryRecord, bundle: ResourceAsWritten<'Bundle'>, hash: string, disclosure: Disclosure): Promise<boolean> {
    let stored = existing.contentHash;
    if (stored === '') {
      const version = await this.summaries.version({ summaryId: existing._id, patientId: existing.patientId }, existing.versionId, disclosure);
      // Bytes are written before anything points at them, so this is corruption, not a client error.
      if (!version) throw new Error('stored document version is missing');
      stored = documentContentHash(JSON.parse(version.bytes.toString('utf8')) as Bundle);
    }
    return stored === (hash === '' ? documentContentHash(bundle) : hash);
  }

  /** The latest version of document `id`; 404 (or, to others than its source, 403) when unknown. */
  async read(id: string, access: Access): Promise<StoredSummary> {
    const record = await this.requireRecord(id, access);
    return this.latest(record, await this.gate.open(access, record.patientId));
  }

  /** Version `versionId` of document `id`; 404 when either is unknown. */
  async readVersion(id: string, versionId: number, access: Access): Promise<StoredSummary> {
    const record = await this.requireRecord(id, access);
    const disclosure = await this.gate.open(access, record.patientId);
    const version = versionId <= record.versionId ? await this.summaries.version({ summaryId: id, patientId: record.patientId }, versionId, disclosure) : null;
    if (!version) throw fhirError(404, { code: 'not-found', message: `Bundle/${id} has no version ${versionId}` });
    disclosure.touched(`Bundle/${id}/_history/${versionId}`);
    await this.vet(version);
    return { record, ...version, ...(await this.released(version, disclosure)) };
  }

  /** Every version of document `id`, newest first. */
  async history(id: string, access: Access): Promise<StoredSummary[]> {
    const record = await this.requireRecord(id, access);
    const disclosure = await this.gate.open(access, record.patientId);
    const numbers = await this.summaries.versionNumbers(id, record.versionId);
    return Promise.all(numbers.map(async (n) => ({ record, ...(await this.requireVersion(record, n, disclosure)) })));
  }

  /** The patient's current summary, as their consent lets this requester have it. */
  async currentSummary(patientId: string, access: Access): Promise<Omit<StoredSummary, 'record'>> {
    // Decide before looking: a refused requester learns nothing, not even whether a summary exists.
    const disclosure = await this.gate.open(access, patientId);
    const current = await this.summaries.currentForPatient(patientId);
    if (!current) throw this.gate.unreleasable(access, `Patient/${patientId}`);
    return this.requireVersion({ _id: current.summaryId, patientId }, current.versionId, disclosure);
  }

  /** The current summary of the patient holding identifier `system|value`. */
  async currentSummaryByIdentifier(system: string, value: string, access: Access): Promise<Omit<StoredSummary, 'record'>> {
    const patientId = await this.patients.patientIdByIdentifier(identifierKey(system, value));
    if (!patientId) throw await this.gate.refuseUnknown(access, `identifier:${identifierKey(system, value)}`, 'a patient with this identifier');
    return this.currentSummary(patientId, access);
  }

  private async latest(record: SummaryRecord, disclosure: Disclosure): Promise<StoredSummary> {
    return { record, ...(await this.requireVersion(record, record.versionId, disclosure)) };
  }

  private async requireVersion(
    record: Pick<SummaryRecord, '_id' | 'patientId'>,
    versionId: number,
    disclosure: Disclosure,
  ): Promise<Omit<StoredSummary, 'record'>> {
    const version = await this.summaries.version({ summaryId: record._id, patientId: record.patientId }, versionId, disclosure);
    // Bytes are written before anything points at them, so this is corruption, not a client error.
    if (!version) throw new Error('stored document version is missing');
    await this.vet(version);
    return { versionId: version.versionId, lastUpdated: version.lastUpdated, ...(await this.released(version, disclosure)) };
  }

  /**
   * The bytes the disclosure lets leave: the stored ones, or (sections withheld by consent) a
   * redacted document, validated like any other outgoing summary and remembered per variant.
   */
  private async released(version: SummaryVersion, disclosure: Disclosure): Promise<Pick<StoredSummary, 'bytes' | 'redaction'>> {
    const withheld = disclosure.decision.withheldSections;
    if (withheld.length === 0) return { bytes: version.bytes };
    const key = `${version.key}#${withheld.join(',')}#${this.validator.profileSet}`;
    let verdict = this.redacted.get(key);
    if (verdict === undefined) {
      const redacted = withholdSections(JSON.parse(version.bytes.toString('utf8')) as Bundle, new Set(withheld));
      const errors = (await this.validator.validate(redacted, this.documentProfile)).filter((i) => i.severity === 'error');
      verdict = errors.length > 0 ? errors : Buffer.from(JSON.stringify(redacted), 'utf8');
      this.redacted.set(key, verdict);
    }
    if (!Buffer.isBuffer(verdict)) {
      throw fhirError(422, [{ code: 'invariant', message: 'the summary with the sections the patient withheld is not a valid document, so it is not sent' }, ...verdict]);
    }
    return { bytes: verdict, redaction: createHash('sha256').update([...withheld].sort().join(',')).digest('base64url').slice(0, 12) };
  }

  /**
   * Nothing leaves unless it meets the profiles in force: a version validated under another
   * profile set is validated again (once per version and process) and refused if it fails.
   */
  private async vet(version: SummaryVersion): Promise<void> {
    if (version.profileSet === this.validator.profileSet) return;
    let problems = this.revalidated.get(version.key);
    if (problems === undefined) {
      const text = version.bytes.toString('utf8');
      const issues = await this.validator.validate(JSON.parse(text) as Bundle, this.documentProfile, text);
      problems = issues.filter((i) => i.severity === 'error');
      this.revalidated.set(version.key, problems);
    }
    if (problems.length > 0) {
      throw fhirError(422, [
        { code: 'invariant', message: 'the stored document does not meet the profiles now in force, so it is not sent; its holder must correct it' },
        ...problems,
      ]);
    }
  }

  private async requireRecord(id: string, access: Access): Promise<SummaryRecord> {
    const record = await this.summaries.findById(id);
    if (!record) throw await this.gate.refuseUnknown(access, `Bundle/${id}`, `Bundle/${id}`);
    this.gate.touched(access, `Bundle/${id}`);
    return record;
  }

  private stale(record: SummaryRecord): Error {
    return fhirError(412, {
      code: 'conflict',
      message: `Bundle/${record._id} is at version ${record.versionId}; read it again and retry with If-Match: W/"${record.versionId}"`,
    });
  }

  private patientJson(facts: DocumentFacts, patientId: string, lastUpdated: Date): string {
    return JSON.stringify(withServerMeta(facts.patient, 'Patient', patientId, { lastUpdated: lastUpdated.toISOString() }));
  }
}
