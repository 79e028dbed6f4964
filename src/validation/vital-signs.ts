/**
 * R4 Observation: "If a resource is a vital sign as defined by one of the LOINC codes in the
 * vital signs profiles, it SHALL conform to that profile", whatever profile it claims. The codes
 * are those the HL7 validator maps to the R4 core vital-signs profiles.
 */
const BASE = 'http://hl7.org/fhir/StructureDefinition/';
const PROFILE_BY_LOINC = new Map<string, string>(([
  ['85353-1', 'vitalspanel'],
  ['9279-1', 'resprate'],
  ['8867-4', 'heartrate'],
  ['2708-6', 'oxygensat'],
  ['59408-5', 'oxygensat'],
  ['8310-5', 'bodytemp'],
  ['8302-2', 'bodyheight'],
  ['8306-3', 'bodyheight'],
  ['9843-4', 'headcircum'],
  ['8287-5', 'headcircum'],
  ['29463-7', 'bodyweight'],
  ['3141-9', 'bodyweight'],
  ['8352-7', 'bodyweight'],
  ['39156-5', 'bmi'],
  ['85354-9', 'bp'],
] as const).map(([code, profile]) => [code, BASE + profile]));

/** The vital-signs profile an Observation must meet because of its code, if any. */
export function vitalSignsProfile(observation: Record<string, unknown>): string | undefined {
  const code = observation['code'];
  if (typeof code !== 'object' || code === null) return undefined;
  const codings = (code as Record<string, unknown>)['coding'];
  if (!Array.isArray(codings)) return undefined;
  for (const coding of codings) {
    if (typeof coding !== 'object' || coding === null) continue;
    const c = coding as Record<string, unknown>;
    if (c['system'] !== 'http://loinc.org' || typeof c['code'] !== 'string') continue;
    const profile = PROFILE_BY_LOINC.get(c['code']);
    if (profile) return profile;
  }
  return undefined;
}
