import type { Resource } from 'fhir/r4.js';

/** Copies a resource with the server's id and meta in front, keeping the client's other meta. */
export function withServerMeta<R extends Resource>(
  resource: R,
  resourceType: R['resourceType'],
  id: string,
  meta: { versionId?: string; lastUpdated: string },
): Resource {
  const { resourceType: _t, id: _i, meta: clientMeta, ...rest } = resource;
  // The client's meta is what it wrote: an object when valid, but read as any JSON value.
  const written: unknown = clientMeta;
  const kept =
    written !== null && typeof written === 'object'
      ? Object.fromEntries(Object.entries(written).filter(([k]) => k !== 'versionId' && k !== 'lastUpdated'))
      : {};
  return { resourceType, id, meta: { ...meta, ...kept }, ...rest };
}
