import { describe, expect, it } from '@jest/globals';
import { generatedCases } from './generated-cases.js';
import { validator } from './support.js';

const cases = generatedCases();

describe('documents generated from the definitions (conformance corpus)', () => {
  it('cover every rule class, on both sides', () => {
    expect(cases.length).toBeGreaterThanOrEqual(60);
    const classes = new Set(cases.map((c) => `${c.ruleClass}:${c.valid}`));
    for (const expected of ['cardinality:false', 'type:false', 'binding:false', 'invariant:false', 'open slicing:true', 'extensions:true']) expect(classes).toContain(expected);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const errors = validator()
      .validate(c.document)
      .filter((i) => i.severity === 'error');
    if (c.valid) expect(errors).toEqual([]);
    else expect(errors.map((e) => e.expression)).toContainEqual(expect.stringMatching(new RegExp(`^${c.at!.replace(/[.[\]]/g, '\\$&')}`)));
  });
});
