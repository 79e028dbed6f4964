import type { ServerRoute } from '@hapi/hapi';
import { operationOutcome } from '../fhir/operation-outcome.js';
import { utf8BodyText } from '../fhir/resource-body.js';
import { headerOf } from '../fhir/headers.js';
import { accessContextOf, settleWriteClaim } from '../plugins/authentication.js';
import type { RouteContext } from './route-context.js';
import { ECHO_COMPRESSION, echoResponse } from './responses.js';
import { failAction, fhirJsonPayload, querySchema } from './validation.js';

/** How much of the stored resource the client wants back (`Prefer: return=`). */
export function preferredReturn(prefer: string | undefined): 'representation' | 'minimal' | 'OperationOutcome' {
  const m = /return=(minimal|representation|OperationOutcome)/.exec(prefer ?? '');
  return (m?.[1] as 'representation' | 'minimal' | 'OperationOutcome' | undefined) ?? 'representation';
}

/**
 * `POST /fhir/Bundle`: store an IPS document. 201 for a new document; 200 with the stored one
 * when the same document (identifier and content) was pushed before, so retries are safe.
 */
export function bundleCreateRoute(ctx: RouteContext): ServerRoute {
  return {
    method: 'POST',
    path: '/fhir/Bundle',
    options: {
      payload: fhirJsonPayload(ctx.config.maxPayloadBytes),
      compression: ECHO_COMPRESSION,
      validate: { query: querySchema({}), failAction },
      plugins: { pontis: { scope: { resourceType: 'Bundle', permission: 'c' }, audit: { action: 'C', interaction: 'create', resourceType: 'Bundle' }, claimsTokenItself: true } },
    },
    async handler(request, h) {
      const access = accessContextOf(request);
      let stored;
      try {
        // Every check from the text: a large document is parsed on a validation worker only.
        stored = await ctx.summaries.pushText(utf8BodyText(request.payload), access);
      } finally {
        // No answer, not even a refusal, before the token is known not to be a replay (then: 401).
        await settleWriteClaim(access.requester);
      }
      const status = stored.created ? 201 : 200;
      const location = `${ctx.config.baseUrl}/Bundle/${stored.record._id}/_history/${stored.versionId}`;
      const wanted = preferredReturn(headerOf(request, 'prefer'));
      const response =
        wanted === 'representation'
          ? await echoResponse(request, h, stored, status)
          : h
              .response(wanted === 'minimal' ? undefined : operationOutcome(stored.notes))
              .code(status)
              .etag(String(stored.versionId), { weak: true, vary: false });
      return response.header('Location', location);
    },
  };
}
