/**
 * What the validator knows of a value before validating it: nothing. Documents arrive as parsed
 * JSON (`unknown`); a member is read only after `isObject` has said the value is a JSON object.
 * This is the one place that shape is named: it is not a FHIR type, since the point of
 * validation is that the document may not be one yet.
 */

/** A JSON object as parsed, before anything is known of its members. */
export type JsonObject = { [member: string]: unknown };

/** Whether a parsed JSON value is an object (not null, not an array). */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether an object has no members (ele-1 fails: every element has a value or children). */
export function isEmptyObject(value: JsonObject): boolean {
  for (const _ in value) return false;
  return true;
}

/** `actual` equals `expected` exactly (fixed[x]). */
export function deepEqual(actual: unknown, expected: unknown): boolean {
  if (actual === expected) return true;
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((e, i) => deepEqual(actual[i], e));
  }
  if (isObject(expected)) {
    if (!isObject(actual)) return false;
    const keys = Object.keys(expected);
    return keys.length === Object.keys(actual).length && keys.every((k) => deepEqual(actual[k], expected[k]));
  }
  return false;
}

/** `actual` has at least what `expected` has (pattern[x]): arrays match element-wise by inclusion. */
export function matchesPattern(actual: unknown, expected: unknown): boolean {
  if (Array.isArray(expected)) {
    const items = Array.isArray(actual) ? actual : [actual];
    return expected.every((e) => items.some((a) => matchesPattern(a, e)));
  }
  if (isObject(expected)) {
    if (!isObject(actual)) return false;
    for (const k in expected) if (!matchesPattern(actual[k], expected[k])) return false;
    return true;
  }
  return actual === expected;
}

const companionKeys = new Map<string, string>();

/** `_name`, the member holding a primitive's id and extensions, built once per name. */
export function companionKey(name: string): string {
  let key = companionKeys.get(name);
  if (key === undefined) {
    key = `_${name}`;
    companionKeys.set(name, key);
  }
  return key;
}
