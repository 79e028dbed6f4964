import type { ServerRoute } from '@hapi/hapi';
import type { NodeIdentity } from '../exchange/node-identity.js';

/**
 * `GET [base]/.well-known/jwks.json`: the public keys this node signs summaries with (JWK Set),
 * named by the `jku` and `kid` of each signature, so that any verifier can check where a summary
 * came from (docs/exchange.md). Public: it holds public keys only; no token needed.
 */
export function nodeKeysRoute(identity: NodeIdentity): ServerRoute {
  const body = JSON.stringify({ keys: [identity.publicJwk] });
  return {
    method: 'GET',
    path: '/fhir/.well-known/jwks.json',
    options: { auth: false },
    handler: (_request, h) => h.response(body).type('application/jwk-set+json').header('Cache-Control', 'public, max-age=300'),
  };
}
