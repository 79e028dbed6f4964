import { randomUUID } from 'node:crypto';
import Boom from '@hapi/boom';
import type { Plugin } from '@hapi/hapi';
import type { OperationOutcome } from 'fhir/r4.js';
import type { Logger } from 'pino';
import { accessOf } from '../access/access-context.js';
import { auditFactsOf } from '../access/audit-facts.js';
import { auditClaimOf, TOKEN_REPLAYED } from '../auth/token-verifier.js';
import { auditEventOf } from '../audit/audit-event.js';
import type { AuditTrail } from '../audit/audit-trail.js';
import { fhirError, operationOutcome } from '../fhir/operation-outcome.js';
import { loggableError } from '../logger.js';
import { requestIdOf } from './request-id.js';

/**
 * Writes one audit record for every request to a route that touches patient data (routes with
 * `plugins.pontis.audit`), refused ones included, and holds the response until the record is
 * durable. If it cannot be written, the response becomes a 503 and no data leaves.
 * Registered after the operation-outcome plugin: responses are final when it sees them.
 *
 * A token that cannot write is claimed by its request's record (`tokenUse`, unique) rather than
 * up front: when the record is refused because the token was used before (at any instance), the
 * response becomes the 401 of a replayed token, recorded as such. Routes that write no record
 * refuse such tokens (their single use could not be claimed).
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
    server.ext('onPostAuth', (request, h) => {
      const requester = request.auth.credentials?.requester;
      if (request.route.settings.plugins?.pontis?.audit || !requester || auditClaimOf(requester) === undefined) return h.continue;
      throw fhirError(403, {
        code: 'forbidden',
        message: 'this operation needs a token that is claimed before use: a token granting no create, update or delete is good for one audited request only',
      });
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
      // What the gate recorded: this plugin only persists it.
      const facts = auditFactsOf(access);
      const eventOf = (answered: number, message: string | undefined) =>
        auditEventOf(
          { access, facts, interaction: settings.interaction, action: settings.action, resourceType: settings.resourceType, status: answered, nodeCountry: country, nodeBaseUrl: baseUrl, ...(message ? { outcomeMessage: message } : {}) },
          randomUUID(),
          new Date(),
        );
      const entry = { patientIds: [...facts.patients], breakGlass: facts.breakGlass };
      const tokenUse = access.requester ? auditClaimOf(access.requester) : undefined;
      try {
        const outcome = await trail.record({ event: eventOf(status, outcomeMessage), ...entry, ...(tokenUse === undefined ? {} : { tokenUse }) });
        if (outcome === 'token-replayed') {
          // Nothing leaves: the answer is the replayed token's 401, and that is what is recorded.
          await trail.record({ event: eventOf(401, TOKEN_REPLAYED), ...entry });
          return h
            .response(operationOutcome([{ code: 'login', message: TOKEN_REPLAYED }]))
            .code(401)
            .type('application/fhir+json')
            .header('WWW-Authenticate', 'Bearer error="invalid_token"')
            .header('X-Request-Id', requestId)
            .takeover();
        }
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
