import type { ConsentDecision } from '../consent/consent-decision.js';

/**
 * Proof that a consent decision permitted releasing one patient's data to the caller. Only the
 * patient-data gate makes them, and repositories that return patient data check them, so no
 * route can reach patient data without a decision.
 */
export interface Disclosure {
  readonly patientId: string;
  readonly decision: ConsentDecision;
}

const issued = new WeakSet<Disclosure>();

/** Raised when patient data is asked for without a permit for that patient: a bug, never a client error. */
export class UndisclosedAccessError extends Error {
  override name = 'UndisclosedAccessError';
}

/** A disclosure for a permit decision. Called by the patient-data gate only. */
export function issueDisclosure(decision: ConsentDecision): Disclosure {
  if (decision.outcome !== 'permit') throw new UndisclosedAccessError('a refused decision discloses nothing');
  const disclosure = Object.freeze({ patientId: decision.patientId, decision });
  issued.add(disclosure);
  return disclosure;
}

/** Throws unless `disclosure` was issued by the gate for `patientId`. */
export function assertDisclosed(disclosure: Disclosure | undefined, patientId: string): void {
  if (!disclosure || !issued.has(disclosure) || disclosure.patientId !== patientId) {
    throw new UndisclosedAccessError('patient data requested without a consent decision permitting it');
  }
}
