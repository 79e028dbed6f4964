import { describe, expect, it } from '@jest/globals';
import { mutations } from './mutation-cases.js';
import { ipsExample } from '../support/test-node.js';
import { validator } from './support.js';

describe('validation of mutated official documents', () => {
  it('has at least 40 mutations', () => {
    expect(mutations.length).toBeGreaterThanOrEqual(40);
  });

  // Each case is passed whole: jest would hand a done callback in place of a missing key.
  it.each(mutations.map((m) => [m[0], m] as const))('%s: an error at the expected FHIRPath', (_name, [, base, mutate, at, key]) => {
    const bundle = base();
    mutate(bundle);
    const errors = validator()
      .validate(bundle)
      .filter((i) => i.severity === 'error');
    const expected = at(bundle);
    expect(errors.map((e) => e.expression)).toContain(expected);
    if (key) expect(errors.filter((e) => e.expression === expected).map((e) => e.key)).toContain(key);
  });

  it('reports an unknown profile asked for as an error, an unknown declared one as information', () => {
    const patient = ipsExample('Patient-66033.json');
    const asked = validator().validate(patient, 'http://example.org/StructureDefinition/nope');
    expect(asked).toContainEqual(expect.objectContaining({ severity: 'error', code: 'not-supported' }));
    patient['meta'] = { profile: ['http://example.org/StructureDefinition/nope'] };
    expect(validator().validate(patient)).toContainEqual(expect.objectContaining({ severity: 'information', code: 'not-supported' }));
  });
});
