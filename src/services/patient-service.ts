import { maySearchByDemographics } from '../access/access-policy.js';
import type { PatientDataGate } from '../access/patient-data-gate.js';
import { fhirError } from '../fhir/operation-outcome.js';
import type { PatientCriteria, PatientRecord, PatientRepository } from '../repositories/patient-repository.js';
import type { Access } from '../access/access-context.js';

/** A page of a patient search: what the requester may see of it. */
export interface PatientPage {
  total: number;
  patients: PatientRecord[];
}

/**
 * Patients as indexed from their documents, released per consent decision. Clinicians and
 * patients identify a patient by identifier; searching by demographics is for hospital
 * systems of this country, the data's source.
 */
export class PatientService {
  constructor(
    private readonly patients: PatientRepository,
    private readonly gate: PatientDataGate,
  ) {}

  /** Patient `id`, if the requester may have it. */
  async read(id: string, access: Access): Promise<PatientRecord> {
    const known = await this.patients.identity(id);
    if (!known) {
      this.gate.reached(access, id);
      throw await this.gate.refuseUnknown(access, `Patient/${id}`, `Patient/${id}`);
    }
    const disclosure = await this.gate.open(access, id);
    const patient = await this.patients.findVisible(id, disclosure);
    if (!patient) throw this.gate.unreleasable(access, `Patient/${id}`);
    disclosure.touched(`Patient/${id}`);
    return patient;
  }

  /** One page of matches; for anyone but the data's source, only the patients their decision permits. */
  async search(criteria: PatientCriteria, skip: number, limit: number, access: Access): Promise<PatientPage> {
    const source = maySearchByDemographics(access.requester);
    if (!source && criteria.identifierKey === undefined) {
      throw fhirError(403, {
        code: 'forbidden',
        expression: 'identifier',
        message: 'identify the patient by identifier=system|value; searching by demographics is for hospital systems of this country',
      });
    }
    const found = await this.patients.search(criteria, skip, limit);
    const released: PatientRecord[] = [];
    for (const { _id } of found.patients) {
      const decision = await this.gate.decide(access, _id);
      this.gate.reached(access, _id);
      if (decision.outcome !== 'permit') continue;
      const disclosure = this.gate.disclose(access, decision);
      const patient = await this.patients.findVisible(_id, disclosure);
      if (patient) {
        released.push(patient);
        disclosure.touched(`Patient/${_id}`);
      }
    }
    // A foreign requester's total counts what it may see: refused and unknown look the same.
    return { total: source ? found.total : released.length, patients: released };
  }
}
