import { decideConsent, type ConsentDecision } from '../consent/consent-decision.js';
import type { ConsentPolicy } from '../consent/consent-policy.js';
import { fhirError } from '../fhir/operation-outcome.js';
import type { ConsentRepository } from '../repositories/consent-repository.js';
import type { PatientRepository } from '../repositories/patient-repository.js';
import type { Requester } from '../auth/requester.js';
import type { AccessContext } from './access-context.js';
import { issueDisclosure, type Disclosure } from './disclosure.js';
import type { RequestBudget } from './request-budget.js';

/** The one refusal a requester outside the data's source sees: it tells nothing about the patient. */
const NOT_RELEASED = 'no patient data can be released for this request';

/**
 * The one way to patient data: counts the request against the patient's budget, takes the
 * consent decision, notes it on the access context for the audit record, and returns a
 * {@link Disclosure} (or refuses). Fails closed: if the consents cannot be read, nothing is released.
 */
export class PatientDataGate {
  constructor(
    private readonly consents: ConsentRepository,
    private readonly patients: PatientRepository,
    private readonly policy: ConsentPolicy,
    private readonly budget: RequestBudget,
  ) {}

  /**
   * Whether the requester learns that a patient is unknown here. Hospital systems of this
   * country (the data's source) do: 404. Everyone else gets the same 403 for an unknown
   * patient as for a refused one, so that a refusal does not confirm the patient exists.
   */
  private seesExistence(requester: Requester): boolean {
    return requester.context === 'system' && requester.issuerKind === 'hospital-system';
  }

  /** The refusal for a patient not known here (or with no summary). */
  unknownPatient(access: AccessContext & { requester: Requester }, what: string): Error {
    return this.seesExistence(access.requester)
      ? fhirError(404, { code: 'not-found', message: `${what} is not known here` })
      : fhirError(403, { code: 'forbidden', message: NOT_RELEASED });
  }

  /** The decision for one patient, without opening anything (searches filter with it). */
  async decide(access: AccessContext & { requester: Requester }, patientId: string): Promise<ConsentDecision> {
    let decision: ConsentDecision;
    try {
      const needsIdentifiers = access.requester.context === 'patient';
      const [rules, patient] = await Promise.all([
        this.consents.rulesForPatient(patientId),
        needsIdentifiers ? this.patients.identity(patientId) : Promise.resolve(null),
      ]);
      decision = decideConsent(this.policy, access.requester, { id: patientId, identifierKeys: patient?.identifierKeys ?? [] }, rules, access.at.getTime());
    } catch (error) {
      access.decision = { outcome: 'deny', patientId, withheldSections: [], breakGlass: false, basis: 'the consent store could not be read' };
      const refusal = fhirError(503, { code: 'transient', message: 'consent cannot be checked right now, so nothing is released; retry later' });
      refusal.output.headers['Retry-After'] = '5';
      (refusal as Error).cause = error;
      throw refusal;
    }
    return decision;
  }

  /** Opens one patient's data to the requester, or refuses with 403 (or 429, 503). */
  async open(access: AccessContext & { requester: Requester }, patientId: string): Promise<Disclosure> {
    access.patients.add(patientId);
    // Both go to the database: one round trip's wait instead of two.
    const [, decision] = await Promise.all([this.budget.spend('patient', patientId, access.at.getTime()), this.decide(access, patientId)]);
    access.decision = decision;
    if (decision.outcome !== 'permit') throw fhirError(403, { code: 'forbidden', message: NOT_RELEASED });
    return issueDisclosure(decision);
  }

  /** A disclosure for a decision already taken (search results). */
  disclose(access: AccessContext, decision: ConsentDecision): Disclosure {
    access.patients.add(decision.patientId);
    access.decision ??= decision;
    return issueDisclosure(decision);
  }
}
