import type { ServerRoute } from '@hapi/hapi';
import Joi from 'joi';
import { accessContextOf } from '../plugins/authentication.js';
import type { RouteContext } from './route-context.js';
import { failAction, fhirId, querySchema } from './validation.js';

/** `GET /fhir/Patient/{id}`: the Patient as given in the patient's current summary. */
export function patientReadRoute(ctx: RouteContext): ServerRoute {
  return {
    method: 'GET',
    path: '/fhir/Patient/{id}',
    options: {
      validate: { params: Joi.object({ id: fhirId.required() }), query: querySchema({}), failAction },
      plugins: { pontis: { scope: { resourceType: 'Patient', permission: 'r' }, audit: { action: 'R', interaction: 'read', resourceType: 'Patient' } } },
    },
    async handler(request, h) {
      const patient = await ctx.patients.read(request.params['id'] as string, accessContextOf(request));
      return h.response(Buffer.from(patient.json, 'utf8')).header('Last-Modified', patient.lastUpdated.toUTCString());
    },
  };
}
