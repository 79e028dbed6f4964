import { randomUUID } from 'node:crypto';
import type { PatientDataGate } from '../access/patient-data-gate.js';
import { checkConsentRules } from '../consent/consent-rules.js';
import { withServerMeta } from '../fhir/server-meta.js';
import { fhirError, type Problem } from '../fhir/operation-outcome.js';
import type { ConsentRecord, ConsentRepository } from '../repositories/consent-repository.js';
import type { PatientRepository } from '../repositories/patient-repository.js';
import type { Access, DocumentValidator } from './summary-service.js';

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
    access.patients.add(patientId);
    if (!write && access.requester.issuerKind === 'operator') return;
    if (access.requester.context === 'user') {
      throw fhirError(403, { code: 'forbidden', message: 'Consents are managed by the patient or a hospital system of this country' });
    }
    await this.gate.open(access, patientId);
  }

  /**
   * This node's rules, then `admit` (who may write for the patient the Consent names), then the
   * R4 profile and the patient's existence: a requester who may not write learns nothing more.
   */
  private async checked(
    resource: Record<string, unknown>,
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

  private serialise(resource: Record<string, unknown>, id: string, versionId: number, lastUpdated: Date): string {
    return JSON.stringify(withServerMeta(resource, 'Consent', id, { versionId: String(versionId), lastUpdated: lastUpdated.toISOString() }));
  }

  /** Stores a new Consent. */
  async create(resource: Record<string, unknown>, access: Access): Promise<{ record: ConsentRecord; notes: Problem[] }> {
    const facts = await this.checked(resource, (patientId) => this.admit(access, patientId, true));
    const id = randomUUID();
    const lastUpdated = new Date();
    const record: ConsentRecord = { _id: id, patientId: facts.patientId, status: facts.status, dateTimeMs: facts.dateTimeMs, versionId: 1, lastUpdated, json: this.serialise(resource, id, 1, lastUpdated) };
    await this.consents.create(record);
    access.resources.push(`Consent/${id}`);
    return { record, notes: facts.notes };
  }

  /** Replaces Consent `id` at version `expectedVersion` (optimistic locking); its patient cannot change. */
  async replace(id: string, expectedVersion: number, resource: Record<string, unknown>, access: Access): Promise<{ record: ConsentRecord; notes: Problem[] }> {
    const existing = await this.read(id, access, true);
    if (existing.versionId !== expectedVersion) {
      throw fhirError(412, { code: 'conflict', message: `Consent/${id} is at version ${existing.versionId}; read it again and retry with If-Match: W/"${existing.versionId}"` });
    }
    const facts = await this.checked(resource, async (patientId) => {
      if (patientId !== existing.patientId) {
        throw fhirError(409, { code: 'conflict', expression: 'Consent.patient', message: 'a Consent cannot move to another patient' });
      }
    });
    const lastUpdated = new Date();
    const versionId = existing.versionId + 1;
    const record: ConsentRecord = { ...existing, status: facts.status, dateTimeMs: facts.dateTimeMs, versionId, lastUpdated, json: this.serialise(resource, id, versionId, lastUpdated) };
    if (!(await this.consents.replace(record, expectedVersion))) {
      throw fhirError(412, { code: 'conflict', message: `Consent/${id} changed meanwhile; read it again and retry` });
    }
    return { record, notes: facts.notes };
  }

  /** Consent `id`, if the requester may see it. */
  async read(id: string, access: Access, write = false): Promise<ConsentRecord> {
    const record = await this.consents.findById(id);
    if (!record) throw this.gate.unknownPatient(access, `Consent/${id}`);
    await this.admit(access, record.patientId, write);
    access.resources.push(`Consent/${id}`);
    return record;
  }

  /** A patient's Consents, newest first. */
  async forPatient(patientId: string, access: Access): Promise<ConsentRecord[]> {
    await this.admit(access, patientId, false);
    const found = await this.consents.forPatient(patientId);
    for (const r of found) access.resources.push(`Consent/${r._id}`);
    return found;
  }
}
