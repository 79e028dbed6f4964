import type { ServerRoute } from '@hapi/hapi';
import Joi from 'joi';
import { serialiseBundle } from '../fhir/bundles.js';
import { accessContextOf } from '../plugins/authentication.js';
import type { RouteContext } from './route-context.js';
import { failAction, querySchema } from './validation.js';

const patientParam = Joi.string()
  .pattern(/^(Patient\/)?[A-Za-z0-9\-.]{1,64}$/)
  .message('"patient" must be a Patient id or Patient/<id>')
  .required();

/**
 * `GET /fhir/AuditEvent?patient=<id>`: the patient's access log, newest first. Break-glass
 * accesses carry the `break-glass` tag in `meta.tag`.
 */
export function auditEventSearchRoute(ctx: RouteContext): ServerRoute {
  return {
    method: 'GET',
    path: '/fhir/AuditEvent',
    options: {
      validate: { query: querySchema({ patient: patientParam, _count: Joi.number().integer().min(1).max(500).default(100) }), failAction },
      plugins: { pontis: { scope: { resourceType: 'AuditEvent', permission: 's' }, audit: { action: 'E', interaction: 'search-type', resourceType: 'AuditEvent' } } },
    },
    async handler(request, h) {
      const patientId = (request.query['patient'] as string).replace(/^Patient\//, '');
      const count = request.query['_count'] as number;
      const records = await ctx.accessLog.forPatient(patientId, count, accessContextOf(request));
      return h.response(
        serialiseBundle(
          'searchset',
          undefined,
          [{ relation: 'self', url: `${ctx.config.baseUrl}/AuditEvent?patient=${encodeURIComponent(patientId)}&_count=${count}` }],
          records.map((r) => ({
            fullUrl: `${ctx.config.baseUrl}/AuditEvent/${(JSON.parse(r.json) as { id: string }).id}`,
            resource: r.json,
            extra: { search: { mode: 'match' } },
          })),
        ),
      );
    },
  };
}
