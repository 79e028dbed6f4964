import type { Request, ResponseToolkit } from '@hapi/hapi';
import Joi from 'joi';
import { ACCEPTED_CONTENT_TYPES } from '../fhir/media-types.js';
import { headerOf } from '../fhir/headers.js';
import { fhirError } from '../fhir/operation-outcome.js';

/** A FHIR resource id. */
export const fhirId = Joi.string().pattern(/^[A-Za-z0-9\-.]{1,64}$/).message('{{#label}} must be a FHIR id (1-64 letters, digits, "-" or ".")');

/** Parameters every FHIR interaction accepts. */
export const commonQuery = {
  _format: Joi.string().max(64),
  _pretty: Joi.boolean(),
};

/** A query schema: only the listed parameters, each given once. */
export function querySchema(keys: Record<string, Joi.Schema>): Joi.ObjectSchema {
  return Joi.object({ ...commonQuery, ...keys }).prefs({ convert: true });
}

/**
 * Turns joi's refusal of a query or path parameter into a 400 OperationOutcome naming each
 * parameter. Unknown, repeated or operator-like parameters (`identifier[$ne]`) end here, so
 * they never reach the database.
 */
export function failAction(_request: Request, _h: ResponseToolkit, error?: Error): never {
  const details = error instanceof Joi.ValidationError ? error.details : [];
  const problems = details.map((d) => ({
    code: d.type === 'object.unknown' ? ('not-supported' as const) : ('invalid' as const),
    // A rule over the whole query (at least one criterion) names no parameter: no expression (ele-1).
    ...(d.path.map(String).join('.') === '' ? {} : { expression: d.path.map(String).join('.') }),
    message: d.type === 'object.unknown' ? `unknown parameter ${JSON.stringify(d.path.map(String).join('.'))}` : d.message,
  }));
  throw fhirError(400, problems.length > 0 ? problems : [{ code: 'invalid', message: 'invalid request parameters' }]);
}

/** Payload options of routes that take a FHIR JSON body: raw bytes, parsed by parseResourceBody. */
export function fhirJsonPayload(maxBytes: number): { parse: false; output: 'data'; maxBytes: number; allow: string[] } {
  return { parse: false, output: 'data', maxBytes, allow: ACCEPTED_CONTENT_TYPES };
}

/**
 * The version an update expects, from `If-Match`: 428 when the header is missing (updates use
 * optimistic locking), 400 when it is not a version ETag.
 */
export function expectedVersion(request: Request): number {
  const ifMatch = headerOf(request, 'if-match');
  if (ifMatch === undefined) {
    throw fhirError(428, { code: 'required', message: 'updates need If-Match with the version read last, e.g. If-Match: W/"1"' });
  }
  const expected = parseVersionTag(ifMatch);
  if (expected === undefined) throw fhirError(400, { code: 'invalid', message: 'If-Match must be a version ETag such as W/"1"' });
  return expected;
}

/** Parses a version ETag (`W/"3"` or `"3"`); undefined when the header is not one. */
export function parseVersionTag(tag: string): number | undefined {
  const m = /^(?:W\/)?"(\d{1,9})"$/.exec(tag.trim());
  return m ? Number(m[1]) : undefined;
}
