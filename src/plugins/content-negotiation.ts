import Boom from '@hapi/boom';
import type { Plugin, Request } from '@hapi/hapi';
import { headerOf } from '../fhir/headers.js';
import { fhirError } from '../fhir/operation-outcome.js';
import { isJsonFormat, negotiateResponseType } from '../fhir/media-types.js';

declare module '@hapi/hapi' {
  interface RequestApplicationState {
    /** Media type the response is written in. */
    responseType?: string;
  }
}

/** Media type chosen for the response to this request. */
export function responseTypeOf(request: Request): string {
  return request.app.responseType ?? 'application/fhir+json';
}

/**
 * Routes outside `/fhir` (health, metrics, OpenAPI) and its `.well-known` documents (the node's
 * JWK Set) are not FHIR: they answer in their own types.
 */
function isFhirPath(path: string): boolean {
  return path === '/fhir' || (path.startsWith('/fhir/') && !path.startsWith('/fhir/.well-known/'));
}

/**
 * Refuses requests for formats this node does not produce (406): an `Accept` without JSON, or
 * `_format` other than JSON. It runs after authentication (so that a 406 tells nothing to a
 * caller without a valid token, and a patient-data route's 406 is audited like any answer) and
 * before the handler does any work. Every response is written in FHIR JSON.
 */
export const contentNegotiationPlugin: Plugin<void> = {
  name: 'pontis-content-negotiation',
  register(server) {
    server.ext('onPostAuth', (request, h) => {
      // A method the path does not have (the 405 catch-all, method '*') is refused as such first.
      if (!isFhirPath(request.path) || request.route.method === '*') return h.continue;
      const format = request.query['_format'];
      if (typeof format === 'string' && !isJsonFormat(format)) {
        throw fhirError(406, { code: 'not-supported', expression: '_format', message: 'this node answers in FHIR JSON only (_format=json)' });
      }
      const accept = headerOf(request, 'accept');
      const type = negotiateResponseType(accept);
      if (!type) {
        throw fhirError(406, { code: 'not-supported', message: 'this node answers in application/fhir+json or application/json only' });
      }
      request.app.responseType = type;
      return h.continue;
    });
    server.ext('onPreResponse', (request, h) => {
      if (!isFhirPath(request.path)) return h.continue;
      const response = request.response;
      const type = `${responseTypeOf(request)}; charset=utf-8`;
      if (Boom.isBoom(response)) response.output.headers['Content-Type'] = type;
      else if (response.source !== null) response.type(type);
      return h.continue;
    });
  },
};
