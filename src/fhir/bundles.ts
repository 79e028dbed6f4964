import type { Bundle, BundleEntry } from 'fhir/r4.js';

/** An entry of a Bundle assembled from already-serialised resources. */
export interface SerialisedEntry {
  fullUrl: string;
  /** The resource, serialised JSON. */
  resource: Buffer | string;
  /** Extra entry members (`search`, `request`, `response`), serialised after the resource. */
  extra?: Pick<BundleEntry, 'search' | 'request' | 'response'>;
}

/**
 * Writes a searchset or history Bundle around resources that are already JSON, without parsing
 * them again: reads stay at the cost of copying bytes.
 */
export function serialiseBundle(
  type: 'searchset' | 'history',
  total: number | undefined,
  links: readonly { relation: string; url: string }[],
  entries: readonly SerialisedEntry[],
): Buffer {
  // The Bundle without its entries, which are written around the stored bytes below.
  const head: Bundle = { resourceType: 'Bundle', type };
  if (total !== undefined) head.total = total;
  if (links.length > 0) head.link = [...links];
  // No entries, no "entry": FHIR JSON has no empty arrays.
  if (entries.length === 0) return Buffer.from(JSON.stringify(head), 'utf8');
  const parts: (Buffer | string)[] = [JSON.stringify(head).slice(0, -1), ',"entry":['];
  entries.forEach((entry, i) => {
    parts.push(`${i === 0 ? '' : ','}{"fullUrl":${JSON.stringify(entry.fullUrl)},"resource":`);
    parts.push(entry.resource);
    const extra = entry.extra ? JSON.stringify(entry.extra).slice(1, -1) : '';
    parts.push(extra ? `,${extra}}` : '}');
  });
  parts.push(']}');
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));
}
