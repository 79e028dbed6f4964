import Boom from '@hapi/boom';
import type { Plugin, Request } from '@hapi/hapi';
import type { Logger } from 'pino';
import { requestIdOf } from './request-id.js';
import { traceOf } from './tracing.js';

/**
 * Structured request logging that cannot leak patient data or secrets: one line per request
 * with the route pattern (`/fhir/Patient/{id}`), never the path or query that hold ids and
 * identifiers, and never headers, bodies or raw bytes. hapi's own log events are not
 * subscribed to: their error objects carry what the client sent (`rawPacket`, headers).
 */
export const loggingPlugin: Plugin<{ logger: Logger }> = {
  name: 'pontis-logging',
  register(server, { logger }) {
    server.events.on('response', (request: Request) => {
      const response = request.response;
      const statusCode = Boom.isBoom(response) ? response.output.statusCode : response.statusCode;
      const line = {
        requestId: requestIdOf(request),
        // The trace id only (W3C, random hex): it links this line to the peer node's lines of the same trace.
        traceId: traceOf(request).traceId,
        method: request.method.toUpperCase(),
        // hapi's catch-all route for unknown paths: its pattern is a fixed string too.
        route: request.route.path,
        statusCode,
        ms: Date.now() - request.info.received,
      };
      // "Not ready" is the readiness probe's designed answer (seed loading, draining), not a failure.
      const notReady = request.route.path === '/health/ready' && statusCode === 503;
      if (statusCode >= 500 && !notReady) logger.error(line, 'request failed');
      else logger.info(line, 'request');
    });
  },
};
