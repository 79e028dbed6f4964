import { isUtf8 } from 'node:buffer';
import Bourne from '@hapi/bourne';
import { fhirError } from './operation-outcome.js';
import { isJsonObject, isResourceOf, type ResourceAsWritten } from './resources.js';

/** Deeper than any FHIR resource nests (about 20 levels in practice); bounds recursive walks. */
export const MAX_NESTING = 100;

/**
 * Whether parsed JSON nests deeper than `max` (the root at depth 1). Recursive, but never more
 * than `max` calls deep: it stops where the limit is passed. No arrays of pending values are
 * built: this runs on every pushed document, a few thousand values each.
 */
function depthExceeds(value: unknown, max: number): boolean {
  return max < 1 || nestsBelow(value, max - 1);
}

/** Whether some member or item of `value` (an object or array, or a scalar) sits deeper than `room` more levels. */
function nestsBelow(value: unknown, room: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (item !== null && typeof item === 'object' && (room === 0 || nestsBelow(item, room - 1))) return true;
    }
    return false;
  }
  const object = value as Record<string, unknown>;
  // for..in: parsed JSON has no inherited enumerable members.
  for (const key in object) {
    const child = object[key];
    if (child !== null && typeof child === 'object' && (room === 0 || nestsBelow(child, room - 1))) return true;
  }
  return false;
}

/** The cheap test before a prototype-poisoning scan: `"__proto__"`, or any escape that could spell it (also the first test for a lone surrogate). */
const ESCAPE = '\\u';

/** A UTF-16 surrogate without its other half: not a Unicode character, so not a FHIR string. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** JSON text can only carry a surrogate as a `\uD8xx`-`\uDFxx` escape: the cheap test before a walk. */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/** FHIRPath of the first string (or member name) in `root` that is not well-formed Unicode. */
function illFormedString(root: unknown, path: string): string | undefined {
  const stack: [unknown, string][] = [[root, path]];
  while (stack.length > 0) {
    const [value, at] = stack.pop()!;
    if (typeof value === 'string') {
      if (LONE_SURROGATE.test(value)) return at;
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push([value[i], `${at}[${i}]`]);
    } else if (value !== null && typeof value === 'object') {
      const entries = Object.entries(value);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i]!;
        if (LONE_SURROGATE.test(key)) return at;
        stack.push([child, `${at}.${key}`]);
      }
    }
  }
  return undefined;
}

/**
 * The text of a body {@link parseResourceBody} accepted (its bytes are UTF-8), for work that
 * starts from the text: a pushed document is validated and hashed on a worker thread from it.
 */
export function bodyText(payload: unknown): string {
  return Buffer.isBuffer(payload) ? payload.toString('utf8') : typeof payload === 'string' ? payload : '';
}

/**
 * Parses a request body as one FHIR JSON resource of the expected type. Malformed JSON, a body
 * that is not an object, or another resource type are 400s that say what is wrong without
 * echoing the content. This is where a request body becomes a FHIR type: its resource type is
 * checked here, its elements by the profile validator later (see {@link isResourceOf}); until
 * then it is typed as written, every member it was sent with included.
 */
export function parseResourceBody<T extends string, A extends string = never>(payload: unknown, expectedType: T, alsoAccepted: readonly A[] = []): ResourceAsWritten<T | A> {
  return parseResourceText(utf8BodyText(payload), expectedType, alsoAccepted);
}

/**
 * The text of a request body whose bytes must be UTF-8 (a 400 otherwise): the first check of
 * {@link parseResourceBody}, for work that parses the text elsewhere (a validation worker) with
 * {@link parseResourceText}.
 */
export function utf8BodyText(payload: unknown): string {
  // Bytes that are not UTF-8 would be replaced by U+FFFD, silently changing the document.
  if (Buffer.isBuffer(payload) && !isUtf8(payload)) {
    throw fhirError(400, { code: 'structure', message: 'the request body is not valid UTF-8' });
  }
  return Buffer.isBuffer(payload) ? payload.toString('utf8') : typeof payload === 'string' ? payload : '';
}

/**
 * {@link parseResourceBody} of a body's text (see {@link utf8BodyText}): the same checks and
 * 400s, wherever it runs (the event loop, or a validation worker parsing a pushed document).
 */
export function parseResourceText<T extends string, A extends string = never>(text: string, expectedType: T, alsoAccepted: readonly A[] = []): ResourceAsWritten<T | A> {
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
  // No FHIR element is named so; merged into an object, such a member would change its prototype.
  // Two searches for a plain string read the text faster than one regex with an alternative.
  const escapes = text.includes(ESCAPE);
  if (escapes || text.includes('__proto__')) {
    try {
      Bourne.scan(parsed, { protoAction: 'error' });
    } catch {
      throw fhirError(400, { code: 'structure', message: 'the request body holds a "__proto__" member, which no FHIR resource has' });
    }
  }
  if (depthExceeds(parsed, MAX_NESTING)) {
    throw fhirError(400, { code: 'too-costly', message: `the request body nests deeper than ${MAX_NESTING} levels` });
  }
  if (!isJsonObject(parsed)) {
    throw fhirError(400, { code: 'structure', message: `the request body must be a JSON object, a FHIR ${expectedType}` });
  }
  const resourceType = parsed['resourceType'];
  if (escapes && SURROGATE_ESCAPE.test(text)) {
    const at = illFormedString(parsed, typeof resourceType === 'string' && /^[A-Z][A-Za-z]{0,63}$/.test(resourceType) ? resourceType : expectedType);
    if (at !== undefined) throw fhirError(400, { code: 'invalid', expression: at, message: 'strings must be well-formed Unicode: this one holds a lone surrogate (\\uD800-\\uDFFF)' });
  }
  if (!isResourceOf<T | A>(parsed, expectedType, ...alsoAccepted)) {
    throw fhirError(400, {
      code: 'invalid',
      expression: 'resourceType',
      message: `this endpoint takes a ${expectedType}, not ${typeof resourceType === 'string' ? resourceType : 'a body without resourceType'}`,
    });
  }
  return parsed;
}
