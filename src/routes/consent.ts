import type { ResponseToolkit, ServerRoute } from '@hapi/hapi';
import Joi from 'joi';
import { serialiseBundle } from '../fhir/bundles.js';
import { headerOf } from '../fhir/headers.js';
import { fhirError, operationOutcome } from '../fhir/operation-outcome.js';
import { parseResourceBody } from '../fhir/resource-body.js';
import { accessContextOf, type PontisRouteSettings } from '../plugins/authentication.js';
import type { ConsentRecord } from '../repositories/consent-repository.js';
import { preferredReturn } from './bundle-create.js';
import type { RouteContext } from './route-context.js';
import { expectedVersion, failAction, fhirId, fhirJsonPayload, querySchema } from './validation.js';

function settings(permission: 'c' | 'r' | 'u' | 's', action: 'C' | 'R' | 'U' | 'E', interaction: 'create' | 'update' | 'read' | 'search-type'): PontisRouteSettings {
  return { scope: { resourceType: 'Consent', permission }, audit: { action, interaction, resourceType: 'Consent' } };
}

/** `POST /fhir/Consent`, `PUT /fhir/Consent/{id}`, `GET /fhir/Consent/{id}`, `GET /fhir/Consent?patient=`. */
export function consentRoutes(ctx: RouteContext): ServerRoute[] {
  const answer = (h: ResponseToolkit, record: ConsentRecord, status = 200) =>
    h
      .response(Buffer.from(record.json, 'utf8'))
      .code(status)
      .etag(String(record.versionId), { weak: true, vary: false })
      .header('Last-Modified', record.lastUpdated.toUTCString());
  return [
    {
      method: 'POST',
      path: '/fhir/Consent',
      options: { payload: fhirJsonPayload(ctx.config.maxPayloadBytes), validate: { query: querySchema({}), failAction }, plugins: { pontis: settings('c', 'C', 'create') } },
      async handler(request, h) {
        const { record, notes } = await ctx.consents.create(parseResourceBody(request.payload, 'Consent'), accessContextOf(request));
        const wanted = preferredReturn(headerOf(request, 'prefer'));
        const response = wanted === 'representation' ? answer(h, record, 201) : h.response(wanted === 'minimal' ? undefined : operationOutcome(notes)).code(201);
        return response.header('Location', `${ctx.config.baseUrl}/Consent/${record._id}/_history/${record.versionId}`);
      },
    },
    {
      method: 'PUT',
      path: '/fhir/Consent/{id}',
      options: {
        payload: fhirJsonPayload(ctx.config.maxPayloadBytes),
        validate: { params: Joi.object({ id: fhirId.required() }), query: querySchema({}), failAction },
        plugins: { pontis: settings('u', 'U', 'update') },
      },
      async handler(request, h) {
        const id = request.params['id'] as string;
        const expected = expectedVersion(request);
        const consent = parseResourceBody(request.payload, 'Consent');
        if (consent['id'] !== id) throw fhirError(400, { code: 'invalid', expression: 'Consent.id', message: 'Consent.id must equal the id in the URL' });
        const { record } = await ctx.consents.replace(id, expected, consent, accessContextOf(request));
        return answer(h, record);
      },
    },
    {
      method: 'GET',
      path: '/fhir/Consent/{id}',
      options: { validate: { params: Joi.object({ id: fhirId.required() }), query: querySchema({}), failAction }, plugins: { pontis: settings('r', 'R', 'read') } },
      async handler(request, h) {
        return answer(h, await ctx.consents.read(request.params['id'] as string, accessContextOf(request)));
      },
    },
    {
      method: 'GET',
      path: '/fhir/Consent',
      options: {
        validate: {
          query: querySchema({ patient: Joi.string().pattern(/^(Patient\/)?[A-Za-z0-9\-.]{1,64}$/).message('"patient" must be a Patient id or Patient/<id>').required() }),
          failAction,
        },
        plugins: { pontis: settings('s', 'E', 'search-type') },
      },
      async handler(request, h) {
        const patientId = (request.query['patient'] as string).replace(/^Patient\//, '');
        const found = await ctx.consents.forPatient(patientId, accessContextOf(request));
        return h.response(
          serialiseBundle(
            'searchset',
            found.length,
            [{ relation: 'self', url: `${ctx.config.baseUrl}/Consent?patient=${encodeURIComponent(patientId)}` }],
            found.map((r) => ({ fullUrl: `${ctx.config.baseUrl}/Consent/${r._id}`, resource: r.json, extra: { search: { mode: 'match' } } })),
          ),
        );
      },
    },
  ];
}
