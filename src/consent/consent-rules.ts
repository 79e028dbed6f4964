import type { Consent } from 'fhir/r4.js';
import type { Problem } from '../fhir/operation-outcome.js';
import { isJsonObject, isResourceOf, type ParsedObject } from '../fhir/resources.js';
import { COUNTRY_SYSTEM } from './consent-policy.js';

const CONSENT_SCOPE = 'http://terminology.hl7.org/CodeSystem/consentscope';
const PATIENT_REFERENCE = /^Patient\/([A-Za-z0-9\-.]{1,64})$/;

function problem(expression: string, message: string, code: Problem['code'] = 'invariant'): Problem {
  return { code, expression, message };
}

/**
 * A provision as written (a Consent.provision element, any JSON object until validated). These
 * rules run before the profile validator, on what the requester wrote: a typed element may still
 * hold any JSON value, so each is tested before use.
 */
function checkProvision(provision: ParsedObject, path: string, nested: boolean, problems: Problem[]): void {
  const type = provision['type'];
  if (type !== 'permit' && type !== 'deny') {
    problems.push(problem(`${path}.type`, `${path}.type must be permit or deny: the decision depends on it`, 'required'));
  }
  const actors: unknown[] = Array.isArray(provision['actor']) ? provision['actor'] : [];
  actors.forEach((actor, i) => {
    const reference = isJsonObject(actor) ? actor['reference'] : undefined;
    const identifier = isJsonObject(reference) ? reference['identifier'] : undefined;
    if (isJsonObject(identifier) && identifier['system'] === COUNTRY_SYSTEM && !/^[A-Z]{2}$/.test(String(identifier['value']))) {
      problems.push(problem(`${path}.actor[${i}].reference.identifier.value`, 'a country is named by its ISO 3166-1 alpha-2 code, such as PT'));
    }
  });
  const children = provision['provision'];
  if (children === undefined) return;
  if (nested) {
    problems.push(problem(`${path}.provision`, 'provisions nested more than one level deep are not evaluated by this node; flatten them into Consent.provision.provision', 'not-supported'));
    return;
  }
  if (Array.isArray(children)) children.forEach((child: unknown, i) => isJsonObject(child) && checkProvision(child, `${path}.provision[${i}]`, true, problems));
}

/**
 * The rules this node needs of a Consent beyond the FHIR R4 Consent profile, so that what the
 * patient wrote is what the decision engine evaluates (see docs/consent.md): privacy scope, a
 * patient of this node, a date, and provisions with a type, at most one level deep.
 * Resolves to the patient id it names, or the problems, each at its FHIRPath.
 */
export function checkConsentRules(consent: Consent): { ok: true; patientId: string; dateTimeMs: number; status: string } | { ok: false; problems: Problem[] } {
  const problems: Problem[] = [];
  if (!isResourceOf(consent, 'Consent')) return { ok: false, problems: [problem('resourceType', 'the resource must be a Consent', 'invalid')] };
  const scope: unknown = consent.scope;
  const scopeCodes: unknown[] = isJsonObject(scope) && Array.isArray(scope['coding']) ? scope['coding'] : [];
  if (!scopeCodes.some((c) => isJsonObject(c) && c['system'] === CONSENT_SCOPE && c['code'] === 'patient-privacy')) {
    problems.push(problem('Consent.scope', `Consent.scope must be patient-privacy (${CONSENT_SCOPE}): this node evaluates privacy consents`));
  }
  const patient: unknown = consent.patient;
  const reference = isJsonObject(patient) ? patient['reference'] : undefined;
  const match = typeof reference === 'string' ? PATIENT_REFERENCE.exec(reference) : null;
  if (!match) problems.push(problem('Consent.patient', 'Consent.patient must reference a patient of this node as Patient/<id>', 'required'));
  const dateTime = typeof consent.dateTime === 'string' ? Date.parse(consent.dateTime) : NaN;
  if (Number.isNaN(dateTime)) problems.push(problem('Consent.dateTime', 'Consent.dateTime is required: the newest active Consent of a patient is the one in force', 'required'));
  const provision: unknown = consent.provision;
  if (!isJsonObject(provision)) problems.push(problem('Consent.provision', 'Consent.provision is required: it says permit or deny', 'required'));
  else checkProvision(provision, 'Consent.provision', false, problems);
  if (problems.length > 0 || !match) return { ok: false, problems };
  return { ok: true, patientId: match[1]!, dateTimeMs: dateTime, status: String(consent.status) };
}
