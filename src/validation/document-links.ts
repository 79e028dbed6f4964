import { BundleReferenceResolver } from '../documents/reference-resolver.js';
import { isJsonObject, type ParsedObject } from '../fhir/resources.js';
import type { ValidationIssue } from './validation-issue.js';

/** Extensions that point into a narrative with `#anchor`. */
export const NARRATIVE_LINK = 'http://hl7.org/fhir/StructureDefinition/narrativeLink';
export const ORIGINAL_TEXT = 'http://hl7.org/fhir/StructureDefinition/originalText';
const ABSOLUTE = /^[A-Za-z][A-Za-z0-9+.-]*:\S/;

/**
 * What the validator's walk collects for the checks only the whole document can make (a second
 * walk of the document cost an eighth of a validation), once per resource. Paths are relative to
 * their owner, the resource whose element they are in, and start with `relativeTo`.
 */
export interface Links {
  /** Literal references, with the FHIRPath of their `reference`. */
  references: { owner: ParsedObject; path: string; reference: string }[];
  /** The anchors of every `Narrative.div` (its findings, already worked out by the walk). */
  narrativeAnchors: (readonly string[])[];
  /** `narrativeLink` and `originalText` extensions pointing to `#anchor`. */
  anchorLinks: { owner: ParsedObject; path: string; target: string }[];
}

/** Collected links, empty. */
export function noLinks(): Links {
  return { references: [], narrativeAnchors: [], anchorLinks: [] };
}

/** The `#anchor` a narrativeLink or originalText extension points to, if it is one of those. */
export function anchorTarget(extension: ParsedObject, url: string): string | undefined {
  if (url !== NARRATIVE_LINK && url !== ORIGINAL_TEXT) return undefined;
  const target = url === NARRATIVE_LINK ? extension['valueUrl'] : (extension['valueString'] ?? extension['valueUrl']);
  return typeof target === 'string' && target.startsWith('#') ? target.slice(1) : undefined;
}

/** Where each resource of the document is (its FHIRPath) and which entry holds it. */
function placesOf(resource: ParsedObject, path: string, entries: unknown[] | undefined): Map<ParsedObject, { path: string; entry: number }> {
  const places = new Map<ParsedObject, { path: string; entry: number }>();
  const place = (owner: ParsedObject, at: string, entry: number): void => {
    places.set(owner, { path: at, entry });
    const contained = owner['contained'];
    if (Array.isArray(contained)) contained.forEach((c, j) => isJsonObject(c) && places.set(c, { path: `${at}.contained[${j}]`, entry }));
  };
  if (!entries) {
    place(resource, path, -1);
    return places;
  }
  entries.forEach((entry, i) => {
    if (isJsonObject(entry) && isJsonObject(entry['resource'])) place(entry['resource'], `${path}.entry[${i}].resource`, i);
  });
  return places;
}

/**
 * Links that only the whole document (or resource) can check, from what the validator's walk
 * collected: `fullUrl`s are absolute; in a document, every reference resolves to an entry by the
 * R4 rules (error: a document is self-contained) and every entry is reachable from the
 * Composition by following references forward or backward (error, as the HL7 validator reports
 * it); `narrativeLink` and `originalText` point to an anchor of a narrative of the document (or
 * resource): a warning, as the HL7 validator accepts a dangling one.
 */
export function checkDocumentLinks(resource: ParsedObject, path: string, links: Links, relativeTo: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const entries = resource['resourceType'] === 'Bundle' && Array.isArray(resource['entry']) ? (resource['entry'] as unknown[]) : undefined;
  const document = entries !== undefined && resource['type'] === 'document';
  if (entries) {
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i];
      const fullUrl = isJsonObject(entry) ? entry['fullUrl'] : undefined;
      if (typeof fullUrl === 'string' && !ABSOLUTE.test(fullUrl)) {
        issues.push({ severity: 'error', code: 'invalid', expression: `${path}.entry[${i}].fullUrl`, message: 'fullUrl must be an absolute URL (R4 Bundle: a RESTful URL or a urn:uuid/urn:oid)' });
      }
    }
  }
  if (!document && links.anchorLinks.length === 0) return issues;
  const places = placesOf(resource, path, entries);
  // Paths are built only for what is reported.
  const absolute = (place: { path: string }, at: string): string => place.path + (at.startsWith(relativeTo) ? at.slice(relativeTo.length) : at);

  if (document) {
    const resolver = new BundleReferenceResolver(entries);
    const targets: number[][] = entries.map(() => []);
    for (const { owner, path: at, reference } of links.references) {
      if (reference.charCodeAt(0) === 35 /* # */) continue; // contained resources: checked with the resource
      const place = places.get(owner);
      if (!place || place.entry < 0) continue;
      const target = resolver.resolve(reference, place.entry);
      if (target === undefined) {
        issues.push({ severity: 'error', code: 'invalid', expression: absolute(place, at), message: 'reference does not resolve to an entry of this document (R4: a document is self-contained; relative references resolve only from RESTful fullUrls)' });
      } else {
        targets[place.entry]!.push(target);
        targets[target]!.push(place.entry);
      }
    }
    // Entries reached by following references, forward or backward, from the Composition.
    const reached = new Set<number>([0]);
    const queue = [0];
    while (queue.length > 0) {
      for (const next of targets[queue.pop()!]!) {
        if (!reached.has(next)) {
          reached.add(next);
          queue.push(next);
        }
      }
    }
    for (let i = 1; i < entries.length; i++) {
      if (!reached.has(i) && isJsonObject(entries[i])) {
        issues.push({ severity: 'error', code: 'invalid', expression: `${path}.entry[${i}]`, message: 'entry is not reachable from the Composition by following references (forward or backward)' });
      }
    }
  }

  if (links.anchorLinks.length > 0) {
    const anchors = new Set<string>();
    for (const found of links.narrativeAnchors) for (const anchor of found) anchors.add(anchor);
    for (const { owner, path: at, target } of links.anchorLinks) {
      const place = places.get(owner);
      if (place && !anchors.has(target)) {
        issues.push({ severity: 'warning', code: 'invalid', expression: absolute(place, at), message: `links to #${target}, which no narrative of this ${entries ? 'document' : 'resource'} has` });
      }
    }
  }
  return issues;
}
