import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { EU_BUNDLE_PROFILE } from '../../src/validation/index.js';
import { patientOf, type Json } from '../support/test-node.js';
import { validator } from './support.js';

const seed = (): Json => JSON.parse(readFileSync('seed/AT/at-anna-gruber.json', 'utf8')) as Json;
const errorsOf = (bundle: Json): { expression: string; key: string | undefined }[] =>
  validator()
    .validate(bundle, EU_BUNDLE_PROFILE)
    .filter((i) => i.severity === 'error')
    .map((i) => ({ expression: i.expression, key: i.key }));
const withoutSection = (bundle: Json, loinc: string): Json => {
  bundle['entry'][0].resource.section = (bundle['entry'][0].resource.section as Json[]).filter((s) => s['code'].coding[0].code !== loinc);
  return bundle;
};

describe('EU rules (profiles/eu)', () => {
  it('accept the demo documents of every country', () => {
    for (const file of ['seed/AT/at-anna-gruber.json', 'seed/AT/at-lukas-bauer.json', 'seed/PT/pt-joao-silva.json', 'seed/PT/pt-maria-santos.json']) {
      expect(errorsOf(JSON.parse(readFileSync(file, 'utf8')) as Json)).toEqual([]);
    }
  });

  it('eu-pat-1: the Patient carries a national identifier of a known Member State', () => {
    const bundle = seed();
    patientOf(bundle)['identifier'] = [{ system: 'urn:oid:2.16.724.4.40', value: '12345' }];
    expect(errorsOf(bundle)).toContainEqual({ expression: 'Bundle.entry[1].resource', key: 'eu-pat-1' });
  });

  it('the Composition has a custodian', () => {
    const bundle = seed();
    delete bundle['entry'][0].resource.custodian;
    expect(errorsOf(bundle)).toContainEqual({ expression: 'Bundle.entry[0].resource.custodian', key: undefined });
  });

  it('the Composition has a language', () => {
    const bundle = seed();
    delete bundle['entry'][0].resource.language;
    expect(errorsOf(bundle)).toContainEqual({ expression: 'Bundle.entry[0].resource.language', key: undefined });
  });

  it('eu-comp-1: a History of Procedures section is present', () => {
    expect(errorsOf(withoutSection(seed(), '47519-4'))).toContainEqual({ expression: 'Bundle.entry[0].resource', key: 'eu-comp-1' });
  });

  it('eu-comp-2: a Medical Devices section is present', () => {
    expect(errorsOf(withoutSection(seed(), '46264-8'))).toContainEqual({ expression: 'Bundle.entry[0].resource', key: 'eu-comp-2' });
  });

  it('eu-comp-3: an empty section says why', () => {
    const bundle = seed();
    const devices = (bundle['entry'][0].resource.section as Json[]).find((s) => s['code'].coding[0].code === '46264-8')!;
    delete devices['emptyReason'];
    expect(errorsOf(bundle)).toContainEqual({ expression: 'Bundle.entry[0].resource', key: 'eu-comp-3' });
  });

  it('are not applied where only the IPS profile is asked for', () => {
    const bundle = withoutSection(seed(), '46264-8');
    expect(validator().validate(bundle).filter((i) => i.severity === 'error')).toEqual([]);
  });
});
