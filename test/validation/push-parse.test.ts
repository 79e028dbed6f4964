import { describe, expect, it } from '@jest/globals';
import Boom from '@hapi/boom';
import { problemsOf } from '../../src/fhir/operation-outcome.js';
import { MAX_NESTING, parseResourceText } from '../../src/fhir/resource-body.js';

/** The status and issue code a text gets from parseResourceText, or 'ok'. */
function verdict(text: string): string {
  try {
    parseResourceText(text, 'Bundle');
    return 'ok';
  } catch (error) {
    if (!Boom.isBoom(error)) throw error;
    return `${error.output.statusCode} ${problemsOf(error)?.[0]?.code ?? ''}`;
  }
}

/** A Bundle whose deepest object or array sits at `depth` (the Bundle itself at 1), nested through objects or arrays. */
function nested(depth: number, through: 'object' | 'array'): string {
  let inner = '1';
  for (let d = depth; d > 1; d--) inner = through === 'object' ? `{"a":${inner}}` : `[${inner}]`;
  return `{"resourceType":"Bundle","x":${inner}}`;
}

describe('the checks of a pushed text before validation (parseResourceText)', () => {
  it.each(['object', 'array'] as const)('refuses nesting past %s depth MAX_NESTING and no less', (through) => {
    // Objects and arrays count as levels; the scalar at the bottom does not.
    expect(verdict(nested(MAX_NESTING, through))).toBe('ok');
    expect(verdict(nested(MAX_NESTING + 1, through))).toBe('400 too-costly');
    expect(verdict(`{"resourceType":"Bundle","a":[{"b":[${'['.repeat(MAX_NESTING)}${']'.repeat(MAX_NESTING)}]}]}`)).toBe('400 too-costly');
  });

  it('refuses a __proto__ member, spelt plainly or with escapes, and takes one in a string', () => {
    expect(verdict('{"resourceType":"Bundle","__proto__":{"x":1}}')).toBe('400 structure');
    expect(verdict('{"resourceType":"Bundle","\\u005f_proto__":{"x":1}}')).toBe('400 structure');
    expect(verdict('{"resourceType":"Bundle","note":"__proto__ and \\u00e9"}')).toBe('ok');
  });

  it('refuses a lone surrogate escape, and takes a pair', () => {
    expect(verdict('{"resourceType":"Bundle","note":"a\\ud800b"}')).toBe('400 invalid');
    expect(verdict('{"resourceType":"Bundle","note":"a\\ud83d\\ude00b"}')).toBe('ok');
  });
});
