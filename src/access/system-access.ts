import { randomUUID } from 'node:crypto';
import type { Requester } from '../auth/requester.js';
import { parseScopes } from '../auth/scopes.js';
import { newAccessContext, type Access } from './access-context.js';

/**
 * The access context of the node's own tools (`pontis seed`, start-up seeding): a hospital
 * system of this country, as if it pushed through the API. Never reachable over HTTP.
 */
export function localSystemAccess(country: string, subject: string): Access {
  const requester: Requester = {
    issuer: 'urn:pontis:local',
    issuerKind: 'hospital-system',
    subject,
    clientId: 'pontis-cli',
    tokenId: randomUUID(),
    country,
    scopes: parseScopes('system/*.cruds'),
    context: 'system',
  };
  return newAccessContext(randomUUID(), requester) as Access;
}
