import { randomUUID } from 'node:crypto';
import Boom from '@hapi/boom';
import type { Plugin } from '@hapi/hapi';
import type { OperationOutcome } from 'fhir/r4.js';
import type { Logger } from 'pino';
import { accessOf } from '../access/access-context.js';
import { auditEventOf } from '../audit/audit-event.js';
import type { AuditTrail } from '../audit/audit-trail.js';
import { operationOutcome } from '../fhir/operation-outcome.js';
import { loggableError } from '../logger.js';
import { requestIdOf } from './request-id.js';

/**
 * Writes one audit record for every request to a route that touches patient data (routes with
 * `plugins.pontis.audit`), refused ones included, and holds the response until the record is
 * durable. If it cannot be written, the response becomes a 503 and no data leaves.
 * Registered after the operation-outcome plugin: responses are final when it sees them.
 */
export const auditPlugin: Plugin<{ trail: AuditTrail; logger: Logger; country: string; baseUrl: string }> = {
  name: 'pontis-audit',
  register(server, { trail, logger, country, baseUrl }) {
    // As hapi refuses a route with bad options: a route that forgot to say whether it touches
    // patient data would silently never be audited.
    server.ext('onPreStart', () => {
      const undeclared = server
        .table()
        .filter((route) => route.path.startsWith('/fhir') && (route.settings.auth as unknown) !== false && route.settings.plugins?.pontis?.audit === undefined)
        .map((route) => `${route.method.toUpperCase()} ${route.path}`);
      if (undeclared.length > 0) {
        throw new Error(`routes must declare plugins.pontis.audit (what they audit, or false when they serve no patient data): ${undeclared.join(', ')}`);
      }
    });
    server.ext('onPreResponse', async (request, h) => {
      const settings = request.route.settings.plugins?.pontis?.audit;
      if (!settings) return h.continue;
      const response = request.response;
      const status = Boom.isBoom(response) ? response.output.statusCode : response.statusCode;
      let outcomeMessage: string | undefined;
      if (!Boom.isBoom(response) && status >= 400) {
        const source = response.source as OperationOutcome | undefined;
        outcomeMessage = source?.issue?.[0]?.diagnostics;
      }
      const requestId = requestIdOf(request);
      const access = accessOf(request, requestId);
      const event = auditEventOf(
        { access, interaction: settings.interaction, action: settings.action, resourceType: settings.resourceType, status, nodeCountry: country, nodeBaseUrl: baseUrl, ...(outcomeMessage ? { outcomeMessage } : {}) },
        randomUUID(),
        new Date(),
      );
      try {
        await trail.record({ event, patientIds: [...access.patients], breakGlass: access.decision?.breakGlass === true && access.decision.outcome === 'permit' });
      } catch (error) {
        logger.error({ requestId, err: loggableError(error) }, 'audit record could not be written; response withheld');
        return h
          .response(operationOutcome([{ code: 'transient', message: 'the request could not be audited, so nothing is released; retry later' }]))
          .code(503)
          .type('application/fhir+json')
          .header('Retry-After', '5')
          .header('X-Request-Id', requestId)
          .takeover();
      }
      return h.continue;
    });
  },
};
