import type { ServerRoute } from '@hapi/hapi';
import Joi from 'joi';
import { serialiseBundle } from '../fhir/bundles.js';
import { accessContextOf, type PontisRouteSettings } from '../plugins/authentication.js';
import type { RouteContext } from './route-context.js';
import { summaryEntityTagOf, summaryResponse } from './responses.js';
import { failAction, fhirId, querySchema } from './validation.js';

function readSettings(interaction: 'read' | 'vread' | 'history-instance'): PontisRouteSettings {
  return { scope: { resourceType: 'Bundle', permission: 'r' }, audit: { action: 'R', interaction, resourceType: 'Bundle' } };
}

/** `GET /fhir/Bundle/{id}`, its `_history` and `_history/{vid}`. */
export function bundleReadRoutes(ctx: RouteContext): ServerRoute[] {
  return [
    {
      method: 'GET',
      path: '/fhir/Bundle/{id}',
      options: { validate: { params: Joi.object({ id: fhirId.required() }), query: querySchema({}), failAction }, plugins: { pontis: readSettings('read') } },
      async handler(request, h) {
        return summaryResponse(h, await ctx.summaries.read(request.params['id'] as string, accessContextOf(request)));
      },
    },
    {
      method: 'GET',
      path: '/fhir/Bundle/{id}/_history/{vid}',
      options: {
        validate: {
          params: Joi.object({ id: fhirId.required(), vid: Joi.number().integer().min(1).max(1e9).required() }),
          query: querySchema({}),
          failAction,
        },
        plugins: { pontis: readSettings('vread') },
      },
      async handler(request, h) {
        return summaryResponse(h, await ctx.summaries.readVersion(request.params['id'] as string, request.params['vid'] as number, accessContextOf(request)));
      },
    },
    {
      method: 'GET',
      path: '/fhir/Bundle/{id}/_history',
      options: { validate: { params: Joi.object({ id: fhirId.required() }), query: querySchema({}), failAction }, plugins: { pontis: readSettings('history-instance') } },
      async handler(request, h) {
        const id = request.params['id'] as string;
        const versions = await ctx.summaries.history(id, accessContextOf(request));
        const body = serialiseBundle(
          'history',
          versions.length,
          [{ relation: 'self', url: `${ctx.config.baseUrl}/Bundle/${id}/_history` }],
          versions.map((v) => ({
            fullUrl: `${ctx.config.baseUrl}/Bundle/${id}`,
            resource: v.bytes,
            extra: {
              request: { method: v.versionId === 1 ? 'POST' : 'PUT', url: v.versionId === 1 ? 'Bundle' : `Bundle/${id}` },
              response: {
                status: v.versionId === 1 ? '201 Created' : '200 OK',
                etag: `W/"${summaryEntityTagOf(v)}"`,
                lastModified: v.lastUpdated.toISOString(),
              },
            },
          })),
        );
        return h.response(body);
      },
    },
  ];
}
