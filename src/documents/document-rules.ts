import type { Identifier } from 'fhir/r4.js';
import type { Problem } from '../fhir/operation-outcome.js';
import { isJsonObject, isResourceOf, type ParsedObject, type ResourceAsWritten } from '../fhir/resources.js';
import { isNonEmptyString, parseInstant } from './fhir-primitives.js';
import { BundleReferenceResolver, visitReferences } from './reference-resolver.js';

/** What the storage layer needs to know of a document that passed the rules. */
export interface DocumentFacts {
  /** `Bundle.identifier`: a document's identity, immutable once stored. */
  identifier: Required<Pick<Identifier, 'system' | 'value'>>;
  /** `Bundle.timestamp` in epoch milliseconds: decides which summary is current. */
  timestampMs: number;
  /** Index in `Bundle.entry` of the one Patient, the document's subject. */
  patientIndex: number;
  /** The Patient resource as written (not copied; its resourceType checked, the rest by profile validation). */
  patient: ResourceAsWritten<'Patient'>;
}

/** Outcome of {@link checkDocumentRules}: facts when the document is safe to store, else problems. */
export type DocumentCheck = { ok: true; facts: DocumentFacts } | { ok: false; problems: Problem[] };

const invalid = (expression: string, message: string): Problem => ({ code: 'invalid', expression, message });
const required = (expression: string, message: string): Problem => ({ code: 'required', expression, message });

function containedIds(resource: ParsedObject): Set<string> {
  const ids = new Set<string>();
  const contained = resource['contained'];
  if (Array.isArray(contained)) {
    for (const c of contained) if (isJsonObject(c) && typeof c['id'] === 'string') ids.add(c['id']);
  }
  return ids;
}

/**
 * The rules that make a pushed document safe to store, before full profile validation: an IPS
 * document Bundle with identity and timestamp, a Composition first, exactly one Patient that the
 * Composition is about, and every entry addressable with every reference resolving inside.
 * Problems are listed in document order, each located by FHIRPath.
 */
