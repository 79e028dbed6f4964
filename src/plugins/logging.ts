import Boom from '@hapi/boom';
import type { Plugin, Request } from '@hapi/hapi';
import hapiPino from 'hapi-pino';
import type { Logger } from 'pino';
import { requestIdOf } from './request-id.js';

/**
 * Structured request logging that cannot leak patient data: a line carries the route pattern
 * (`/fhir/Patient/{id}`), never the path or query that hold ids and identifiers, and never
 * headers or bodies.
 */
export const loggingPlugin: Plugin<{ logger: Logger }> = {
  name: 'pontis-logging',
  async register(server, { logger }) {
    await server.register({
      plugin: hapiPino,
      options: {
        instance: logger,
        logEvents: false,
        logRequestStart: false,
        logRequestComplete: false,
        logPayload: false,
        logQueryParams: false,
        logPathParams: false,
        getChildBindings: (request: Request) => ({ requestId: requestIdOf(request) }),
      },
    });
    server.events.on('response', (request: Request) => {
      const response = request.response;
      const statusCode = Boom.isBoom(response) ? response.output.statusCode : response.statusCode;
      const line = {
        requestId: requestIdOf(request),
        method: request.method.toUpperCase(),
        route: request.route.path,
        statusCode,
        ms: Date.now() - request.info.received,
      };
      if (statusCode >= 500) logger.error(line, 'request failed');
      else logger.info(line, 'request');
    });
  },
};
