import type { Coding, Resource } from 'fhir/r4.js';
import Joi from 'joi';
import { isResource } from '../fhir/resources.js';

/** `_summary=count`: the total only, no entries (every search accepts it). */
export const summaryCountParam = Joi.string().valid('count').messages({ 'any.only': '"_summary" supports only count here' });

/** `_offset`: how many matches to skip (paging). */
export const offsetParam = (max: number) => Joi.number().integer().min(0).max(max).default(0);

/**
 * The links of one page of a searchset: `self`, and `next`/`previous` where there are more
 * matches after or before it. `pageUrl(offset)` writes the search with that `_offset`.
 */
export function pagingLinks(pageUrl: (offset: number) => string, offset: number, count: number, shown: number, total: number): { relation: string; url: string }[] {
  const links = [{ relation: 'self', url: pageUrl(offset) }];
  if (count > 0 && offset + shown < total) links.push({ relation: 'next', url: pageUrl(offset + count) });
  if (offset > 0 && count > 0) links.push({ relation: 'previous', url: pageUrl(Math.max(0, offset - count)) });
  return links;
}

/** `_elements`: top-level elements to return (a comma-separated list of element names). */
export const elementsParam = Joi.string()
  .max(512)
  .pattern(/^[a-z][A-Za-z0-9]{0,63}(,[a-z][A-Za-z0-9]{0,63}){0,31}$/)
  .message('"_elements" must be element names separated by commas, such as id,status');

/** Marks a resource returned with only some of its elements. */
const SUBSETTED: Coding = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED', display: 'subsetted' };

/**
 * Elements kept whatever `_elements` asks: what the resource must have (R4 minimum 1), and what
 * its invariants need (Consent: ppc-1 a policy or policy rule, ppc-2..5 the patient).
 */
const MANDATORY: Record<string, readonly string[]> = {
  Consent: ['status', 'scope', 'category', 'patient', 'policy', 'policyRule'],
  AuditEvent: ['type', 'recorded', 'agent', 'source'],
  Patient: [],
};

/**
 * The resource (serialised JSON) reduced to `resourceType`, `id`, `meta` (tagged SUBSETTED), its
 * mandatory elements and those asked for; undefined `elements` leaves it as it is. Parsing is the
 * cost: offered on searches of small resources only (Patient, Consent, AuditEvent).
 */
export function withElements(json: string, elements: string | undefined): string {
  if (elements === undefined) return json;
  // Bytes this node stored: a resource it wrote.
  const resource: unknown = JSON.parse(json);
  if (!isResource(resource)) return json;
  const keep = new Set(['resourceType', 'id', 'meta', ...(MANDATORY[resource.resourceType] ?? []), ...elements.split(',')]);
  // A primitive's extension sibling (`_birthDate`) goes with it.
  const kept = Object.entries(resource).filter(([k]) => keep.has(k) || (k.startsWith('_') && keep.has(k.slice(1))));
  const { meta } = resource;
  // Members keep the stored order; meta is replaced where it stands.
  const reduced: Resource = { ...Object.fromEntries<unknown>(kept), resourceType: resource.resourceType, meta: { ...meta, tag: [...(meta?.tag ?? []), SUBSETTED] } };
  return JSON.stringify(reduced);
}
