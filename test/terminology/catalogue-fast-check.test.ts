import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { meetsSchema, plainlyConforms } from '../../src/terminology/catalogue-loader.js';
import { projectRoot } from '../../src/project-root.js';

/**
 * The catalogue loader takes a resource its plain checks accept without asking joi (start-up
 * time): those checks must never accept what joi refuses, and must accept the catalogue we ship.
 */
const folder = join(projectRoot(), 'terminology');
const shipped = readdirSync(folder)
  .filter((f) => f.endsWith('.json') && f !== 'package.json')
  .map((f) => JSON.parse(readFileSync(join(folder, f), 'utf8')) as Record<string, unknown>);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every path to a value inside `value` (object keys and array indexes). */
function pathsOf(value: Json, path: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(path);
  if (Array.isArray(value)) value.forEach((v, i) => pathsOf(v, [...path, i], out));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) pathsOf(v, [...path, k], out);
  return out;
}

/** `value` with the member at `path` replaced by `replacement` (removed when undefined). */
function changed(value: Json, path: (string | number)[], replacement: Json | undefined): Json | undefined {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path;
  if (Array.isArray(value)) return value.map((v, i) => (i === head ? changed(v, rest, replacement) : v)).filter((v) => v !== undefined) as Json[];
  const copy = { ...(value as Record<string, Json>) };
  const inner = changed(copy[head as string]!, rest, replacement);
  if (inner === undefined) delete copy[head as string];
  else copy[head as string] = inner;
  return copy;
}

const replacement: fc.Arbitrary<Json | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom<Json>('', ' ', 'a  b', ' lead', 'trail ', 'x'.repeat(300), 'x'.repeat(5000), 'pt-PT', 'not a tag!', 'supplement', 'active', 'CodeSystem', 'ValueSet', 'true', '1', null, true, 0, [], {}),
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
);

describe('the catalogue loader\'s plain checks', () => {
  it('accept every resource of the catalogue we ship (so its start-up takes the fast path)', () => {
    expect(shipped.length).toBeGreaterThan(10);
    for (const resource of shipped) expect({ url: resource['url'], plain: plainlyConforms(resource) }).toEqual({ url: resource['url'], plain: true });
  });

  it('never accept what joi refuses, whatever member of a shipped resource is changed or removed', () => {
    let refusedByBoth = 0;
    fc.assert(
      fc.property(fc.nat(), fc.nat(), replacement, (which, where, value) => {
        const resource = shipped[which % shipped.length] as Json;
        const paths = pathsOf(resource);
        const mutated = changed(resource, paths[where % paths.length]!, value);
        if (mutated === null || typeof mutated !== 'object' || Array.isArray(mutated)) return;
        const plain = plainlyConforms(mutated);
        if (plain) expect(meetsSchema(mutated)).toBe(true);
        else if (!meetsSchema(mutated)) refusedByBoth += 1;
      }),
      { numRuns: 3000, seed: 16 },
    );
    // The mutations do reach refusals, so the property is not vacuous.
    expect(refusedByBoth).toBeGreaterThan(300);
  });
});
