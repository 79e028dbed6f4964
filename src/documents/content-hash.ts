import { createHash } from 'node:crypto';

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
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
  return createHash('sha256').update(canonical(content)).digest('base64url');
}
