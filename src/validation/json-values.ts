/**
 * Parsed JSON read safely by the validator: documents arrive as `unknown`, and a member is read
 * only after `isJsonObject` (fhir/resources.ts, the one guard) has said the value is a JSON
 * object. Not FHIR types, since the point of validation is that the document may not be one yet.
 */
import { isJsonObject } from '../fhir/resources.js';

/**
 * `actual` equals `expected` exactly (fixed[x]). Loops rather than `every` and `Object.keys`:
 * fixed and pattern values are compared on most elements of a profile, with no arrays to build.
 */
export function deepEqual(actual: unknown, expected: unknown): boolean {
  if (actual === expected) return true;
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return false;
    for (let i = 0; i < expected.length; i++) if (!deepEqual(actual[i], expected[i])) return false;
    return true;
  }
  if (isJsonObject(expected)) {
    if (!isJsonObject(actual)) return false;
    // Parsed JSON has no inherited enumerable members: for..in lists the own ones, as Object.keys does.
    let members = 0;
    for (const k in expected) {
      if (!deepEqual(actual[k], expected[k])) return false;
      members++;
    }
    for (const _ in actual) members--;
    return members === 0;
  }
  return false;
}

/** `actual` has at least what `expected` has (pattern[x]): arrays match element-wise by inclusion. */
export function matchesPattern(actual: unknown, expected: unknown): boolean {
  if (Array.isArray(expected)) {
    for (const e of expected) {
      if (!Array.isArray(actual)) {
        if (!matchesPattern(actual, e)) return false;
        continue;
      }
      let found = false;
      for (const a of actual) {
        if (matchesPattern(a, e)) {
          found = true;
          break;
        }
      }
      if (!found) return false;
    }
    return true;
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
