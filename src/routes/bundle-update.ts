import type { ServerRoute } from '@hapi/hapi';
import Joi from 'joi';
import { fhirError, operationOutcome } from '../fhir/operation-outcome.js';
import { bodyText, parseResourceBody } from '../fhir/resource-body.js';
import { preferredReturn } from './bundle-create.js';
import { headerOf } from '../fhir/headers.js';
import { accessContextOf } from '../plugins/authentication.js';
import type { RouteContext } from './route-context.js';
import { ECHO_COMPRESSION, echoResponse } from './responses.js';
import { expectedVersion, failAction, fhirId, fhirJsonPayload, querySchema } from './validation.js';

/**
 * `PUT /fhir/Bundle/{id}`: a new version of a stored document, with optimistic locking:
 * `If-Match` is required (428) and must name the latest version (412).
 */
export function bundleUpdateRoute(ctx: RouteContext): ServerRoute {
  return {
    method: 'PUT',
    path: '/fhir/Bundle/{id}',
    options: {
      payload: fhirJsonPayload(ctx.config.maxPayloadBytes),
      compression: ECHO_COMPRESSION,
      validate: { params: Joi.object({ id: fhirId.required() }), query: querySchema({}), failAction },
      plugins: { pontis: { scope: { resourceType: 'Bundle', permission: 'u' }, audit: { action: 'U', interaction: 'update', resourceType: 'Bundle' } } },
    },
    async handler(request, h) {
      const id = request.params['id'] as string;
      const expected = expectedVersion(request);
      const bundle = parseResourceBody(request.payload, 'Bundle');
      if (bundle['id'] !== id) {
        throw fhirError(400, { code: 'invalid', expression: 'Bundle.id', message: 'Bundle.id must equal the id in the URL' });
      }
      const stored = await ctx.summaries.replace(id, expected, bundle, accessContextOf(request), bodyText(request.payload));
      const wanted = preferredReturn(headerOf(request, 'prefer'));
      const response =
        wanted === 'representation'
          ? await echoResponse(request, h, stored)
          : h.response(wanted === 'minimal' ? undefined : operationOutcome(stored.notes)).etag(String(stored.versionId), { weak: true, vary: false });
      return response.header('Content-Location', `${ctx.config.baseUrl}/Bundle/${id}/_history/${stored.versionId}`);
    },
  };
}
