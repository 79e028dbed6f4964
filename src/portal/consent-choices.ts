import type { Consent, ConsentProvision } from 'fhir/r4.js';

/** A patient's choices as the consent page offers them. */
export interface ConsentChoices {
  /** Share the patient summary at all (false: the per-service opt-out). */
  share: boolean;
  /** Per Member State: for treatment and emergencies, emergencies only, or never. */
  countries: Record<string, 'all' | 'emergency' | 'none'>;
  /** LOINC codes of the sections to withhold. */
  hiddenSections: string[];
}

/** Sections a patient may hide (LOINC), in the order the page lists them. */
export const HIDEABLE_SECTIONS = ['48765-2', '11450-4', '10160-0', '11369-6', '30954-2', '47519-4', '46264-8'] as const;

const LOINC = 'http://loinc.org';
const SUMMARY_SERVICE = { system: LOINC, code: '60591-5', display: 'Patient summary Document' };
const COUNTRY = 'urn:iso:std:iso:3166';
const ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
const IRCP = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP', display: 'information recipient' }] };

const countryActor = (country: string) => [{ role: IRCP, reference: { identifier: { system: COUNTRY, value: country } } }];

/**
 * The Consent (docs/consent.md conventions) that records `choices` for the patient `patientId`:
 * a base permit or deny of the summary service; per country, a deny for treatment (emergencies
 * only) or a deny outright; a deny per hidden section.
 */
export function consentFromChoices(choices: ConsentChoices, patientId: string, now = new Date()): Consent {
  const exceptions: ConsentProvision[] = [];
  if (choices.share) {
    for (const [country, scope] of Object.entries(choices.countries).sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (scope === 'none') exceptions.push({ type: 'deny', actor: countryActor(country) });
      if (scope === 'emergency') exceptions.push({ type: 'deny', actor: countryActor(country), purpose: [{ system: ACT_REASON, code: 'TREAT' }] });
    }
    for (const code of choices.hiddenSections) exceptions.push({ type: 'deny', code: [{ coding: [{ system: LOINC, code }] }] });
  }
  const summary = choices.share
    ? `Permits sharing the patient summary${exceptions.length > 0 ? `, with ${exceptions.length} exception(s)` : ''}.`
    : 'Does not permit sharing the patient summary (opt-out).';
  return {
    resourceType: 'Consent',
    text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${summary} Recorded by the patient in the portal.</div>` },
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: LOINC, code: '59284-0', display: 'Patient Consent' }] }],
    patient: { reference: `Patient/${patientId}` },
    dateTime: now.toISOString(),
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: choices.share ? 'OPTIN' : 'OPTOUT' }] },
    provision: {
      type: choices.share ? 'permit' : 'deny',
      code: [{ coding: [SUMMARY_SERVICE] }],
      ...(exceptions.length > 0 ? { provision: exceptions } : {}),
    },
  };
}

/**
 * The page's choices read back from a Consent; `unsupported` when it also holds rules the page
 * cannot show (roles, organisations, periods, other purposes), which saving would replace.
 */
export function choicesFromConsent(consent: Consent, countries: readonly string[]): { choices: ConsentChoices; unsupported: boolean } {
  const base = consent.provision;
  const choices: ConsentChoices = { share: base?.type === 'permit', countries: Object.fromEntries(countries.map((c) => [c, 'all' as const])), hiddenSections: [] };
  let unsupported = !!base?.period || !!base?.actor || !!base?.purpose;
  for (const p of base?.provision ?? []) {
    const actorCountries = (p.actor ?? []).map((a) => (a.reference?.identifier?.system === COUNTRY ? a.reference.identifier.value : undefined));
    const sections = (p.code ?? []).flatMap((c) => c.coding ?? []).filter((c) => c.system === LOINC && c.code !== SUMMARY_SERVICE.code).map((c) => c.code!);
    const purposes = (p.purpose ?? []).map((c) => c.code);
    if (p.type === 'deny' && sections.length > 0 && !p.actor && !p.purpose && !p.period) {
      choices.hiddenSections.push(...sections);
    } else if (p.type === 'deny' && actorCountries.length === 1 && actorCountries[0] && !p.code && !p.period && !(p.actor?.[0]?.role?.coding ?? []).some((c) => c.code !== 'IRCP')) {
      const country = actorCountries[0];
      if (purposes.length === 0) choices.countries[country] = 'none';
      else if (purposes.length === 1 && purposes[0] === 'TREAT') choices.countries[country] = 'emergency';
      else unsupported = true;
    } else {
      unsupported = true;
    }
  }
  return { choices, unsupported };
}
