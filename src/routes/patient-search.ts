import { parseTokenParameter, systemAndValue } from '../fhir/token-parameter.js';
import type { ServerRoute } from '@hapi/hapi';
import Joi from 'joi';
import { normaliseName } from '../documents/patient-facts.js';
import { serialiseBundle } from '../fhir/bundles.js';
import type { PatientCriteria } from '../repositories/patient-repository.js';
import { accessContextOf } from '../plugins/authentication.js';
import { demographicsOf } from './patient-summary.js';
import type { RouteContext } from './route-context.js';
import { elementsParam, offsetParam, pagingLinks, summaryCountParam, withElements } from './search-paging.js';
import { failAction, querySchema } from './validation.js';

const DEFAULT_COUNT = 20;
const MAX_COUNT = 100;

/** Search parameters of Patient this node supports (also listed in the CapabilityStatement). */
export const PATIENT_SEARCH_PARAMETERS = [
  { name: 'identifier', type: 'token', documentation: 'system|value, |value, value, or system|' },
  { name: 'family', type: 'string', documentation: 'starts with, case- and accent-insensitive' },
  { name: 'given', type: 'string', documentation: 'starts with, case- and accent-insensitive' },
  { name: 'birthdate', type: 'date', documentation: 'YYYY, YYYY-MM or YYYY-MM-DD, optional prefix eq, gt, ge, lt, le' },
  { name: 'gender', type: 'token', documentation: 'male | female | other | unknown' },
] as const;

const searchQuery = querySchema({
  identifier: Joi.string().min(1).max(512).pattern(/^[^|]*\|?[^|]*$/).message('"identifier" must be system|value, |value, value or system|'),
  family: Joi.string().trim().min(1).max(100),
  given: Joi.string().trim().min(1).max(100),
  birthdate: Joi.string().pattern(/^(eq|gt|ge|lt|le)?\d{4}(-\d{2}(-\d{2})?)?$/).message('"birthdate" must be a date such as 1980, 1980-05 or 1980-05-12, optionally prefixed by eq, gt, ge, lt or le'),
  gender: Joi.string().valid('male', 'female', 'other', 'unknown'),
  _count: Joi.number().integer().min(1).max(MAX_COUNT).default(DEFAULT_COUNT),
  _offset: offsetParam(10_000),
  _summary: summaryCountParam,
  _elements: elementsParam,
})
  .or('identifier', 'family', 'given', 'birthdate', 'gender')
  .messages({ 'object.missing': 'give at least one of identifier, family, given, birthdate, gender: this node does not list all its patients' });

function criteriaFrom(query: Record<string, unknown>): PatientCriteria {
  const criteria: PatientCriteria = {};
  const identifier = query['identifier'] as string | undefined;
  if (identifier !== undefined) {
    const token = parseTokenParameter(identifier);
    if (token.form === 'system|value') criteria.identifierKey = identifier;
    else if (token.form === 'system|') {
      if (token.system) criteria.identifierSystem = token.system;
    } else if (token.value) criteria.identifierValue = token.value;
  }
  if (typeof query['family'] === 'string') criteria.familyPrefix = normaliseName(query['family']);
  if (typeof query['given'] === 'string') criteria.givenPrefix = normaliseName(query['given']);
  if (typeof query['gender'] === 'string') criteria.gender = query['gender'];
  const birthdate = query['birthdate'];
  if (typeof birthdate === 'string') {
    const m = /^(eq|gt|ge|lt|le)?(.*)$/.exec(birthdate);
    criteria.birthDate = { op: (m?.[1] as 'eq' | 'gt' | 'ge' | 'lt' | 'le' | undefined) ?? 'eq', value: m?.[2] ?? birthdate };
  }
  return criteria;
}

/** `GET /fhir/Patient?...`: a searchset of patients that have a summary here. */
export function patientSearchRoute(ctx: RouteContext): ServerRoute {
  return {
    method: 'GET',
    path: '/fhir/Patient',
    options: {
      validate: { query: searchQuery, failAction },
      plugins: { pontis: { scope: { resourceType: 'Patient', permission: 's' }, audit: { action: 'E', interaction: 'search-type', resourceType: 'Patient' } } },
    },
    async handler(request, h) {
      const query = request.query as Record<string, unknown>;
      const count = query['_count'] as number;
      const offset = query['_offset'] as number;
      const access = accessContextOf(request);
      const identifier = query['identifier'] as string | undefined;
      const named = identifier === undefined ? undefined : systemAndValue(identifier);
      const home = named ? ctx.crossBorder?.foreignHome(named.system, access) : undefined;
      if (home && named) {
        // Another Member State's patient: identified at their home node, only what confirms identity.
        const patient = await ctx.crossBorder!.minimalPatient(home, named.system, named.value, demographicsOf(query), access);
        const asked = new URLSearchParams({ identifier: identifier! });
        for (const [k, v] of Object.entries(demographicsOf(query))) if (v !== undefined) asked.set(k, v);
        return h.response(
          serialiseBundle(
            'searchset',
            1,
            [{ relation: 'self', url: `${ctx.config.baseUrl}/Patient?${asked.toString()}` }],
            [{ fullUrl: `${home.baseUrl}/Patient/${String(patient['id'])}`, resource: JSON.stringify(patient), extra: { search: { mode: 'match' } } }],
          ),
        );
      }
      const { total, patients } = await ctx.patients.search(criteriaFrom(query), offset, count, access);
      const params = new URLSearchParams();
      for (const p of PATIENT_SEARCH_PARAMETERS) {
        const v = query[p.name];
        if (typeof v === 'string') params.set(p.name, v);
      }
      if (typeof query['_elements'] === 'string') params.set('_elements', query['_elements']);
      params.set('_count', String(count));
      if (query['_summary'] === 'count') {
        params.delete('_count');
        params.set('_summary', 'count');
        return h.response(serialiseBundle('searchset', total, [{ relation: 'self', url: `${ctx.config.baseUrl}/Patient?${params.toString()}` }], []));
      }
      const page = (at: number): string => `${ctx.config.baseUrl}/Patient?${params.toString()}&_offset=${at}`;
      const links = pagingLinks(page, offset, count, patients.length, total);
      const body = serialiseBundle(
        'searchset',
        total,
        links,
        patients.map((p) => ({ fullUrl: `${ctx.config.baseUrl}/Patient/${p._id}`, resource: withElements(p.json, query['_elements'] as string | undefined), extra: { search: { mode: 'match' } } })),
      );
      return h.response(body);
    },
  };
}
