import { invokesBreakGlass, purposeMayRead, roleMatches, roleMayRead } from '../access/access-policy.js';
import type { ConsentProvision, Period } from 'fhir/r4.js';
import { ISCO_08, type Requester } from '../auth/requester.js';
import { COUNTRY_SYSTEM, LOINC, PATIENT_SUMMARY_CODE, type ConsentPolicy } from './consent-policy.js';

/** The outcome of asking whether a requester may have a patient's data, and under what limits. */
export interface ConsentDecision {
  outcome: 'permit' | 'deny';
  patientId: string;
  /** LOINC codes of summary sections to withhold (EHDS Art. 8 restrictions). */
  withheldSections: readonly string[];
  /** Access granted by break-glass: flagged in the audit record the patient sees. */
  breakGlass: boolean;
  /** Why, in words fit for the audit record; never sent to a foreign requester. */
  basis: string;
  /** The Consent resource the decision rests on, if any. */
  consentId?: string;
}

/** The parts of a FHIR Consent the decision reads (R4 Consent, IHE PCF shapes). */
export interface ConsentRules {
  id: string;
  status: string;
  /** Consent.dateTime in ms: the newest active Consent of a patient is the one in force. */
  dateTimeMs: number;
  /** One level of nested provisions is evaluated; deeper ones are refused on write. */
  provision: ConsentProvision;
}

/** The patient as the decision needs them: node id and the identifiers they are known by. */
export interface PatientForDecision {
  id: string;
  identifierKeys: readonly string[];
}

function within(period: Period | undefined, at: number): boolean {
  if (!period) return true;
  // Dates without time cover their whole day.
  if (period.start && Date.parse(period.start) > at) return false;
  if (period.end) {
    const end = /T/.test(period.end) ? Date.parse(period.end) : Date.parse(period.end) + 86_400_000 - 1;
    if (end < at) return false;
  }
  return true;
}

function loincCodes(provision: ConsentProvision): string[] {
  return (provision.code ?? []).flatMap((c) => (c.coding ?? []).filter((k) => k.system === LOINC && k.code).map((k) => k.code!));
}

function actorMatches(actor: NonNullable<ConsentProvision['actor']>[number], requester: Requester): boolean {
  const roles = (actor.role?.coding ?? []).filter((c) => c.system === ISCO_08 && c.code).map((c) => c.code!);
  if (roles.length > 0 && !roles.some((r) => roleMatches(r, requester.role))) return false;
  const id = actor.reference?.identifier;
  if (!id?.value) return roles.length > 0;
  if (id.system === COUNTRY_SYSTEM) return id.value.toUpperCase() === requester.country;
  return requester.organizationId !== undefined && (requester.organizationId === id.value || requester.organizationId === `${id.system}|${id.value}`);
}

function applies(provision: ConsentProvision, requester: Requester, at: number): boolean {
  if (!within(provision.period, at)) return false;
  const purposes = (provision.purpose ?? []).map((p) => p.code);
  if (purposes.length > 0 && !purposes.includes(requester.purpose)) return false;
  const actors = provision.actor ?? [];
  return actors.length === 0 || actors.some((a) => actorMatches(a, requester));
}

/** The Consent in force: the newest active one whose base period covers the time. */
export function consentInForce(consents: readonly ConsentRules[], at: number): ConsentRules | undefined {
  return consents
    .filter((c) => c.status === 'active' && within(c.provision.period, at))
    .sort((a, b) => b.dateTimeMs - a.dateTimeMs)[0];
}

function deny(patientId: string, basis: string, consentId?: string): ConsentDecision {
  return { outcome: 'deny', patientId, withheldSections: [], breakGlass: false, basis, ...(consentId ? { consentId } : {}) };
}

/** Sections (LOINC codes) a Consent withholds from this requester, whatever it says of the whole summary. */
function sectionsWithheld(consent: ConsentRules, requester: Requester, at: number): string[] {
  const withheld = new Set<string>();
  for (const exception of consent.provision.provision ?? []) {
    if (exception.type !== 'deny' || !applies(exception, requester, at)) continue;
    const codes = loincCodes(exception);
    if (codes.includes(PATIENT_SUMMARY_CODE)) continue;
    for (const c of codes) withheld.add(c);
  }
  return [...withheld].sort();
}

