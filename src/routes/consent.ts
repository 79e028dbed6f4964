import type { ResponseToolkit, ServerRoute } from '@hapi/hapi';
import Joi from 'joi';
import { serialiseBundle } from '../fhir/bundles.js';
import { headerOf } from '../fhir/headers.js';
import { fhirError, operationOutcome } from '../fhir/operation-outcome.js';
import { parseResourceBody } from '../fhir/resource-body.js';
import { accessContextOf, type PontisRouteSettings } from '../plugins/authentication.js';
import type { ConsentVersion } from '../repositories/consent-repository.js';
import { preferredReturn } from './bundle-create.js';
import type { RouteContext } from './route-context.js';
import { elementsParam, offsetParam, pagingLinks, summaryCountParam, withElements } from './search-paging.js';
import { expectedVersion, failAction, fhirId, fhirJsonPayload, querySchema } from './validation.js';

function settings(
  permission: 'c' | 'r' | 'u' | 's',
  action: 'C' | 'R' | 'U' | 'E',
  interaction: 'create' | 'update' | 'read' | 'vread' | 'history-instance' | 'search-type',
): PontisRouteSettings {
  return { scope: { resourceType: 'Consent', permission }, audit: { action, interaction, resourceType: 'Consent' } };
}

/**
 * `POST /fhir/Consent`, `PUT /fhir/Consent/{id}`, `GET /fhir/Consent/{id}[/_history[/{vid}]]`,
 * `GET /fhir/Consent?patient=`.
 */
export function consentRoutes(ctx: RouteContext): ServerRoute[] {
  const answer = (h: ResponseToolkit, consent: ConsentVersion, status = 200) =>
    h
      .response(Buffer.from(consent.json, 'utf8'))
      .code(status)
      .etag(String(consent.versionId), { weak: true, vary: false })
      .header('Last-Modified', consent.lastUpdated.toUTCString());
  const idParam = Joi.object({ id: fhirId.required() });
  return [
    {
      method: 'POST',
      path: '/fhir/Consent',
      options: { payload: fhirJsonPayload(ctx.config.maxPayloadBytes), validate: { query: querySchema({}), failAction }, plugins: { pontis: settings('c', 'C', 'create') } },
      async handler(request, h) {
        const { consent, notes } = await ctx.consents.create(parseResourceBody(request.payload, 'Consent'), accessContextOf(request));
        const wanted = preferredReturn(headerOf(request, 'prefer'));
        const response = wanted === 'representation' ? answer(h, consent, 201) : h.response(wanted === 'minimal' ? undefined : operationOutcome(notes)).code(201);
        return response.header('Location', `${ctx.config.baseUrl}/Consent/${consent.consentId}/_history/${consent.versionId}`);
      },
    },
    {
      method: 'PUT',
      path: '/fhir/Consent/{id}',
      options: {
        payload: fhirJsonPayload(ctx.config.maxPayloadBytes),
        validate: { params: idParam, query: querySchema({}), failAction },
        plugins: { pontis: settings('u', 'U', 'update') },
      },
      async handler(request, h) {
        const id = request.params['id'] as string;
        const expected = expectedVersion(request);
        const consent = parseResourceBody(request.payload, 'Consent');
        if (consent.id !== id) throw fhirError(400, { code: 'invalid', expression: 'Consent.id', message: 'Consent.id must equal the id in the URL' });
        return answer(h, (await ctx.consents.replace(id, expected, consent, accessContextOf(request))).consent);
      },
    },
    {
      method: 'GET',
      path: '/fhir/Consent/{id}',
      options: { validate: { params: idParam, query: querySchema({}), failAction }, plugins: { pontis: settings('r', 'R', 'read') } },
      async handler(request, h) {
        return answer(h, await ctx.consents.read(request.params['id'] as string, accessContextOf(request)));
      },
    },
    {
      method: 'GET',
      path: '/fhir/Consent/{id}/_history/{vid}',
      options: {
        validate: {
          params: Joi.object({ id: fhirId.required(), vid: Joi.number().integer().min(1).max(1e9).required() }),
          query: querySchema({}),
          failAction,
        },
        plugins: { pontis: settings('r', 'R', 'vread') },
      },
      async handler(request, h) {
        return answer(h, await ctx.consents.readVersion(request.params['id'] as string, request.params['vid'] as number, accessContextOf(request)));
      },
    },
    {
      method: 'GET',
      path: '/fhir/Consent/{id}/_history',
      options: { validate: { params: idParam, query: querySchema({}), failAction }, plugins: { pontis: settings('r', 'R', 'history-instance') } },
      async handler(request, h) {
        const id = request.params['id'] as string;
        const versions = await ctx.consents.history(id, accessContextOf(request));
        return h.response(
          serialiseBundle(
            'history',
            versions.length,
            [{ relation: 'self', url: `${ctx.config.baseUrl}/Consent/${id}/_history` }],
            versions.map((v) => ({
              fullUrl: `${ctx.config.baseUrl}/Consent/${id}`,
              resource: v.json,
              extra: {
                request: { method: v.versionId === 1 ? 'POST' : 'PUT', url: v.versionId === 1 ? 'Consent' : `Consent/${id}` },
                response: { status: v.versionId === 1 ? '201 Created' : '200 OK', etag: `W/"${v.versionId}"`, lastModified: v.lastUpdated.toISOString() },
              },
            })),
          ),
        );
      },
    },
    {
      method: 'GET',
      path: '/fhir/Consent',
      options: {
        validate: {
          query: querySchema({
            patient: Joi.string().pattern(/^(Patient\/)?[A-Za-z0-9\-.]{1,64}$/).message('"patient" must be a Patient id or Patient/<id>').required(),
            _count: Joi.number().integer().min(1).max(100).default(20),
            _offset: offsetParam(10_000),
            _summary: summaryCountParam,
            _elements: elementsParam,
          }),
          failAction,
        },
        plugins: { pontis: settings('s', 'E', 'search-type') },
      },
      async handler(request, h) {
        const patientId = (request.query['patient'] as string).replace(/^Patient\//, '');
        const count = request.query['_count'] as number;
        const offset = request.query['_offset'] as number;
        const onlyCount = request.query['_summary'] === 'count';
        const found = await ctx.consents.forPatient(patientId, accessContextOf(request));
        const page = onlyCount ? [] : found.slice(offset, offset + count);
        const elements = request.query['_elements'] as string | undefined;
        const pageUrl = (at: number) =>
          `${ctx.config.baseUrl}/Consent?patient=${encodeURIComponent(patientId)}${onlyCount ? '&_summary=count' : `${elements ? `&_elements=${elements}` : ''}&_count=${count}&_offset=${at}`}`;
        return h.response(
          serialiseBundle(
            'searchset',
            found.length,
            onlyCount ? [{ relation: 'self', url: pageUrl(0) }] : pagingLinks(pageUrl, offset, count, page.length, found.length),
            page.map((c) => ({ fullUrl: `${ctx.config.baseUrl}/Consent/${c.consentId}`, resource: withElements(c.json, elements), extra: { search: { mode: 'match' } } })),
          ),
        );
      },
    },
  ];
}
