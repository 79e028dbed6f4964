/** Copies a resource with the server's id and meta in front, keeping the client's other meta. */
export function withServerMeta(
  resource: Record<string, unknown>,
  resourceType: string,
  id: string,
  meta: { versionId?: string; lastUpdated: string },
): Record<string, unknown> {
  const { resourceType: _t, id: _i, meta: clientMeta, ...rest } = resource;
  const kept =
    clientMeta !== null && typeof clientMeta === 'object'
      ? Object.fromEntries(Object.entries(clientMeta).filter(([k]) => k !== 'versionId' && k !== 'lastUpdated'))
      : {};
  return { resourceType, id, meta: { ...meta, ...kept }, ...rest };
}
