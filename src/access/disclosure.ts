import type { ConsentDecision } from '../consent/consent-decision.js';

/**
 * Proof that a consent decision permitted releasing one patient's data to the caller. Only the
 * patient-data gate makes them, and repositories that return patient data check them, so no
 * route can reach patient data without a decision.
 */
export interface Disclosure {
  readonly patientId: string;
  readonly decision: ConsentDecision;
  /**
   * Notes, in the request's audit record, a resource read or written under this disclosure
   * (`Patient/<id>`, `Bundle/<id>/_history/<v>`, `Consent/<id>`).
   */
  touched(reference: string): void;
}

const issued = new WeakSet<Disclosure>();

/** Raised when patient data is asked for without a permit for that patient: a bug, never a client error. */
export class UndisclosedAccessError extends Error {
  override name = 'UndisclosedAccessError';
}

/**
 * A disclosure for a permit decision. Called by the patient-data gate only, which hands it
 * `record`, the writer of the request's audit facts; without one (tests of the repositories'
 * checks) the disclosure opens data but cannot note what it touched.
 */
export function issueDisclosure(decision: ConsentDecision, record?: (reference: string) => void): Disclosure {
  if (decision.outcome !== 'permit') throw new UndisclosedAccessError('a refused decision discloses nothing');
  const disclosure: Disclosure = Object.freeze({
    patientId: decision.patientId,
    decision,
    touched(reference: string): void {
      if (!record) throw new UndisclosedAccessError('this disclosure belongs to no request, so it cannot note what it touched');
      record(reference);
    },
  });
  issued.add(disclosure);
  return disclosure;
}

/** Throws unless `disclosure` was issued by the gate for `patientId`. */
export function assertDisclosed(disclosure: Disclosure | undefined, patientId: string): void {
  if (!disclosure || !issued.has(disclosure) || disclosure.patientId !== patientId) {
    throw new UndisclosedAccessError('patient data requested without a consent decision permitting it');
  }
}
