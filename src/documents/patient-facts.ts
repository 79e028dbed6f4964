import type { Patient } from 'fhir/r4.js';
import { isJsonObject } from '../fhir/resources.js';
import { isFhirDate, isNonEmptyString } from './fhir-primitives.js';

/** Demographics of a Patient that searches filter on, normalised for matching. */
export interface PatientFacts {
  /** `system|value` of each identifier that has both. */
  identifierKeys: string[];
  identifierSystems: string[];
  identifierValues: string[];
  /** Family names, lower-cased without diacritics. */
  family: string[];
  /** Given names, lower-cased without diacritics. */
  given: string[];
  birthDate: string | null;
  gender: string | null;
}

/** Lower case without diacritics: FHIR string search is case- and accent-insensitive. */
export function normaliseName(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().trim();
}

/** Key under which an identifier is indexed. */
export function identifierKey(system: string, value: string): string {
  return `${system}|${value}`;
}

/**
 * Extracts the searchable facts of a Patient resource (the demographics it reads of one); malformed
 * parts are ignored, as the Patient may be as a client wrote it.
 */
export function patientFacts(patient: Pick<Patient, 'identifier' | 'name' | 'birthDate' | 'gender'>): PatientFacts {
  const facts: PatientFacts = {
    identifierKeys: [],
    identifierSystems: [],
    identifierValues: [],
    family: [],
    given: [],
    birthDate: isFhirDate(patient.birthDate) ? patient.birthDate : null,
    gender: typeof patient.gender === 'string' ? patient.gender : null,
  };
  const add = (list: string[], value: string): void => {
    if (!list.includes(value)) list.push(value);
  };
  const identifiers = Array.isArray(patient.identifier) ? patient.identifier : [];
  for (const id of identifiers) {
    if (!isJsonObject(id) || !isNonEmptyString(id['system']) || !isNonEmptyString(id['value'])) continue;
    add(facts.identifierKeys, identifierKey(id['system'], id['value']));
    add(facts.identifierSystems, id['system']);
    add(facts.identifierValues, id['value']);
  }
  const names = Array.isArray(patient.name) ? patient.name : [];
  for (const name of names) {
    if (!isJsonObject(name)) continue;
    if (isNonEmptyString(name['family'])) add(facts.family, normaliseName(name['family']));
    const given = Array.isArray(name['given']) ? name['given'] : [];
    for (const g of given) if (isNonEmptyString(g)) add(facts.given, normaliseName(g));
  }
  facts.identifierKeys.sort();
  return facts;
}
