import type { ServerRoute } from '@hapi/hapi';
import Joi from 'joi';
import { fhirError } from '../fhir/operation-outcome.js';
import type { RouteContext } from './route-context.js';
import { failAction, fhirId, querySchema } from './validation.js';

/** `GET /fhir/Patient/{id}`: the Patient as given in the patient's current summary. */
export function patientReadRoute(ctx: RouteContext): ServerRoute {
  return {
    method: 'GET',
    path: '/fhir/Patient/{id}',
    options: { validate: { params: Joi.object({ id: fhirId.required() }), query: querySchema({}), failAction } },
    async handler(request, h) {
      const id = request.params['id'] as string;
      const patient = await ctx.patients.findVisible(id);
      if (!patient) throw fhirError(404, { code: 'not-found', message: `Patient/${id} is not known here` });
      return h.response(Buffer.from(patient.json, 'utf8')).header('Last-Modified', patient.lastUpdated.toUTCString());
    },
  };
}
