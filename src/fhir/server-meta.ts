import type { Resource } from 'fhir/r4.js';

/** The server's members of a resource's meta. */
export interface ServerMeta {
  versionId?: string;
  lastUpdated: string;
}

/**
 * Copies a resource with the server's id and meta in front, keeping the client's other meta.
 * Takes the resource as the client wrote it (any JSON object): only its members are copied.
 */
export function withServerMeta(resource: object, resourceType: string, id: string, meta: ServerMeta): Resource {
  return { resourceType, id, meta: { ...meta, ...clientMetaOf(resource) }, ...clientMembersOf(resource) };
}

/** The resource's members other than those the server writes in front (resourceType, id, meta). */
function clientMembersOf(resource: object): Record<string, unknown> {
  return Object.fromEntries<unknown>(Object.entries(resource).filter(([k]) => k !== 'resourceType' && k !== 'id' && k !== 'meta'));
}

/** The client's meta members that the server keeps (all but versionId and lastUpdated). */
function clientMetaOf(resource: object): Record<string, unknown> {
  const clientMeta: unknown = 'meta' in resource ? resource.meta : undefined;
  return clientMeta !== null && typeof clientMeta === 'object'
    ? Object.fromEntries<unknown>(Object.entries(clientMeta).filter(([k]) => k !== 'versionId' && k !== 'lastUpdated'))
    : {};
}

/**
 * A resource serialised, as JSON text, without the members the server assigns (`resourceType`,
 * `id`, `meta.versionId`, `meta.lastUpdated`): the bulk of the bytes to store, made before the
 * server's id is known and wherever the resource was parsed (a validation worker thread), so
 * that storing it costs the event loop no serialisation of the whole resource.
 */
export interface SerialisedWithoutServerMeta {
  /** The members other than resourceType, id and meta, as in a JSON object but without its braces ('' when none). */
  members: string;
  /** The client's meta members that are kept, likewise without braces ('' when none). */
  clientMeta: string;
}

/** Members of an object as JSON text without its braces. */
function membersText(value: Record<string, unknown>): string {
  return JSON.stringify(value).slice(1, -1);
}

/** `resource` (parsed JSON, as the client wrote it) serialised without what the server assigns; see {@link withServerMetaText}. */
export function serialiseWithoutServerMeta(resource: object): SerialisedWithoutServerMeta {
  return { members: membersText(clientMembersOf(resource)), clientMeta: membersText(clientMetaOf(resource)) };
}

/**
 * The JSON text of {@link withServerMeta}, from the resource serialised without server members:
 * only the few bytes in front are written here. The same JSON value as
 * `JSON.stringify(withServerMeta(...))`, and the same bytes unless the resource has a member named
 * like an array index (which JavaScript objects put first, and no FHIR element is).
 */
export function withServerMetaText(serialised: SerialisedWithoutServerMeta, resourceType: string, id: string, meta: ServerMeta): string {
  const server = membersText({ versionId: meta.versionId, lastUpdated: meta.lastUpdated });
  const metaText = serialised.clientMeta === '' ? server : `${server},${serialised.clientMeta}`;
  const head = `{"resourceType":${JSON.stringify(resourceType)},"id":${JSON.stringify(id)},"meta":{${metaText}}`;
  return serialised.members === '' ? `${head}}` : `${head},${serialised.members}}`;
}
