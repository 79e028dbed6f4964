import { randomUUID } from 'node:crypto';
import { decideConsent, decisionReadsConsents, type ConsentDecision } from '../consent/consent-decision.js';
import type { ConsentPolicy } from '../consent/consent-policy.js';
import { fhirError } from '../fhir/operation-outcome.js';
import type { ConsentRepository } from '../repositories/consent-repository.js';
import type { PatientRepository } from '../repositories/patient-repository.js';
import type { Requester } from '../auth/requester.js';
import type { AccessContext } from './access-context.js';
import { isDataSource } from './access-policy.js';
import { factRecordOf } from './audit-facts.js';
import { issueDisclosure, type Disclosure } from './disclosure.js';
import type { RequestBudget } from './request-budget.js';

/** The one refusal a requester outside the data's source sees: it tells nothing about the patient. */
const NOT_RELEASED = 'no patient data can be released for this request';

/**
 * The one way to patient data: counts the request against the requester's budget for the
 * patient, takes the consent decision and returns a {@link Disclosure} (or refuses). Fails
 * closed: if the consents cannot be read, nothing is released.
 *
 * It is also the only writer of the request's audit facts (audit-facts.ts): the patients reached,
 * the decision, a refusal over a budget, and (itself or through the Disclosures it issues) the
 * resources touched. Services read them, never write them.
 */
export class PatientDataGate {
  constructor(
    private readonly consents: ConsentRepository,
    private readonly patients: PatientRepository,
    private readonly policy: ConsentPolicy,
    private readonly budget: RequestBudget,
  ) {}

  /** A patient id that names nobody: refusals of unknown patients read its consents. */
  private readonly nobody = `unknown-${randomUUID()}`;

  /** The per-patient budget is the requester's own: `patient` is a node id or what was asked for. */
  private budgetKey(requester: Requester, patient: string): string {
    return `${requester.issuer}\n${requester.subject}\n${patient}`;
  }

  /**
   * The refusal for a patient (or document, or Consent) not known here, asked for as `asked`
   * (`Patient/<id>`, `identifier:<system|value>`, ...). It costs what refusing a known patient
   * costs, so that status, body, headers, counts and timing tell nothing: the request is counted
   * against the requester's budget for what it asked, and a patient's consents are read (of a
   * patient id that names nobody) as the decision would. Over budget: the same 429.
   */
  async refuseUnknown(access: AccessContext & { requester: Requester }, asked: string, what: string): Promise<Error> {
    const [overBudget] = await Promise.all([
      this.budget.charge('patient', this.budgetKey(access.requester, asked), access.at.getTime()),
      this.evaluate(access, this.nobody),
    ]);
    if (overBudget) {
      factRecordOf(access).throttle();
      return overBudget;
    }
    return this.unreleasable(access, what);
  }

  /**
   * Counts the request against its requester's own budget (abuse detection, before any route
   * work); over it, notes the refusal in the audit facts and throws the 429.
   */
  async admitRequester(access: AccessContext & { requester: Requester }): Promise<void> {
    const refusal = await this.budget.charge('requester', `${access.requester.issuer}\n${access.requester.subject}`, Date.now());
    if (refusal) {
      factRecordOf(access).throttle();
      throw refusal;
    }
  }

  /** Notes a patient the request reached or asked for without opening their data (refusals, operators, search matches). */
  reached(access: AccessContext, patientId: string): void {
    factRecordOf(access).reached(patientId);
  }

  /**
   * Notes a resource the request read, wrote or asked for outside a Disclosure: named before
   * the gate refused, a Consent an operator reads, a resource asked of a peer node.
   */
  touched(access: AccessContext, reference: string): void {
    factRecordOf(access).touched(reference);
  }

  /**
   * The refusal for what a requester already let through the gate turned out not to have (no
   * current summary, a Patient no longer visible): 404 to the data's source, else the 403.
   */
  unreleasable(access: AccessContext & { requester: Requester }, what: string): Error {
    // The data's source may know what it does not have here; to everyone else it is a refusal.
    return isDataSource(access.requester)
      ? fhirError(404, { code: 'not-found', message: `${what} is not known here` })
      : fhirError(403, { code: 'forbidden', message: NOT_RELEASED });
  }

  /** The decision for one patient, without opening anything (searches filter with it). */
  async decide(access: AccessContext & { requester: Requester }, patientId: string): Promise<ConsentDecision> {
    try {
      return await this.evaluate(access, patientId);
    } catch (error) {
      factRecordOf(access).decided({ outcome: 'deny', patientId, withheldSections: [], breakGlass: false, basis: 'the consent store could not be read' });
      throw error;
    }
  }

  /** The consent decision; a 503 (nothing released) when the consents cannot be read. */
  private async evaluate(access: AccessContext & { requester: Requester }, patientId: string): Promise<ConsentDecision> {
    try {
      const needsIdentifiers = access.requester.context === 'patient';
      const [rules, patient] = await Promise.all([
        decisionReadsConsents(access.requester) ? this.consents.rulesForPatient(patientId) : Promise.resolve([]),
        needsIdentifiers ? this.patients.identity(patientId) : Promise.resolve(null),
      ]);
      return decideConsent(this.policy, access.requester, { id: patientId, identifierKeys: patient?.identifierKeys ?? [] }, rules, access.at.getTime());
    } catch (error) {
      const refusal = fhirError(503, { code: 'transient', message: 'consent cannot be checked right now, so nothing is released; retry later' });
      refusal.output.headers['Retry-After'] = '5';
      (refusal as Error).cause = error;
      throw refusal;
    }
  }

  /**
   * Opens one patient's data to the requester, or refuses with 403 (or 429, 503). Over the
   * requester's budget for this patient the answer is 429, refused or not, so that it tells
   * nothing either; except a permitted break-glass read, which is never throttled: it goes
   * through and its audit record is flagged as over the budget.
   */
  async open(access: AccessContext & { requester: Requester }, patientId: string): Promise<Disclosure> {
    const record = factRecordOf(access);
    record.reached(patientId);
    // Both go to the database: one round trip's wait instead of two.
    const [overBudget, decision] = await Promise.all([
      this.budget.charge('patient', this.budgetKey(access.requester, patientId), access.at.getTime()),
      this.decide(access, patientId),
    ]);
    record.decided(decision);
    if (overBudget) {
      if (decision.outcome === 'permit' && decision.breakGlass) {
        record.wentOverBudget();
      } else {
        record.throttle();
        throw overBudget;
      }
    }
    if (decision.outcome !== 'permit') throw fhirError(403, { code: 'forbidden', message: NOT_RELEASED });
    return issueDisclosure(decision, (reference) => record.touched(reference));
  }

  /** A disclosure for a decision already taken (search results): the first such decision is the record's. */
  disclose(access: AccessContext, decision: ConsentDecision): Disclosure {
    const record = factRecordOf(access);
    record.reached(decision.patientId);
    record.decided(decision, true);
    return issueDisclosure(decision, (reference) => record.touched(reference));
  }
}
