/**
 * R4 Observation: "If a resource is a vital sign as defined by one of the LOINC codes in the
 * vital signs profiles, it SHALL conform to that profile", whatever profile it claims. The codes
 * are those the HL7 validator maps to the R4 core vital-signs profiles.
 */
import { isJsonObject, type ParsedObject } from '../fhir/resources.js';

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

/** The vital-signs profile an Observation (parsed JSON, not yet validated) must meet because of its code, if any. */
export function vitalSignsProfile(observation: ParsedObject): string | undefined {
  const code = observation['code'];
  if (!isJsonObject(code)) return undefined;
  const codings = code['coding'];
  if (!Array.isArray(codings)) return undefined;
  for (const coding of codings) {
    if (!isJsonObject(coding)) continue;
    const system = coding['system'];
    const value = coding['code'];
    if (system !== 'http://loinc.org' || typeof value !== 'string') continue;
    const profile = PROFILE_BY_LOINC.get(value);
    if (profile) return profile;
  }
  return undefined;
}
