import { createHash } from 'node:crypto';
import type { Bundle } from 'fhir/r4.js';
import { isJsonObject, type ParsedObject } from '../fhir/resources.js';

/**
 * A copy with object keys in sorted order. Plain objects, because JSON.stringify walks them about
 * a third faster than null-prototype ones (which V8 keeps as dictionaries); a `__proto__` member
 * is defined as an own property, so it stays a key instead of becoming the copy's prototype.
 */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = sortedKeys(value[i]);
    return out;
  }
  if (isJsonObject(value)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const sorted = sortedKeys(value[key]);
      if (key === '__proto__') Object.defineProperty(out, key, { value: sorted, enumerable: true, writable: true, configurable: true });
      else out[key] = sorted;
    }
    return out;
  }
  return value;
}

/**
 * Hash of a document's content, blind to key order and to what the server assigns (`id`,
 * `meta.versionId`, `meta.lastUpdated`): equal hashes mean a push is a retry of a stored document.
 * Stored records keep it, so its value must never change for the same content (the tests pin it).
 * `document`: a Bundle, or the parsed JSON of one whose type is not checked yet (it may be anything).
 */
export function documentContentHash(document: Bundle | ParsedObject): string {
  const { id: _id, meta, ...rest } = document;
  const written: unknown = meta;
  // Whatever object `meta` is (an array too, as before: stored hashes must not change).
  const clientMeta = written !== null && typeof written === 'object' ? Object.entries(written).filter(([key]) => key !== 'versionId' && key !== 'lastUpdated') : [];
  const content = clientMeta.length > 0 ? { ...rest, meta: Object.fromEntries(clientMeta) } : rest;
  return createHash('sha256').update(JSON.stringify(sortedKeys(content))).digest('base64url');
}
