import type { Resource } from 'fhir/r4.js';

/**
 * Copies a resource with the server's id and meta in front, keeping the client's other meta.
 * Takes the resource as the client wrote it (any JSON object): only its members are copied.
 */
export function withServerMeta(resource: object, resourceType: string, id: string, meta: { versionId?: string; lastUpdated: string }): Resource {
  const rest = Object.fromEntries<unknown>(Object.entries(resource).filter(([k]) => k !== 'resourceType' && k !== 'id' && k !== 'meta'));
  const clientMeta: unknown = 'meta' in resource ? resource.meta : undefined;
  const kept =
    clientMeta !== null && typeof clientMeta === 'object'
      ? Object.fromEntries<unknown>(Object.entries(clientMeta).filter(([k]) => k !== 'versionId' && k !== 'lastUpdated'))
      : {};
  return { resourceType, id, meta: { ...meta, ...kept }, ...rest };
}
