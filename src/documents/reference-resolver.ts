import { isJsonObject } from '../fhir/resources.js';

/** One `Bundle.entry` as the resolver sees it. */
interface EntryView {
  fullUrl: string | undefined;
  /** The base of a RESTful fullUrl (`http://x/fhir/`), against which relative references resolve. */
  base: string | undefined;
  resourceType: string | undefined;
  id: string | undefined;
}

/**
 * Visits every `reference` string in a value (a resource, or any part of one), in document order.
 * With `path` (the FHIRPath of `node`), each visit gets the reference's FHIRPath; without it no
 * paths are built. The one walk of references: document rules and section withholding use it.
 */
export function visitReferences(node: unknown, visit: (reference: string, path: string) => void, path?: string): void {
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) visitReferences(node[i], visit, path === undefined ? undefined : `${path}[${i}]`);
    return;
  }
  if (!isJsonObject(node)) return;
  // for..in rather than Object.keys (an array per object): parsed JSON has no inherited enumerable members.
  for (const key in node) {
    const value = node[key];
    if (key === 'reference' && typeof value === 'string') visit(value, path === undefined ? '' : `${path}.reference`);
    else if (typeof value === 'object' && value !== null) visitReferences(value, visit, path === undefined ? undefined : `${path}.${key}`);
  }
}

const ABSOLUTE = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const RELATIVE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;
const HISTORY_SUFFIX = /\/_history\/[A-Za-z0-9\-.]{1,64}$/;
const RESTFUL_FULL_URL = /^(.*\/)[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/;

/**
 * Resolves references inside a Bundle by the FHIR rules (R4 Bundle "Resolving references in
 * Bundles"): absolute references match a `fullUrl`; relative ones are taken against the base of
 * the referring entry's RESTful `fullUrl`. From an entry addressed by a URN (`urn:uuid:`,
 * `urn:oid:`) a relative reference has no defined meaning and resolves to nothing; only an entry
 * without a `fullUrl` (allowed outside documents) falls back to the type and id of a resource.
 */
export class BundleReferenceResolver {
  private readonly byFullUrl = new Map<string, number>();
  private readonly byTypeAndId = new Map<string, number>();
  /** RESTful fullUrls by their base and `Type/id`, so that a relative reference is looked up as written, without a new string. */
  private readonly byBase = new Map<string, Map<string, number>>();
  private readonly entries: EntryView[];

  constructor(entries: readonly unknown[]) {
    this.entries = entries.map((entry) => {
      const e = isJsonObject(entry) ? entry : {};
      const resource = isJsonObject(e['resource']) ? e['resource'] : {};
      const fullUrl = typeof e['fullUrl'] === 'string' ? e['fullUrl'] : undefined;
      const view: EntryView = {
        fullUrl,
        // A URN (most documents' fullUrls) has no '/': no base, and no regular expression run.
        base: fullUrl === undefined || !fullUrl.includes('/') ? undefined : RESTFUL_FULL_URL.exec(fullUrl)?.[1],
        resourceType: typeof resource['resourceType'] === 'string' ? resource['resourceType'] : undefined,
        id: typeof resource['id'] === 'string' ? resource['id'] : undefined,
      };
      return view;
    });
    this.entries.forEach((view, index) => {
      if (view.fullUrl !== undefined && !this.byFullUrl.has(view.fullUrl)) {
        this.byFullUrl.set(view.fullUrl, index);
        if (view.base !== undefined) {
          let byPlain = this.byBase.get(view.base);
          if (!byPlain) {
            byPlain = new Map();
            this.byBase.set(view.base, byPlain);
          }
          byPlain.set(view.fullUrl.slice(view.base.length), index);
        }
      }
      if (view.resourceType && view.id) {
        const key = `${view.resourceType}/${view.id}`;
        if (!this.byTypeAndId.has(key)) this.byTypeAndId.set(key, index);
      }
    });
  }

  /**
   * Index of the entry that `reference`, written in entry `fromIndex`, points to; undefined when
   * it resolves to nothing in the Bundle. Contained references (`#id`) are not handled here.
   */
  resolve(reference: string, fromIndex: number): number | undefined {
    // Most references of a document name a fullUrl exactly (`urn:uuid:...`): no parsing needed.
    // (A fullUrl is absolute, so a relative reference never matches one exactly.)
    const exact = this.byFullUrl.get(reference);
    if (exact !== undefined && reference.includes(':')) return exact;
    if (ABSOLUTE.test(reference)) {
      return this.byFullUrl.get(reference) ?? this.byFullUrl.get(reference.replace(HISTORY_SUFFIX, ''));
    }
    if (!RELATIVE.test(reference)) return undefined;
    const history = reference.indexOf('/_history/');
    const plain = history < 0 ? reference : reference.slice(0, history);
    const from = this.entries[fromIndex];
    if (from?.fullUrl === undefined) return this.byTypeAndId.get(plain);
    // The fullUrl `base + plain`: a RESTful one, whose base and `Type/id` split it the same way.
    return from.base === undefined ? undefined : this.byBase.get(from.base)?.get(plain);
  }
}
