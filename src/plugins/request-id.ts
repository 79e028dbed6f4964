import { randomUUID } from 'node:crypto';
import Boom from '@hapi/boom';
import type { Plugin, Request } from '@hapi/hapi';

declare module '@hapi/hapi' {
  interface RequestApplicationState {
    requestId?: string;
  }
}

/**
 * Request ids taken from a client are logged, audited and echoed, so they must carry nothing but
 * an id: a UUID, optionally after words of letters (`matrix-<uuid>`). A free-form id let a client
 * put a national identifier into every log line of its request.
 */
const ACCEPTABLE_ID = /^(?:[A-Za-z]{1,16}[-_.:]){0,4}[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** The request's id: the client's `X-Request-Id` when acceptable, else a new UUID. */
export function requestIdOf(request: Request): string {
  let id = request.app.requestId;
  if (id === undefined) {
    const given: unknown = request.headers['x-request-id'];
    id = typeof given === 'string' && ACCEPTABLE_ID.test(given) ? given : randomUUID();
    request.app.requestId = id;
  }
  return id;
}

/** Gives every request one id, honouring `X-Request-Id`, and echoes it on the response. */
export const requestIdPlugin: Plugin<void> = {
  name: 'pontis-request-id',
  register(server) {
    server.ext('onRequest', (request, h) => {
      requestIdOf(request);
      return h.continue;
    });
    server.ext('onPreResponse', (request, h) => {
      const id = requestIdOf(request);
      const response = request.response;
      if (Boom.isBoom(response)) response.output.headers['X-Request-Id'] = id;
      else response.header('X-Request-Id', id);
      return h.continue;
    });
  },
};
