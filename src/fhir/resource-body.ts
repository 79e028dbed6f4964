import { fhirError } from './operation-outcome.js';

/** Deeper than any FHIR resource nests (about 20 levels in practice); bounds recursive walks. */
export const MAX_NESTING = 100;

/** Depth of the deepest value in parsed JSON, counted without recursion. */
function depthExceeds(root: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (depth > max) return true;
    if (value !== null && typeof value === 'object') {
      for (const child of Object.values(value)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}

/**
 * Parses a request body as one FHIR JSON resource of the expected type. Malformed JSON, a body
 * that is not an object, or another resource type are 400s that say what is wrong without
 * echoing the content.
 */
export function parseResourceBody(payload: unknown, expectedType: string, alsoAccepted: readonly string[] = []): Record<string, unknown> {
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
  if (depthExceeds(parsed, MAX_NESTING)) {
    throw fhirError(400, { code: 'too-costly', message: `the request body nests deeper than ${MAX_NESTING} levels` });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw fhirError(400, { code: 'structure', message: `the request body must be a JSON object, a FHIR ${expectedType}` });
  }
  const resourceType = (parsed as Record<string, unknown>)['resourceType'];
  if (resourceType !== expectedType && !alsoAccepted.includes(String(resourceType))) {
    throw fhirError(400, {
      code: 'invalid',
      expression: 'resourceType',
      message: `this endpoint takes a ${expectedType}, not ${typeof resourceType === 'string' ? resourceType : 'a body without resourceType'}`,
    });
  }
  return parsed as Record<string, unknown>;
}
