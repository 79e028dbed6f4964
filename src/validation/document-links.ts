import { BundleReferenceResolver } from '../documents/reference-resolver.js';
import { narrativeFindings } from './narrative.js';
import type { ValidationIssue } from './profile-validator.js';

type Json = Record<string, unknown>;

const NARRATIVE_LINK = 'http://hl7.org/fhir/StructureDefinition/narrativeLink';
const ORIGINAL_TEXT = 'http://hl7.org/fhir/StructureDefinition/originalText';
const ABSOLUTE = /^[A-Za-z][A-Za-z0-9+.-]*:\S/;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What one walk of a resource collects: references, narratives and links into narratives. */
interface Links {
  /** Literal references with the FHIRPath of their `reference` and the entry they are written in. */
  references: { reference: string; path: string; entry: number }[];
  /** Every `Narrative.div` string. */
  narratives: string[];
  /** `narrativeLink` and `originalText` extensions pointing to `#anchor`. */
  anchorLinks: { target: string; path: string }[];
}

/**
 * Collects references, narratives and anchor links below `value`. The path is kept as a stack of
 * segments and joined only for what is collected: building a path for each of a document's
 * thousand objects cost more than the rest of the walk.
 */
function walk(value: unknown, segments: string[], entry: number, links: Links): void {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      if (typeof item === 'object' && item !== null) {
        segments.push(`[${i}]`);
        walk(item, segments, entry, links);
        segments.pop();
      }
    }
    return;
  }
  if (!isObject(value)) return;
  for (const key in value) {
    const member = value[key];
    if (typeof member === 'string') {
      if (key === 'reference') links.references.push({ reference: member, path: `${segments.join('')}.reference`, entry });
      else if (key === 'div') links.narratives.push(member);
      else if (key === 'url' && (member === NARRATIVE_LINK || member === ORIGINAL_TEXT)) {
        const target = member === NARRATIVE_LINK ? value['valueUrl'] : (value['valueString'] ?? value['valueUrl']);
        if (typeof target === 'string' && target.startsWith('#')) links.anchorLinks.push({ target: target.slice(1), path: segments.join('') });
      }
    } else if (typeof member === 'object' && member !== null) {
      segments.push(`.${key}`);
      walk(member, segments, entry, links);
      segments.pop();
    }
  }
}

/**
 * Links that only the whole document (or resource) can check, answered after one walk:
 * `fullUrl`s are absolute; in a document, every reference resolves to an entry by the R4 rules
 * (error: a document is self-contained) and every entry is reachable from the Composition by
 * following references forward or backward (error, as the HL7 validator reports it);
 * `narrativeLink` and `originalText` point to an
 * anchor of a narrative of the document (or resource): a warning, as the HL7 validator accepts
 * a dangling one.
 */
export function checkDocumentLinks(resource: Json, path: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const links: Links = { references: [], narratives: [], anchorLinks: [] };
  const entries = resource['resourceType'] === 'Bundle' && Array.isArray(resource['entry']) ? (resource['entry'] as unknown[]) : undefined;
  if (entries) {
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i];
      if (!isObject(entry)) continue;
      const fullUrl = entry['fullUrl'];
      if (typeof fullUrl === 'string' && !ABSOLUTE.test(fullUrl)) {
        issues.push({ severity: 'error', code: 'invalid', expression: `${path}.entry[${i}].fullUrl`, message: 'fullUrl must be an absolute URL (R4 Bundle: a RESTful URL or a urn:uuid/urn:oid)' });
      }
      if (isObject(entry['resource'])) walk(entry['resource'], [`${path}.entry[${i}].resource`], i, links);
    }
  } else {
    walk(resource, [path], -1, links);
  }

  if (entries && resource['type'] === 'document') {
    const resolver = new BundleReferenceResolver(entries);
    const targets: number[][] = entries.map(() => []);
    for (const { reference, path: at, entry } of links.references) {
      if (reference.startsWith('#')) continue; // contained resources: checked with the resource
      const target = resolver.resolve(reference, entry);
      if (target === undefined) {
        issues.push({ severity: 'error', code: 'invalid', expression: at, message: 'reference does not resolve to an entry of this document (R4: a document is self-contained; relative references resolve only from RESTful fullUrls)' });
      } else {
        targets[entry]!.push(target);
        targets[target]!.push(entry);
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
      if (!reached.has(i) && isObject(entries[i])) {
        issues.push({ severity: 'error', code: 'invalid', expression: `${path}.entry[${i}]`, message: 'entry is not reachable from the Composition by following references (forward or backward)' });
      }
    }
  }

  if (links.anchorLinks.length > 0) {
    const anchors = new Set<string>();
    for (const div of links.narratives) for (const anchor of narrativeAnchors(div)) anchors.add(anchor);
    for (const { target, path: at } of links.anchorLinks) {
      if (!anchors.has(target)) issues.push({ severity: 'warning', code: 'invalid', expression: at, message: `links to #${target}, which no narrative of this ${entries ? 'document' : 'resource'} has` });
    }
  }
  return issues;
}

function narrativeAnchors(div: string): string[] {
  return narrativeFindings(div).anchors;
}
