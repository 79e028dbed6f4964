import { createHash } from 'node:crypto';

/** A copy with object keys in sorted order (null-prototype objects, so `__proto__` stays a key). */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value !== null && typeof value === 'object') {
    const out = Object.create(null) as Record<string, unknown>;
    for (const key of Object.keys(value).sort()) out[key] = sortedKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

/**
 * Hash of a document's content, blind to key order and to what the server assigns (`id`,
 * `meta.versionId`, `meta.lastUpdated`): equal hashes mean a push is a retry of a stored document.
 */
export function documentContentHash(bundle: Record<string, unknown>): string {
  const { id: _id, meta, ...rest } = bundle;
  const content: Record<string, unknown> = { ...rest };
  if (meta !== null && typeof meta === 'object') {
    const { versionId: _v, lastUpdated: _l, ...clientMeta } = meta as Record<string, unknown>;
    if (Object.keys(clientMeta).length > 0) content['meta'] = clientMeta;
  }
  return createHash('sha256').update(JSON.stringify(sortedKeys(content))).digest('base64url');
}