/** What the patient's consent (or the node default) says for a clinician's request. */
function byConsent(policy: ConsentPolicy, requester: Requester, patientId: string, consents: readonly ConsentRules[], at: number): ConsentDecision {
  const consent = consentInForce(consents, at);
  if (!consent) {
    return policy.defaultDecision === 'opt-out'
      ? { outcome: 'permit', patientId, withheldSections: [], breakGlass: false, basis: 'no consent on record; node policy permits unless the patient opts out' }
      : deny(patientId, 'no consent on record; node policy needs an explicit permit');
  }
  const top = consent.provision;
  const topCodes = loincCodes(top);
  let permitted = top.type === 'permit' && (topCodes.length === 0 || topCodes.includes(PATIENT_SUMMARY_CODE));
  const withheld = new Set<string>();
  for (const exception of top.provision ?? []) {
    if (!applies(exception, requester, at)) continue;
    const codes = loincCodes(exception);
    const wholeService = codes.length === 0 || codes.includes(PATIENT_SUMMARY_CODE);
    if (exception.type === 'deny') {
      if (wholeService) return deny(patientId, 'the patient refused this requester, purpose or period', consent.id);
      for (const c of codes) withheld.add(c);
    } else if (exception.type === 'permit' && wholeService) {
      permitted = true;
    }
  }
  if (!permitted) return deny(patientId, 'the patient has not permitted sharing the patient summary', consent.id);
  return {
    outcome: 'permit',
    patientId,
    withheldSections: [...withheld].sort(),
    breakGlass: false,
    basis: withheld.size > 0 ? 'permitted by the patient, with sections withheld' : 'permitted by the patient',
    consentId: consent.id,
  };
}

/**
 * Whether {@link decideConsent} reads the patient's Consents for `requester`: not for system
 * requesters, whose answer is fixed by their kind (hospital systems of this country may, operators
 * may not). The gate then skips reading them: a known and an unknown patient still cost such a
 * requester the same, and a hospital's push saves a database round trip.
 */
export function decisionReadsConsents(requester: Requester): boolean {
  return requester.context !== 'system';
}

/**
 * Decides whether `requester` may have the data of `patient` at time `at`: hospital systems of
 * this country (the data's source) may; a patient may have their own; clinicians need a role
 * and purpose the policy accepts and the patient's consent (or the node default), unless
 * break-glass is invoked where the policy allows it. Operators get audit records, not data.
 */
export function decideConsent(
  policy: ConsentPolicy,
  requester: Requester,
  patient: PatientForDecision,
  consents: readonly ConsentRules[],
  at: number,
): ConsentDecision {
  const patientId = patient.id;
  switch (requester.context) {
    case 'system':
      return requester.issuerKind === 'hospital-system'
        ? { outcome: 'permit', patientId, withheldSections: [], breakGlass: false, basis: 'hospital system of this country (source of the data)' }
        : deny(patientId, 'operators read audit records, not clinical data');
    case 'patient':
      return requester.personId !== undefined && patient.identifierKeys.includes(requester.personId)
        ? { outcome: 'permit', patientId, withheldSections: [], breakGlass: false, basis: "the patient's own data" }
        : deny(patientId, "a patient token gives access to that patient's own data only");
    case 'user':
      break;
  }
  if (!roleMayRead(policy.readRoles, requester)) return deny(patientId, `role ${requester.role ?? 'none'} may not read patient summaries`);
  const purpose = requester.purpose;
  if (!purposeMayRead(requester)) return deny(patientId, `purpose ${purpose ?? 'none'} does not allow reading patient summaries`);
  if (invokesBreakGlass(requester)) {
    if (!requester.breakGlassReason) return deny(patientId, 'break-glass needs a reason (extensions.pontis.break_glass_reason)');
    if (policy.breakGlass === 'allowed') {
      const consent = consentInForce(consents, at);
      const withheld = consent && policy.breakGlassWithheld !== 'release' ? sectionsWithheld(consent, requester, at) : [];
      return {
        outcome: 'permit',
        patientId,
        withheldSections: withheld,
        breakGlass: true,
        basis:
          withheld.length > 0
            ? `break-glass (${purpose}): the node's policy lets an emergency override consent, except the sections the patient withheld`
            : `break-glass (${purpose}): the node's policy lets an emergency override consent`,
        ...(consent ? { consentId: consent.id } : {}),
      };
    }
  }
  return byConsent(policy, requester, patientId, consents, at);
}