export function checkDocumentRules(document: unknown): DocumentCheck {
  const problems: Problem[] = [];
  // What the requester wrote: nothing about its shape is assumed until checked here.
  const bundle = isJsonObject(document) ? document : {};

  if (bundle['type'] !== 'document') {
    problems.push(invalid('Bundle.type', 'Bundle.type must be "document": Pontis stores IPS documents only'));
  }

  const identifier = bundle['identifier'];
  let documentIdentifier: DocumentFacts['identifier'] | undefined;
  if (!isJsonObject(identifier)) {
    problems.push(required('Bundle.identifier', 'a document needs Bundle.identifier (system and value), its persistent identity'));
  } else if (!isNonEmptyString(identifier['system']) || !isNonEmptyString(identifier['value'])) {
    const missing = !isNonEmptyString(identifier['system']) ? 'system' : 'value';
    problems.push(required(`Bundle.identifier.${missing}`, `Bundle.identifier.${missing} must be a non-empty string`));
  } else {
    documentIdentifier = { system: identifier['system'], value: identifier['value'] };
  }

  const timestampMs = parseInstant(bundle['timestamp']);
  if (bundle['timestamp'] === undefined) {
    problems.push(required('Bundle.timestamp', 'a document needs Bundle.timestamp, the time it was assembled'));
  } else if (timestampMs === undefined) {
    problems.push(invalid('Bundle.timestamp', 'Bundle.timestamp must be a FHIR instant with a time zone, e.g. 2024-05-01T10:00:00Z'));
  }

  const entries = bundle['entry'];
  if (!Array.isArray(entries) || entries.length === 0) {
    problems.push(required('Bundle.entry', 'a document needs entries, the first one a Composition'));
    return { ok: false, problems };
  }

  const seenFullUrls = new Map<string, number>();
  const patientIndexes: number[] = [];
  let patient: ResourceAsWritten<'Patient'> | undefined;
  entries.forEach((entry, i) => {
    const at = `Bundle.entry[${i}]`;
    if (!isJsonObject(entry)) {
      problems.push(invalid(at, 'each entry must be an object'));
      return;
    }
    const fullUrl = entry['fullUrl'];
    if (!isNonEmptyString(fullUrl)) {
      problems.push(required(`${at}.fullUrl`, 'every entry of a document needs a fullUrl'));
    } else if (seenFullUrls.has(fullUrl)) {
      problems.push(invalid(`${at}.fullUrl`, `fullUrl repeats that of Bundle.entry[${seenFullUrls.get(fullUrl)}]`));
    } else {
      seenFullUrls.set(fullUrl, i);
    }
    const resource = entry['resource'];
    if (!isJsonObject(resource) || !isNonEmptyString(resource['resourceType'])) {
      problems.push(required(`${at}.resource`, 'every entry of a document needs a resource with a resourceType'));
      return;
    }
    if (isResourceOf(resource, 'Patient')) {
      patientIndexes.push(i);
      patient ??= resource;
    }
  });

  const first = isJsonObject(entries[0]) ? entries[0]['resource'] : undefined;
  const composition = isJsonObject(first) && isResourceOf(first, 'Composition') ? first : undefined;
  if (isJsonObject(first) && !composition) {
    problems.push(invalid('Bundle.entry[0].resource', 'the first entry of a document must be its Composition'));
  }

  if (patientIndexes.length === 0) {
    problems.push(required('Bundle.entry', 'a patient summary must contain its Patient'));
  } else if (patientIndexes.length > 1) {
    for (const extra of patientIndexes.slice(1)) {
      problems.push(invalid(`Bundle.entry[${extra}].resource`, `a patient summary is about one Patient; another is at Bundle.entry[${patientIndexes[0]}]`));
    }
  }

  const resolver = new BundleReferenceResolver(entries);
  const patientIndex = patientIndexes[0];
  if (composition) {
    const subject = composition['subject'];
    const reference = isJsonObject(subject) ? subject['reference'] : undefined;
    if (!isNonEmptyString(reference)) {
      problems.push(required('Bundle.entry[0].resource.subject', 'the Composition must reference its Patient in subject'));
    } else if (patientIndexes.length === 1) {
      const target = resolver.resolve(reference, 0);
      if (target !== undefined && target !== patientIndex) {
        problems.push(invalid('Bundle.entry[0].resource.subject.reference', 'the Composition subject must be the Patient in this document'));
      }
      // an unresolvable subject is reported below with every other dangling reference
    }
  }

  entries.forEach((entry, i) => {
    const resource = isJsonObject(entry) ? entry['resource'] : undefined;
    if (!isJsonObject(resource)) return;
    let local: Set<string> | undefined;
    const problemOf = (reference: string): string | undefined => {
      if (reference.startsWith('#')) {
        return reference !== '#' && !(local ??= containedIds(resource)).has(reference.slice(1)) ? 'contained reference resolves to no contained resource' : undefined;
      }
      return resolver.resolve(reference, i) === undefined ? 'reference does not resolve to an entry of this document (documents must be self-contained)' : undefined;
    };
    // A walk without paths first: they are built (a string per member walked) only for a
    // resource with a reference to report, by a second walk.
    let dangling = false;
    visitReferences(resource, (reference) => {
      dangling ||= problemOf(reference) !== undefined;
    });
    if (!dangling) return;
    visitReferences(resource, (reference, path) => {
      const problem = problemOf(reference);
      if (problem !== undefined) problems.push(invalid(path, problem));
    }, `Bundle.entry[${i}].resource`);
  });

  if (problems.length > 0 || !documentIdentifier || timestampMs === undefined || patientIndex === undefined || !patient) {
    return { ok: false, problems };
  }
  return { ok: true, facts: { identifier: documentIdentifier, timestampMs, patientIndex, patient } };
}
