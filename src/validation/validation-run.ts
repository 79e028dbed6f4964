import { isJsonObject, type ParsedObject } from '../fhir/resources.js';
import { noLinks, type Links } from './document-links.js';
import type { ValidationIssue } from './validation-issue.js';

/** Placeholder for the path of a resource while its issues are computed for reuse. */
export const ROOT = '\u0000';

/** The `Type/id` that ends a RESTful fullUrl. */
const RESTFUL_TAIL = /^[a-z][a-z0-9+.-]*:\/\/.*\/([A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64})$/;

/**
 * State of one validation run, shared by the walk, slicing, bindings and invariants. Everything
 * remembered here lives as long as the run: a validation never reuses another's verdicts. What
 * it keeps per object is in Maps, not WeakMaps: the run dies with its validation, and weak
 * tables cost the garbage collector more.
 */
export interface Run {
  issues: ValidationIssue[];
  /** The resource being validated at the top, for `%rootResource`. */
  root: ParsedObject;
  /** The resource the current element belongs to, for `%resource`. */
  resource: ParsedObject;
  /** Full URLs of the enclosing Bundle's entries, for `resolve()` in discriminators. */
  entries: Map<string, ParsedObject>;
  /** `Type/id` of the entries with a RESTful fullUrl, for relative references in discriminators. */
  relative: Map<string, ParsedObject>;
  /** Whether a resource meets a profile, per resource and profile, once asked. */
  conformance: Map<object, Map<string, boolean>>;
  /** References, narratives and narrative links met on the walk, for the whole-document checks. */
  links: Links;
  /** Whether this walk collects links (the first walk of its resource), and the resources walked so. */
  collect: boolean;
  linked: Set<object>;
  /** Value sets already reported as not expandable here, and HL7 extensions as not loaded. */
  unexpandable: Set<string>;
  /** Invariant verdicts already reached: element → invariant (path and expression) → holds. */
  verdicts: Map<object, Map<string, boolean>>;
  /** Issues of a resource against a profile, already computed, relative to the resource (`\u0000`). */
  profileIssues: Map<object, Map<string, ValidationIssue[]>>;
}

/** A run over `resource`: a Bundle's entries are indexed by fullUrl (and RESTful `Type/id`) for slicing's `resolve()`. */
export function startRun(resource: ParsedObject): Run {
  const run: Run = {
    issues: [],
    root: resource,
    resource,
    entries: new Map(),
    relative: new Map(),
    conformance: new Map(),
    links: noLinks(),
    collect: true,
    linked: new Set(),
    profileIssues: new Map(),
    verdicts: new Map(),
    unexpandable: new Set(),
  };
  if (resource['resourceType'] === 'Bundle' && Array.isArray(resource['entry'])) {
    for (const entry of resource['entry']) {
      if (isJsonObject(entry) && typeof entry['fullUrl'] === 'string' && isJsonObject(entry['resource'])) {
        const fullUrl = entry['fullUrl'];
        run.entries.set(fullUrl, entry['resource']);
        // RESTful fullUrls (`http...`) also answer relative references; `urn:` ones never do.
        if (fullUrl.charCodeAt(0) !== 117 /* u */) {
          const restful = RESTFUL_TAIL.exec(fullUrl);
          if (restful && !run.relative.has(restful[1]!)) run.relative.set(restful[1]!, entry['resource']);
        }
      }
    }
  }
  return run;
}

/** What a run remembers of one object (`verdicts`, `conformance`), made on first use. */
export function rememberedOf(memory: Map<object, Map<string, boolean>>, value: object): Map<string, boolean> {
  let remembered = memory.get(value);
  if (!remembered) {
    remembered = new Map();
    memory.set(value, remembered);
  }
  return remembered;
}
