import { mayFetchAbroad } from '../access/access-policy.js';
import Boom from '@hapi/boom';
import { fhirError, type Problem } from '../fhir/operation-outcome.js';
import type { TrustList } from '../auth/trust-list.js';
import type { NodeIdentity } from '../exchange/node-identity.js';
import type { PeerClient } from '../exchange/peer-client.js';
import type { PeerDirectory, PeerNode } from '../exchange/peer-directory.js';
import { SignatureRefused, verifySummary } from '../exchange/summary-signature.js';
import type { Access } from '../access/access-context.js';
import type { DocumentValidator } from '../validation/index.js';

type Json = Record<string, unknown>;

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

/** Elements of a foreign Patient passed on to confirm identity, and nothing more. */
const MINIMAL_PATIENT = ['resourceType', 'id', 'identifier', 'name', 'birthDate', 'gender'];

/**
 * The clinician's side of the exchange: a patient whose identifier belongs to another Member
 * State is identified at their home node, and their summary fetched from there, on behalf of the
 * clinician (a token signed by this node carrying the clinician's claims). What arrives is
 * checked before it is passed on: the home node's signature, then the document profile.
 */
export class CrossBorderService {
  /** Validation verdicts of received documents, by content hash and profile set. */
  private readonly verdicts = new Map<string, Problem[]>();
  /** Content and signature pairs already verified (see verifySummary). */
  private readonly verifiedSignatures = new Set<string>();
  /**
   * Identifications made by each clinician, by everything that shapes the home node's answer
   * (clinician, role, purpose, break-glass, identifier, demographics): the patient's id there,
   * and until when it is reused.
   */
  private readonly identifications = new Map<string, { id: string; until: number }>();

  constructor(
    private readonly directory: PeerDirectory,
    private readonly peers: PeerClient,
    private readonly identity: NodeIdentity,
    private readonly trust: TrustList,
    private readonly validator: DocumentValidator,
    private readonly documentProfile: string,
  ) {}

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
  async identify(home: PeerNode, system: string, value: string, demographics: Demographics, access: Access): Promise<Json> {
    this.requireClinician(access);
    const params: Record<string, string> = { identifier: `${system}|${value}` };
    for (const [k, v] of Object.entries(demographics)) if (v !== undefined) params[k] = v;
    access.resources.push(`${home.baseUrl}/Patient?identifier`);
    const found = await this.peers.search(home, params, this.call(home, access));
    if (found['resourceType'] !== 'Bundle') throw fhirError(502, { code: 'exception', message: `the node of ${home.country} answered a search with a ${String(found['resourceType'])}` });
    const entries = ((found['entry'] as Json[] | undefined) ?? []).map((e) => e['resource'] as Json).filter((r) => r?.['resourceType'] === 'Patient');
    if (entries.length === 0) throw fhirError(404, { code: 'not-found', expression: 'identifier', message: `the node of ${home.country} has no summary it can release for this patient` });
    if (entries.length > 1) {
      throw fhirError(409, { code: 'multiple-matches', message: `the node of ${home.country} matched ${entries.length} patients; narrow with family, given, birthdate or gender` });
    }
    const patient = entries[0]!;
    if (typeof patient['id'] === 'string') {
      if (this.identifications.size >= 10_000) this.identifications.clear();
      this.identifications.set(identificationKey(home, system, value, demographics, access), { id: patient['id'], until: Date.now() + IDENTIFICATION_REUSE_MS });
    }
    return patient;
  }

  /** The patient's Patient at their home node, reduced to what confirms identity. */
  async minimalPatient(home: PeerNode, system: string, value: string, demographics: Demographics, access: Access): Promise<Json> {
    const patient = await this.identify(home, system, value, demographics, access);
    return Object.fromEntries(MINIMAL_PATIENT.filter((k) => patient[k] !== undefined).map((k) => [k, patient[k]]));
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
    if (known && known.until > Date.now()) {
      try {
        return await this.summaryOf(home, known.id, access);
      } catch (error) {
        if (!Boom.isBoom(error) || !STALE_IDENTIFICATION.has(error.output.statusCode)) throw error;
      }
    }
    this.identifications.delete(key);
    const patient = await this.identify(home, system, value, demographics, access);
    return this.summaryOf(home, String(patient['id']), access);
  }

  private async summaryOf(home: PeerNode, id: string, access: Access): Promise<Buffer> {
    access.resources.push(`${home.baseUrl}/Patient/${id}/$summary`);
    const bundle = await this.peers.summary(home, id, this.call(home, access));
    let canonical: string;
    let digest: string;
    try {
      ({ canonical, digest } = await verifySummary(bundle, home.issuer, this.trust, this.verifiedSignatures));
    } catch (error) {
      if (!(error instanceof SignatureRefused)) throw error;
      throw fhirError(502, { code: 'security', message: `the summary from the node of ${home.country} is refused: ${error.message}` });
    }
    // The same document arrives again and again: its verdict is remembered by content hash.
    const key = `${digest}\n${this.validator.profileSet}`;
    let errors = this.verdicts.get(key);
    if (errors === undefined) {
      const { signature: _signature, ...content } = bundle;
      errors = (await this.validator.validate(content, this.documentProfile, canonical)).filter((i) => i.severity === 'error');
      if (this.verdicts.size >= 10_000) this.verdicts.clear();
      this.verdicts.set(key, errors);
    }
    if (errors.length > 0) {
      throw fhirError(502, [
        { code: 'invalid', message: `the summary from the node of ${home.country} does not meet the profiles in force here; it is not passed on` },
        ...errors,
      ]);
    }
    // The signed serialisation with its signature appended: the Bundle as received, serialised once.
    return Buffer.from(`${canonical.slice(0, -1)},"signature":${JSON.stringify(bundle['signature'])}}`, 'utf8');
  }
}

/** What shapes a home node's answer to an identification: who asks, in which role, for what. */
function identificationKey(home: PeerNode, system: string, value: string, demographics: Demographics, access: Access): string {
  const r = access.requester;
  return JSON.stringify([home.country, r.issuer, r.subject, r.role, r.purpose, r.organizationId, r.breakGlassReason !== undefined, system, value, demographics.family, demographics.given, demographics.birthdate, demographics.gender]);
}
