import type { Consent } from 'fhir/r4.js';
import { mayManageConsents, mayReadConsentsWithoutData } from '../access/access-policy.js';
import { randomUUID } from 'node:crypto';
import type { PatientDataGate } from '../access/patient-data-gate.js';
import { checkConsentRules } from '../consent/consent-rules.js';
import { withServerMeta } from '../fhir/server-meta.js';
import { fhirError, type Problem } from '../fhir/operation-outcome.js';
import { consentVersionKey, type ConsentRepository, type ConsentVersion } from '../repositories/consent-repository.js';
import type { PatientRepository } from '../repositories/patient-repository.js';
import type { Access } from '../access/access-context.js';
import type { DocumentValidator } from '../validation/index.js';

/** Canonical of the FHIR R4 Consent, which every stored Consent must meet. */
export const CONSENT_PROFILE = 'http://hl7.org/fhir/StructureDefinition/Consent';

/**
 * Patients' Consents: validated against FHIR R4 and this node's rules on every write, kept per
 * patient, written by the patient themself or a hospital system of this country, and read by
 * them or an operator.
 */
export class ConsentService {
  constructor(
    private readonly consents: ConsentRepository,
    private readonly patients: PatientRepository,
    private readonly validator: DocumentValidator,
    private readonly gate: PatientDataGate,
  ) {}

  /** Who may see a patient's Consents: whoever may have their data, and operators. */
  private async admit(access: Access, patientId: string, write: boolean): Promise<void> {
    this.gate.reached(access, patientId);
    if (!write && mayReadConsentsWithoutData(access.requester)) return;
    if (!mayManageConsents(access.requester)) {
      throw fhirError(403, { code: 'forbidden', message: 'Consents are managed by the patient or a hospital system of this country' });
    }
    await this.gate.open(access, patientId);
  }

  /**
   * This node's rules, then `admit` (who may write for the patient the Consent names), then the
   * R4 profile and the patient's existence: a requester who may not write learns nothing more.
   */
  private async checked(
    resource: Consent,
    admit: (patientId: string) => Promise<void>,
  ): Promise<{ patientId: string; dateTimeMs: number; status: string; notes: Problem[] }> {
    const rules = checkConsentRules(resource);
    if (!rules.ok) throw fhirError(422, rules.problems);
    await admit(rules.patientId);
    const issues: Problem[] = await this.validator.validate(resource, CONSENT_PROFILE);
    if (issues.some((i) => i.severity === 'error')) throw fhirError(422, issues);
    if (!(await this.patients.identity(rules.patientId))) {
      throw fhirError(422, { code: 'not-found', expression: 'Consent.patient', message: 'Consent.patient names no patient with a summary at this node' });
    }
    return { ...rules, notes: issues };
  }

  private serialise(resource: Consent, id: string, versionId: number, lastUpdated: Date): string {
    return JSON.stringify(withServerMeta(resource, 'Consent', id, { versionId: String(versionId), lastUpdated: lastUpdated.toISOString() }));
  }

  /** Stores a new Consent, at version 1. */
  async create(resource: Consent, access: Access): Promise<{ consent: ConsentVersion; notes: Problem[] }> {
    const facts = await this.checked(resource, (patientId) => this.admit(access, patientId, true));
    const id = randomUUID();
    const consent = this.version(id, 1, facts, resource);
    await this.consents.create(consent);
    this.gate.touched(access, `Consent/${id}`);
    return { consent, notes: facts.notes };
  }

  /**
   * Stores version `expectedVersion + 1` of Consent `id` if `expectedVersion` is still its newest
   * (optimistic locking): of racing writers of one version exactly one succeeds, the others get
   * 412. Its patient cannot change.
   */
  async replace(id: string, expectedVersion: number, resource: Consent, access: Access): Promise<{ consent: ConsentVersion; notes: Problem[] }> {
    const existing = await this.read(id, access, true);
    if (existing.versionId !== expectedVersion) throw this.stale(existing);
    const facts = await this.checked(resource, async (patientId) => {
      if (patientId !== existing.patientId) {
        throw fhirError(409, { code: 'conflict', expression: 'Consent.patient', message: 'a Consent cannot move to another patient' });
      }
    });
    const consent = this.version(id, existing.versionId + 1, facts, resource);
    if (!(await this.consents.appendVersion(consent))) throw this.stale((await this.consents.current(id)) ?? consent);
    return { consent, notes: facts.notes };
  }

  /** Consent `id` at its newest version, if the requester may see it. */
  async read(id: string, access: Access, write = false): Promise<ConsentVersion> {
    const consent = await this.consents.current(id);
    if (!consent) throw await this.gate.refuseUnknown(access, `Consent/${id}`, `Consent/${id}`);
    await this.admit(access, consent.patientId, write);
    this.gate.touched(access, `Consent/${id}`);
    return consent;
  }

  /** Version `versionId` of Consent `id`; 404 when the Consent has no such version. */
  async readVersion(id: string, versionId: number, access: Access): Promise<ConsentVersion> {
    await this.read(id, access);
    const version = await this.consents.version(id, versionId);
    if (!version) throw fhirError(404, { code: 'not-found', message: `Consent/${id} has no version ${versionId}` });
    this.gate.touched(access, `Consent/${id}/_history/${versionId}`);
    return version;
  }

  /** Every version of Consent `id`, newest first. */
  async history(id: string, access: Access): Promise<ConsentVersion[]> {
    await this.read(id, access);
    return this.consents.history(id);
  }

  /** A patient's Consents at their newest versions, newest first. */
  async forPatient(patientId: string, access: Access): Promise<ConsentVersion[]> {
    await this.admit(access, patientId, false);
    const found = await this.consents.forPatient(patientId);
    for (const c of found) this.gate.touched(access, `Consent/${c.consentId}`);
    return found;
  }

  private version(id: string, versionId: number, facts: { patientId: string; status: string; dateTimeMs: number }, resource: Consent): ConsentVersion {
    const lastUpdated = new Date();
    return {
      _id: consentVersionKey(id, versionId),
      consentId: id,
      patientId: facts.patientId,
      versionId,
      status: facts.status,
      dateTimeMs: facts.dateTimeMs,
      lastUpdated,
      json: this.serialise(resource, id, versionId, lastUpdated),
    };
  }

  private stale(current: ConsentVersion): Error {
    return fhirError(412, {
      code: 'conflict',
      message: `Consent/${current.consentId} is at version ${current.versionId}; read it again and retry with If-Match: W/"${current.versionId}"`,
    });
  }
}
