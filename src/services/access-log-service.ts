import { accessLogReach } from '../access/access-policy.js';
import type { PatientDataGate } from '../access/patient-data-gate.js';
import { fhirError } from '../fhir/operation-outcome.js';
import type { AuditRecord, AuditRepository } from '../repositories/audit-repository.js';
import type { Access } from '../access/access-context.js';

/**
 * A patient's access log (EHDS Art. 9): who read their data, when, why, and with which outcome,
 * break-glass accesses marked. For the patient's own token, or an operator of this node.
 */
export class AccessLogService {
  constructor(
    private readonly audit: AuditRepository,
    private readonly gate: PatientDataGate,
  ) {}

  /** The newest `limit` records that touched patient `patientId`. */
  async forPatient(patientId: string, limit: number, access: Access): Promise<Array<Pick<AuditRecord, '_id' | 'json' | 'breakGlass'>>> {
    await this.admit(patientId, access);
    return this.audit.forPatient(patientId, limit);
  }

  /** One page of the patient's access log, newest first, and how many records it has in all. */
  async page(
    patientId: string,
    page: { offset: number; count: number; untilMs?: number | undefined },
    access: Access,
  ): Promise<{ total: number; records: Array<Pick<AuditRecord, '_id' | 'json' | 'breakGlass'>> }> {
    await this.admit(patientId, access);
    const { offset, count, untilMs } = page;
    const [total, records] = await Promise.all([
      this.audit.countForPatient(patientId, untilMs),
      count > 0 ? this.audit.forPatient(patientId, count, offset, untilMs) : Promise.resolve([]),
    ]);
    return { total, records };
  }

  /** The patient's own token (through the gate) or an operator: else 403. */
  private async admit(patientId: string, access: Access): Promise<void> {
    this.gate.reached(access, patientId);
    const reach = accessLogReach(access.requester);
    if (reach === 'none') throw fhirError(403, { code: 'forbidden', message: "an access log is for the patient's own token or an operator of this node" });
    // A patient's own: through the gate, whose decision lets a patient have their own data only.
    if (reach === 'own') await this.gate.open(access, patientId);
  }
}
