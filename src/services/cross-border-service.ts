import type { PatientDataGate } from '../access/patient-data-gate.js';
import { createHash } from 'node:crypto';
import { mayFetchAbroad } from '../access/access-policy.js';
import Boom from '@hapi/boom';
import type { Bundle, Patient } from 'fhir/r4.js';
import { LRUCache } from 'lru-cache';
import { fhirError, type Problem } from '../fhir/operation-outcome.js';
import type { TrustList } from '../auth/trust-list.js';
import type { NodeIdentity } from '../exchange/node-identity.js';
import type { PeerClient, PeerResource } from '../exchange/peer-client.js';
import type { PeerDirectory, PeerNode } from '../exchange/peer-directory.js';
import { SignatureRefused, summaryEntityTag, verifySummary } from '../exchange/summary-signature.js';
import type { Access } from '../access/access-context.js';
import type { DocumentValidator } from '../validation/index.js';

/** Demographics that narrow an identification at the home node (PDQm style). */
export interface Demographics {
  family?: string;
  given?: string;
  birthdate?: string;
  gender?: string;
}

/** How long a clinician's identification of a patient at their home node is reused (a consultation). */
export const IDENTIFICATION_REUSE_MS = 5 * 60_000;

/** Refusals of a summary read by id that may mean the identification is stale: identify again. */
const STALE_IDENTIFICATION = new Set([403, 404, 410]);

/** Bytes held of summaries received and accepted (about 3,000 all-sections documents). */
const ACCEPTED_COPIES_BYTES = 32 * 2 ** 20;

/**
 * How long an accepted copy is offered back to its home node (If-None-Match) and passed on when
 * the home node confirms it (304): the signature on what a clinician reads is at most this old.
 */
export const HELD_COPY_REUSE_MS = 10 * 60_000;

/** A summary accepted from its home node: what is passed on, and what its signature covers. */
interface AcceptedCopy {
  bytes: Buffer;
  /** The digest of the signed canonical content (the home node's ETag for it). */
  digest: string;
  /** The home node's key that signed it: the copy is passed on again only while the trust list holds it. */
  kid: string;
}

/** A summary as it arrived from its home node, to be checked. */
interface Arrival {
  home: PeerNode;
  resource: PeerResource;
  /** `resource` serialised once, by the peer client: what is passed on when it is accepted. */
  bytes: Buffer;
}

/**
 * The clinician's side of the exchange: a patient whose identifier belongs to another Member
 * State is identified at their home node, and their summary fetched from there, on behalf of the
 * clinician (a token signed by this node carrying the clinician's claims). What arrives is
 * checked before it is passed on: the home node's signature, then the document profile.
 */
export class CrossBorderService {
  /**
   * Validation verdicts of received documents (errors only), by the SHA-256 of their signed
   * canonical content and the profile set: the same document arrives again and again, re-signed.
   * Concurrent first reads of one document validate it once (fetchMethod).
   */
  private readonly verdicts: LRUCache<string, Problem[], Bundle>;
  /**
   * Summaries received and accepted (signature verified, content valid), by the home node's
   * issuer, the profile set and the SHA-256 of its bytes (serialised once from what was parsed):
   * what is passed on. A home
   * node reuses a signed copy for a while, so the same bytes arrive again and again; bytes
   * identical to ones checked need no second parse, verification or validation, and concurrent
   * first arrivals of one copy are checked once (fetchMethod). Any other bytes are checked.
   */
  private readonly accepted: LRUCache<string, AcceptedCopy, Arrival>;
  /**
   * The copy last accepted of each patient's summary, by home node, profile set and the patient's
   * id there, for {@link HELD_COPY_REUSE_MS}: offered back in If-None-Match. The home node runs
   * its consent check and audit as for any read, and answers 304 only when what it would send
   * this requester now has the same signed content; anything else comes whole and is checked.
   */
  private readonly held: LRUCache<string, AcceptedCopy>;
  /**
   * Identifications made by each clinician, by everything that shapes the home node's answer
   * (clinician, role, purpose, break-glass, identifier, demographics): the patient's id there,
   * reused for {@link IDENTIFICATION_REUSE_MS}.
   */
  private readonly identifications = new LRUCache<string, string>({ max: 10_000, ttl: IDENTIFICATION_REUSE_MS });

