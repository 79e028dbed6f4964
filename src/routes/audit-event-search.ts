import type { ServerRoute } from '@hapi/hapi';
import Joi from 'joi';
import { serialiseBundle } from '../fhir/bundles.js';
import { fhirError } from '../fhir/operation-outcome.js';
import { isResourceOf } from '../fhir/resources.js';
import { accessContextOf } from '../plugins/authentication.js';
import type { RouteContext } from './route-context.js';
import { elementsParam, offsetParam, pagingLinks, summaryCountParam, withElements } from './search-paging.js';
import { failAction, querySchema } from './validation.js';

const patientParam = Joi.string()
  .pattern(/^(Patient\/)?[A-Za-z0-9\-.]{1,64}$/)
  .message('"patient" must be a Patient id or Patient/<id>')
  .required();

/** `date=le<instant>`: records up to that time only (what the page links carry). */
const recordedUntil = Joi.string()
  .pattern(/^le\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/)
  .message('"date" must be le followed by a UTC instant such as le2026-01-02T10:00:00.000Z');

/** Most records on one page of the access log. */
export const MAX_AUDIT_PAGE = 500;

/** The id of a stored AuditEvent, from its bytes. */
function idOf(json: string): string | undefined {
  const event: unknown = JSON.parse(json);
  return isResourceOf(event, 'AuditEvent') ? event.id : undefined;
}

/**
 * `GET /fhir/AuditEvent?patient=<id>[&_count][&_offset][&_summary=count]`: the patient's access
 * log, newest first, a page at a time with its total and next/previous links. Break-glass
 * accesses carry the `break-glass` tag in `meta.tag`.
 */
export function auditEventSearchRoute(ctx: RouteContext): ServerRoute {
  return {
    method: 'GET',
    path: '/fhir/AuditEvent',
    options: {
      validate: {
        query: querySchema({
          patient: patientParam,
          date: recordedUntil,
          _count: Joi.number().integer().min(1).max(MAX_AUDIT_PAGE).default(100),
          _offset: offsetParam(10_000_000),
          _summary: summaryCountParam,
          _elements: elementsParam,
        }),
        failAction,
      },
      plugins: { pontis: { scope: { resourceType: 'AuditEvent', permission: 's' }, audit: { action: 'E', interaction: 'search-type', resourceType: 'AuditEvent' } } },
    },
    async handler(request, h) {
      const patientId = (request.query['patient'] as string).replace(/^Patient\//, '');
      const count = request.query['_count'] as number;
      const offset = request.query['_offset'] as number;
      const onlyCount = request.query['_summary'] === 'count';
      const access = accessContextOf(request);
      const given = request.query['date'] as string | undefined;
      const untilMs = given === undefined ? undefined : Date.parse(given.slice(2));
      if (Number.isNaN(untilMs)) throw fhirError(400, { code: 'invalid', expression: 'date', message: '"date" is not a valid instant' });
      const { total, records } = await ctx.accessLog.page(patientId, { offset, count: onlyCount ? 0 : count, untilMs }, access);
      // Pages after this one end where this one began, so that what is recorded meanwhile (this
      // very search included) does not shift them.
      const until = given ?? `le${access.at.toISOString()}`;
      const elements = request.query['_elements'] as string | undefined;
      const subset = elements ? `&_elements=${elements}` : '';
      const pageUrl = (at: number) =>
        `${ctx.config.baseUrl}/AuditEvent?patient=${encodeURIComponent(patientId)}${onlyCount ? '&_summary=count' : `&date=${until}${subset}&_count=${count}&_offset=${at}`}`;
      const selfUrl = `${ctx.config.baseUrl}/AuditEvent?patient=${encodeURIComponent(patientId)}${given ? `&date=${given}` : ''}${onlyCount ? '&_summary=count' : `${subset}&_count=${count}&_offset=${offset}`}`;
      return h.response(
        serialiseBundle(
          'searchset',
          total,
          [{ relation: 'self', url: selfUrl }, ...(onlyCount ? [] : pagingLinks(pageUrl, offset, count, records.length, total).slice(1))],
          records.map((r) => ({
            fullUrl: `${ctx.config.baseUrl}/AuditEvent/${idOf(r.json)}`,
            resource: withElements(r.json, elements),
            extra: { search: { mode: 'match' } },
          })),
        ),
      );
    },
  };
}
