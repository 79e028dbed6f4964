/**
 * Parsed JSON read safely by the validator: documents arrive as `unknown`, and a member is read
 * only after `isJsonObject` (fhir/resources.ts, the one guard) has said the value is a JSON
 * object. Not FHIR types, since the point of validation is that the document may not be one yet.
 */
import { isJsonObject } from '../fhir/resources.js';

/** `actual` equals `expected` exactly (fixed[x]). */
export function deepEqual(actual: unknown, expected: unknown): boolean {
  if (actual === expected) return true;
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((e, i) => deepEqual(actual[i], e));
  }
  if (isJsonObject(expected)) {
    if (!isJsonObject(actual)) return false;
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
  if (isJsonObject(expected)) {
    if (!isJsonObject(actual)) return false;
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
