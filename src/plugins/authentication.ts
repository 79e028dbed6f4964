import Boom from '@hapi/boom';
import type { Plugin, Request, ResponseObject, ResponseToolkit } from '@hapi/hapi';
import type { Logger } from 'pino';
import { accessOf, type AccessContext } from '../access/access-context.js';
import type { Requester } from '../auth/requester.js';
import { allows, type Permission } from '../auth/scopes.js';
import { TokenRefused, writeClaimOf, type TokenVerifier } from '../auth/token-verifier.js';
import { fhirError } from '../fhir/operation-outcome.js';
import { outcomeAnswer } from './operation-outcome.js';
import { requestIdOf } from './request-id.js';

/** What the audit record of a patient-data route says it did (IHE BALP). */
export interface AuditDeclaration {
  action: 'C' | 'R' | 'U' | 'E';
  interaction: 'create' | 'update' | 'read' | 'vread' | 'history-instance' | 'search-type' | 'operation';
  resourceType: string;
}

/** What a route needs of its caller and tells the audit trail (set in `options.plugins.pontis`). */
export interface PontisRouteSettings {
  /** The SMART v2 permission the route needs on a resource type. */
  scope?: { resourceType: string; permission: Permission };
  /**
   * Whether the route touches patient data. Every authenticated FHIR route must say (the audit
   * plugin refuses to start otherwise): a declaration, and every request to it gets an audit
   * record; or `false`, for routes that serve no patient data (validation of a posted resource,
   * the audit witness).
   */
  audit?: AuditDeclaration | false;
  /**
   * A write token's single use is claimed by the handler ({@link writeClaimOf}) and awaited by it
   * ({@link settleWriteClaim}), not before the handler runs: `POST /fhir/Bundle`, whose claim goes
   * to the store in one insert with the identifier's claim. A replay is still refused (401) before
   * anything it must not change is written, and before any answer: a request refused before its
   * handler (scope, 406, 429, 507, a bad parameter) claims the token when it is answered, and a
   * replay's refusal becomes the replay's 401 ({@link answerOnceClaimed}).
   */
  claimsTokenItself?: boolean;
}

declare module '@hapi/hapi' {
  interface PluginSpecificConfiguration {
    pontis?: PontisRouteSettings;
  }
  interface AuthCredentials {
    requester?: Requester;
  }
}

/**
 * A 401 with an RFC 6750 challenge. The reason goes into the OperationOutcome only: a header
 * carries just the error code, since reasons may quote the token (a non-ASCII `alg` made hapi's
 * header writer throw, a 500) and headers are no place for them.
 */
function unauthorized(message: string, error?: 'invalid_token' | 'invalid_request'): Boom.Boom {
  const refusal = fhirError(401, { code: 'login', message });
  refusal.output.headers['WWW-Authenticate'] = error ? `Bearer error="${error}"` : 'Bearer';
  return refusal;
}

/**
 * Waits for the requester's write-token claim where its route claims the token itself
 * (`claimsTokenItself`): a replay becomes the same 401 as when the claim is made up front.
 */
export async function settleWriteClaim(requester: Requester): Promise<void> {
  try {
    await writeClaimOf(requester);
  } catch (error) {
    if (error instanceof TokenRefused) throw unauthorized(error.message, 'invalid_token');
    throw error;
  }
}

/**
 * What a request whose write-token claim is under way answers once the claim has settled: its own
 * response when the token was not used before; the replay's 401 (the OperationOutcome and
 * challenge of a replay refused anywhere else) when it was, in place of whatever the request was
 * refused with before its handler, since a replayed token proves nothing about its bearer and a
 * 403, 406, 429, 507 or 400 would tell that the token was once good and what it grants; and when
 * the claim itself failed (the store), the 500 the handler's own wait would have given.
 */
async function answerOnceClaimed(claim: Promise<void>, request: Request, h: ResponseToolkit, logger: Logger): Promise<ResponseObject | symbol> {
  try {
    // Settled already when the handler awaited it (every answer it gives): one microtask; sent
    // now when the request was refused before its handler.
    await claim;
    return h.continue;
  } catch (error) {
    // Answered here, as the operation-outcome step would (a thrown error would skip the audit).
    const refusal = error instanceof TokenRefused ? unauthorized(error.message, 'invalid_token') : Boom.boomify(error instanceof Error ? error : new Error(String(error)));
    return outcomeAnswer(request, h, refusal, logger);
  }
}

/** The access context of an authenticated request (routes behind the default strategy). */
export function accessContextOf(request: Request): AccessContext & { requester: Requester } {
  const access = accessOf(request, requestIdOf(request));
  if (!access.requester) throw new Error('route reached without an authenticated requester');
  return access as AccessContext & { requester: Requester };
}

/**
 * Bearer authentication of every route (except those with `auth: false`): an IHE IUA token
 * verified against the trust list; then the route's scope. Failures are 401 (with
 * `WWW-Authenticate`) or 403, as OperationOutcomes.
 */
export const authenticationPlugin: Plugin<{ verifier: TokenVerifier; logger: Logger }> = {
  name: 'pontis-authentication',
  register(server, { verifier, logger }) {
    server.auth.scheme('pontis-iua', () => ({
      async authenticate(request, h) {
        const access = accessOf(request, requestIdOf(request));
        const header = request.headers['authorization'];
        const m = typeof header === 'string' ? /^Bearer ([A-Za-z0-9._~+/=-]+)$/i.exec(header.trim()) : null;
        if (!m) {
          throw header === undefined
            ? unauthorized('a Bearer token is required (Authorization: Bearer <JWT>)')
            : unauthorized('the Authorization header must be "Bearer <JWT>"', 'invalid_request');
        }
        let requester: Requester;
        try {
          requester = await verifier.verify(m[1]!, { deferWriteClaim: request.route.settings.plugins?.pontis?.claimsTokenItself === true });
        } catch (error) {
          if (!(error instanceof TokenRefused)) throw error;
          if (error.status === 403) throw fhirError(403, { code: 'forbidden', message: error.message });
          throw unauthorized(error.message, 'invalid_token');
        }
        access.requester = requester;
        return h.authenticated({ credentials: { requester } });
      },
    }));
    server.auth.strategy('iua', 'pontis-iua');
    server.auth.default('iua');

    server.ext('onPostAuth', (request, h) => {
      const needed = request.route.settings.plugins?.pontis?.scope;
      const requester = request.auth.credentials?.requester;
      if (needed && requester && !allows(requester.scopes, needed.resourceType, needed.permission)) {
        throw fhirError(403, {
          code: 'forbidden',
          message: `the token does not grant ${needed.permission} on ${needed.resourceType} (a scope such as system/${needed.resourceType}.${needed.permission} or user/${needed.resourceType}.${needed.permission})`,
        });
      }
      return h.continue;
    });

    // First of every onPreResponse step: the replay's 401 is then given its request id and trace,
    // and audited as what was answered, like any other response. (A response returned here, not
    // thrown: a thrown error would skip the steps after this one.)
    server.ext(
      'onPreResponse',
      (request, h) => {
        const requester = request.auth.credentials?.requester;
        const claim = requester ? writeClaimOf(requester) : undefined;
        return claim ? answerOnceClaimed(claim, request, h, logger) : h.continue;
      },
      { before: ['pontis-operation-outcome', 'pontis-audit'] },
    );
  },
};