  constructor(
    private readonly directory: PeerDirectory,
    private readonly peers: PeerClient,
    private readonly identity: NodeIdentity,
    private readonly trust: TrustList,
    private readonly validator: DocumentValidator,
    private readonly documentProfile: string,
    /** Notes in the audit facts what is asked of the home node. */
    private readonly gate: PatientDataGate,
  ) {
    this.verdicts = new LRUCache({
      max: 10_000,
      fetchMethod: async (_key, _stale, { context }) => (await this.validator.validate(context, this.documentProfile)).filter((i) => i.severity === 'error'),
    });
    this.accepted = new LRUCache({
      maxSize: ACCEPTED_COPIES_BYTES,
      sizeCalculation: (copy) => Math.max(1, copy.bytes.length),
      fetchMethod: (_key, _stale, { context }) => this.check(context),
    });
    this.held = new LRUCache({ maxSize: ACCEPTED_COPIES_BYTES, sizeCalculation: (copy) => Math.max(1, copy.bytes.length), ttl: HELD_COPY_REUSE_MS });
  }

  /**
   * The home node of an identifier system when it is another Member State's; undefined when the
   * patient is looked up here (this country's systems, and, for hospital systems and peers,
   * any other identifier a stored document carries). A clinician asking with a system no Member
   * State is home to gets a 400 naming it.
   */
  foreignHome(system: string, access: Access): PeerNode | undefined {
    const home = this.directory.homeOf(system);
    if (!home) {
      if (mayFetchAbroad(access.requester)) {
        throw fhirError(400, { code: 'not-supported', expression: 'identifier', message: `identifier system ${system} belongs to no Member State in this node's peer directory` });
      }
      return undefined;
    }
    return home === this.directory.self ? undefined : home;
  }

  private requireClinician(access: Access): void {
    if (!mayFetchAbroad(access.requester)) {
      throw fhirError(403, { code: 'forbidden', message: "summaries from other Member States are fetched for this country's clinicians only" });
    }
  }

  private call(home: PeerNode, access: Access) {
    return { token: () => this.identity.onBehalfOf(access.requester, home.baseUrl), requestId: access.requestId, ...(access.traceparent ? { traceparent: access.traceparent } : {}) };
  }

  /** Identifies the patient at `home`: their Patient there, exactly one, or an OperationOutcome. */
  async identify(home: PeerNode, system: string, value: string, demographics: Demographics, access: Access): Promise<Patient> {
    this.requireClinician(access);
    const params: Record<string, string> = { identifier: `${system}|${value}` };
    for (const [k, v] of Object.entries(demographics)) if (v !== undefined) params[k] = v;
    this.gate.touched(access, `${home.baseUrl}/Patient?identifier`);
    const found = await this.peers.search(home, params, this.call(home, access));
    if (found.resourceType !== 'Bundle') throw fhirError(502, { code: 'exception', message: `the node of ${home.country} answered a search with a ${found.resourceType}` });
    // A searchset as the peer wrote it: each entry is looked at before it is taken for a Patient.
    const entry: unknown = found['entry'];
    const entries = (Array.isArray(entry) ? (entry as unknown[]) : [])
      .map((e) => (e !== null && typeof e === 'object' ? (e as { resource?: unknown }).resource : undefined))
      .filter((r): r is Patient => r !== null && typeof r === 'object' && (r as { resourceType?: unknown }).resourceType === 'Patient');
    if (entries.length === 0) throw fhirError(404, { code: 'not-found', expression: 'identifier', message: `the node of ${home.country} has no summary it can release for this patient` });
    if (entries.length > 1) {
      throw fhirError(409, { code: 'multiple-matches', message: `the node of ${home.country} matched ${entries.length} patients; narrow with family, given, birthdate or gender` });
    }
    const patient = entries[0]!;
    if (typeof patient.id === 'string') this.identifications.set(identificationKey(home, system, value, demographics, access), patient.id);
    return patient;
  }

  /** The patient's Patient at their home node, reduced to what confirms identity (id, identifier, name, birthDate, gender), and nothing more. */
  async minimalPatient(home: PeerNode, system: string, value: string, demographics: Demographics, access: Access): Promise<Patient> {
    const patient = await this.identify(home, system, value, demographics, access);
    const minimal: Patient = { resourceType: 'Patient' };
    if (patient.id !== undefined) minimal.id = patient.id;
    if (patient.identifier !== undefined) minimal.identifier = patient.identifier;
    if (patient.name !== undefined) minimal.name = patient.name;
    if (patient.birthDate !== undefined) minimal.birthDate = patient.birthDate;
    if (patient.gender !== undefined) minimal.gender = patient.gender;
    return minimal;
  }

