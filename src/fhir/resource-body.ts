import { fhirError } from './operation-outcome.js';

/**
 * Parses a request body as one FHIR JSON resource of the expected type. Malformed JSON, a body
 * that is not an object, or another resource type are 400s that say what is wrong without
 * echoing the content.
 */
export function parseResourceBody(payload: unknown, expectedType: string): Record<string, unknown> {
  const text = Buffer.isBuffer(payload) ? payload.toString('utf8') : typeof payload === 'string' ? payload : '';
  if (text.trim() === '') {
    throw fhirError(400, { code: 'required', message: `the request body must be a FHIR ${expectedType} in JSON` });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const where = error instanceof SyntaxError ? error.message.replace(/"[^"]*"/g, '…') : 'malformed';
    throw fhirError(400, { code: 'structure', message: `the request body is not valid JSON (${where})` });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw fhirError(400, { code: 'structure', message: `the request body must be a JSON object, a FHIR ${expectedType}` });
  }
  const resourceType = (parsed as Record<string, unknown>)['resourceType'];
  if (resourceType !== expectedType) {
    throw fhirError(400, {
      code: 'invalid',
      expression: 'resourceType',
      message: `this endpoint takes a ${expectedType}, not ${typeof resourceType === 'string' ? resourceType : 'a body without resourceType'}`,
    });
  }
  return parsed as Record<string, unknown>;
}
