import { describe, expect, it } from '@jest/globals';
import { createValidator } from '../../src/validation/index.js';
import { minimal, patientOf, type Json } from '../support/test-node.js';
import { ruleCases } from './rule-cases.js';
import { validator } from './support.js';

const errorsOf = (bundle: Json): { expression: string; key: string | undefined; message: string }[] =>
  validator()
    .validate(bundle)
    .filter((i) => i.severity === 'error')
    .map((i) => ({ expression: i.expression, key: i.key, message: i.message }));

describe('rule classes where the HL7 reference validator decides (issue 14)', () => {
  it.each(ruleCases.filter((c) => !c.valid).map((c) => [`${c.ruleClass}: ${c.name}`, c] as const))('%s: an error at the expected FHIRPath', (_name, c) => {
    const bundle = c.base();
    c.mutate(bundle);
    const errors = errorsOf(bundle);
    const expected = c.at!(bundle);
    expect(errors.map((e) => e.expression)).toContain(expected);
    if (c.key) expect(errors.filter((e) => e.expression === expected).map((e) => e.key)).toContain(c.key);
  });

  it.each(ruleCases.filter((c) => c.valid).map((c) => [`${c.ruleClass}: ${c.name}`, c] as const))('%s: no error', (_name, c) => {
    const bundle = c.base();
    c.mutate(bundle);
    expect(errorsOf(bundle)).toEqual([]);
    if (c.warningAt) {
      const warnings = validator()
        .validate(bundle)
        .filter((i) => i.severity === 'warning')
        .map((i) => i.expression);
      expect(warnings).toContain(c.warningAt(bundle));
    }
  });
});

describe('reports that are not errors', () => {
  it('a resource matching no slice of an open slicing is information, not forced into a slice', () => {
    const bundle = minimal();
    const statement = (bundle['entry'] as Json[]).find((e) => e['resource'].resourceType === 'MedicationStatement')!['resource'];
    delete statement['effectivePeriod'];
    delete statement['effectiveDateTime'];
    const issues = validator().validate(bundle);
    expect(issues.filter((i) => i.severity === 'error')).toEqual([]);
    expect(issues).toContainEqual(expect.objectContaining({ severity: 'information', expression: 'Bundle.entry[5]', message: expect.stringContaining('matches no known slice') }));
  });

  it('an unknown extension is a warning by default, an error when configured, and never fails a slice match', () => {
    const bundle = minimal();
    patientOf(bundle)['extension'] = [{ url: 'http://example.org/fhir/StructureDefinition/favourite-colour', valueString: 'blue' }];
    const lenient = validator().validate(bundle);
    expect(lenient).toContainEqual(expect.objectContaining({ severity: 'warning', expression: 'Bundle.entry[1].resource.extension[0]', code: 'not-supported' }));
    expect(lenient.filter((i) => i.severity === 'error')).toEqual([]);
    const strict = createValidator(undefined, { unknownExtensions: 'error' }).validate(bundle);
    const errors = strict.filter((i) => i.severity === 'error');
    // Exactly the extension itself: the Patient still fills the IPS patient slice.
    expect(errors.map((i) => i.expression)).toEqual(['Bundle.entry[1].resource.extension[0]']);
  });

  it('a known R4 core extension is not reported', () => {
    const bundle = minimal();
    patientOf(bundle)['extension'] = [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace', valueAddress: { country: 'NL' } }];
    expect(validator().validate(bundle).filter((i) => i.message.includes('is not known here'))).toEqual([]);
  });

  it('the severity of unknown extensions is part of the profile set', () => {
    expect(createValidator(undefined, { unknownExtensions: 'error' }).profileSet).not.toBe(validator().profileSet);
  });
});

describe('PONTIS_UNKNOWN_EXTENSIONS', () => {
  it('defaults to warning, takes error, and a bad value stops the node naming it', async () => {
    const { ConfigError, loadConfig } = await import('../../src/config.js');
    expect(loadConfig({}).unknownExtensions).toBe('warning');
    expect(loadConfig({ PONTIS_UNKNOWN_EXTENSIONS: 'error' }).unknownExtensions).toBe('error');
    expect(() => loadConfig({ PONTIS_UNKNOWN_EXTENSIONS: 'ignore' })).toThrow(ConfigError);
    expect(() => loadConfig({ PONTIS_UNKNOWN_EXTENSIONS: 'ignore' })).toThrow(/PONTIS_UNKNOWN_EXTENSIONS/);
  });

  it('a worker thread validates with the same setting (same profile set, same verdict)', async () => {
    const { OffloadingValidator, DEFAULT_PROFILE_PACKAGES } = await import('../../src/validation/index.js');
    const strict = createValidator(DEFAULT_PROFILE_PACKAGES, { unknownExtensions: 'error' });
    const offloading = new OffloadingValidator(strict, DEFAULT_PROFILE_PACKAGES, 0, { unknownExtensions: 'error' });
    try {
      const bundle = minimal();
      patientOf(bundle)['extension'] = [{ url: 'http://example.org/fhir/StructureDefinition/favourite-colour', valueString: 'blue' }];
      // The JSON text decides whether a document goes to a worker (threshold 0: always).
      const issues = await offloading.validate(bundle, undefined, JSON.stringify(bundle));
      expect(offloading.started).toBe(true);
      expect(issues.filter((i) => i.severity === 'error').map((i) => i.expression)).toEqual(['Bundle.entry[1].resource.extension[0]']);
    } finally {
      await offloading.close();
    }
  });
});