  /**
   * The patient's summary from their home node, its signature verified and its content
   * validated. A clinician who identified the patient a moment ago is not identified again: the
   * summary is read by the id found then (consent, audit and signature are checked at each read
   * all the same). If that read is refused, the identification may be stale: it is made again,
   * so that the answer is the one a fresh identification gives.
   */
  async summary(home: PeerNode, system: string, value: string, demographics: Demographics, access: Access): Promise<Buffer> {
    this.requireClinician(access);
    const key = identificationKey(home, system, value, demographics, access);
    const known = this.identifications.get(key);
    if (known !== undefined) {
      try {
        return await this.summaryOf(home, known, access);
      } catch (error) {
        if (!Boom.isBoom(error) || !STALE_IDENTIFICATION.has(error.output.statusCode)) throw error;
      }
    }
    this.identifications.delete(key);
    const patient = await this.identify(home, system, value, demographics, access);
    return this.summaryOf(home, String(patient.id), access);
  }

  private async summaryOf(home: PeerNode, id: string, access: Access): Promise<Buffer> {
    this.gate.touched(access, `${home.baseUrl}/Patient/${id}/$summary`);
    const heldKey = `${home.issuer}\n${this.validator.profileSet}\n${id}`;
    const offered = this.stillTrusted(this.held, heldKey, home);
    let key = '';
    let known: AcceptedCopy | undefined;
    const answer = await this.peers.summary(
      home,
      id,
      this.call(home, access),
      (bytes) => {
        key = `${home.issuer}\n${this.validator.profileSet}\n${createHash('sha256').update(bytes).digest('base64url')}`;
        known = this.stillTrusted(this.accepted, key, home);
        return known !== undefined;
      },
      offered ? [summaryEntityTag(offered.digest)] : undefined,
    );
    // 304: the home node would send this requester the content of the offered copy, which was
    // checked (signature, profile) when it arrived.
    if (answer.unchanged !== undefined && offered) return offered.bytes;
    // Bytes known byte for byte come back unparsed: they were checked when they first arrived.
    const copy = known ?? (await this.accepted.fetch(key, { context: { home, resource: answer.resource!, bytes: answer.bytes } }));
    if (copy === undefined) throw new Error('a received summary was neither accepted nor refused');
    this.held.set(heldKey, copy);
    return copy.bytes;
  }

  /**
   * An accepted copy from `cache`, if the home node's key that signed it is still in the trust
   * list; a copy whose key was withdrawn is forgotten, so that it is neither offered nor passed on.
   */
  private stillTrusted(cache: LRUCache<string, AcceptedCopy, Arrival> | LRUCache<string, AcceptedCopy>, key: string, home: PeerNode): AcceptedCopy | undefined {
    const copy = cache.get(key);
    if (copy === undefined || this.trust.issuer(home.issuer)?.keys.has(copy.kid)) return copy;
    cache.delete(key);
    return undefined;
  }

  /**
   * Checks a summary that arrived from its home node before anything of it is passed on: the
   * home node's signature over its canonical content, then the document profile in force here.
   * Resolves to the bytes passed on (the Bundle as parsed, serialised once) and what the signature covers.
   */
  private async check({ home, resource, bytes }: Arrival): Promise<AcceptedCopy> {
    let digest: string;
    let kid: string;
    try {
      ({ digest, kid } = await verifySummary(resource, home.issuer, this.trust));
    } catch (error) {
      if (!(error instanceof SignatureRefused)) throw error;
      throw fhirError(502, { code: 'security', message: `the summary from the node of ${home.country} is refused: ${error.message}` });
    }
    const { signature: _signature, ...content } = resource;
    // A signed resource whose type is not Bundle is refused by the profile (Bundle) below.
    const errors = (await this.verdicts.fetch(`${digest}\n${this.validator.profileSet}`, { context: content as unknown as Bundle }))!;
    if (errors.length > 0) {
      throw fhirError(502, [
        { code: 'invalid', message: `the summary from the node of ${home.country} does not meet the profiles in force here; it is not passed on` },
        ...errors,
      ]);
    }
    // Serialised from what was parsed, so that the bytes passed on say exactly what was checked
    // (a duplicate member, which JSON.parse resolves one way, cannot be read another way later).
    return { bytes, digest, kid };
  }
}

/** What shapes a home node's answer to an identification: who asks, in which role, for what. */
function identificationKey(home: PeerNode, system: string, value: string, demographics: Demographics, access: Access): string {
  const r = access.requester;
  return JSON.stringify([home.country, r.issuer, r.subject, r.role, r.purpose, r.organizationId, r.breakGlassReason !== undefined, system, value, demographics.family, demographics.given, demographics.birthdate, demographics.gender]);
}
