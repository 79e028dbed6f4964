import { describe, expect, it } from '@jest/globals';
import fhirpath from 'fhirpath';
import r4Model from 'fhirpath/fhir-context/r4/index.js';
import { NATIVE_INVARIANTS } from '../../src/validation/native-invariants.js';
import { compileExistenceInvariant, type PathModel } from '../../src/validation/existence-invariants.js';
import { createValidator, DEFAULT_PROFILE_PACKAGES } from '../../src/validation/index.js';
import { mutations } from './mutation-cases.js';
import { ipsExample, type Json } from '../support/test-node.js';
import { allIpsExamples } from './support.js';

/** Samples by kind, from every official example and a few broken variants. */
function samples(): Record<'bundle' | 'entry' | 'section' | 'extension' | 'resource' | 'repeat' | 'contact', Json[]> {
  const out = { bundle: [] as Json[], entry: [] as Json[], section: [] as Json[], extension: [] as Json[], resource: [] as Json[], repeat: [] as Json[], contact: [] as Json[] };
  const walk = (node: unknown, key: string): void => {
    if (Array.isArray(node)) return node.forEach((n) => walk(n, key));
    if (typeof node !== 'object' || node === null) return;
    const obj = node as Json;
    if (obj['resourceType'] === 'Bundle') out.bundle.push(obj);
    if (typeof obj['resourceType'] === 'string') out.resource.push(obj);
    if (key === 'entry' && ('fullUrl' in obj || 'resource' in obj)) out.entry.push(obj);
    if (key === 'section') out.section.push(obj);
    if (key === 'extension') out.extension.push(obj);
    if (key === 'repeat') out.repeat.push(obj);
    if (key === 'telecom' || key === 'address') out.contact.push(obj);
    for (const [k, v] of Object.entries(obj)) walk(v, k);
  };
  for (const file of allIpsExamples()) walk(ipsExample(file), '');
  const broken = ipsExample('Bundle-bundle-minimal.json');
  broken['entry'].push(broken['entry'][0]);
  broken['entry'][1].fullUrl = broken['entry'][2].fullUrl;
  broken['entry'][1].request = { method: 'POST', url: 'Patient' };
  broken['entry'][2].fullUrl = 'http://x/Patient/1/_history/2';
  delete broken['timestamp'];
  out.bundle.push(broken, { resourceType: 'Bundle', type: 'document', entry: [{ resource: { resourceType: 'Patient' } }] });
  out.entry.push({}, { fullUrl: 'http://x/Patient/1/_history/1', resource: { resourceType: 'Patient' } });
  out.section.push({ title: 'x' }, { emptyReason: { text: 'x' }, entry: [{ reference: 'x' }] });
  out.extension.push({ url: 'x' }, { url: 'x', valueString: 'a', extension: [{ url: 'y', valueString: 'b' }] });
  out.resource.push({ resourceType: 'Patient', text: { status: 'generated' } });
  const code = { coding: [{ system: 'http://loinc.org', code: '85354-9' }] };
  out.resource.push(
    { resourceType: 'Observation', code, valueString: 'x', component: [{ code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] } }] },
    { resourceType: 'Observation', code, valueString: 'x', component: [{ code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] } }] },
    { resourceType: 'Observation', code, component: [{ code }] },
    { resourceType: 'Organization', active: true },
    { resourceType: 'Condition', category: [{ text: 'problem' }] },
    { resourceType: 'Condition', category: [{ text: 'problem' }], verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'entered-in-error' }] } },
  );
  out.repeat.push({ duration: -1 }, { period: 2 }, { offset: 30 }, { offset: 30, when: ['AC'] }, { offset: 30, when: ['C'] }, {});
  out.contact.push({ use: 'home', value: '1' }, { use: 'work', city: 'x' }, { city: 'x' }, { _use: { extension: [{ url: 'x', valueString: 'home' }] } }, { use: 'home ' }, { use: 'Home' });
  return out;
}

const KIND: Record<string, keyof ReturnType<typeof samples>> = {
  'resource.exists() or request.exists() or response.exists()': 'entry',
  "fullUrl.contains('/_history/').not()": 'entry',
  'text.exists() or entry.exists() or section.exists()': 'section',
  'emptyReason.empty() or entry.empty()': 'section',
  'extension.exists() != value.exists()': 'extension',
  'text.`div`.exists()': 'resource',
  'value.empty() or component.code.where(coding.intersect(%resource.code.coding).exists()).empty()': 'resource',
  '(identifier.count() + name.count()) > 0': 'resource',
  "clinicalStatus.exists() or verificationStatus.coding.where(system='http://terminology.hl7.org/CodeSystem/condition-ver-status' and code = 'entered-in-error').exists() or category.select($this='problem-list-item').empty()":
    'resource',
  'duration.exists() implies duration >= 0': 'repeat',
  'period.exists() implies period >= 0': 'repeat',
  "offset.empty() or (when.exists() and when.select($this in ('C' | 'CM' | 'CD' | 'CV')).allFalse())": 'repeat',
  "where(use = 'home').empty()": 'contact',
};

describe('invariants answered natively', () => {
  const all = samples();
  it.each(Object.keys(NATIVE_INVARIANTS))('agree with FHIRPath: %s', (expression) => {
    const kind = KIND[expression] ?? (expression.startsWith('contained') ? 'resource' : 'bundle');
    let compared = 0;
    for (const value of all[kind]) {
      const native = NATIVE_INVARIANTS[expression]!(value);
      if (native === undefined) continue;
      const base = kind === 'contact' ? 'Organization.address' : kind === 'repeat' ? 'Timing.repeat' : kind === 'extension' ? 'Extension' : kind === 'section' ? 'Composition.section' : kind === 'entry' ? 'Bundle.entry' : undefined;
      const result = fhirpath.evaluate(value, base ? { base, expression } : expression, { resource: value }, r4Model, { traceFn: () => undefined }) as unknown[];
      expect({ value, holds: native }).toEqual({ value, holds: !(result.length === 1 && result[0] === false) });
      compared++;
    }
    expect(compared).toBeGreaterThan(1);
  });
});

describe('invariants answered by member tests (existence-invariants.ts)', () => {
  it('agree with FHIRPath on every official example and every mutated one', () => {
    // The cross-checking validator evaluates each such invariant with FHIRPath too and throws on a difference.
    const crossChecking = createValidator(DEFAULT_PROFILE_PACKAGES, { crossCheckInvariants: true });
    const documents = [...allIpsExamples().map((f) => ipsExample(f)), ...mutations.map(([, base, mutate]) => {
      const b = base();
      mutate(b);
      return b;
    })];
    // And one that breaks such invariants on purpose, so that both answers are compared.
    const broken = ipsExample('Bundle-bundle-ips-all-sections.json');
    const resources = (broken['entry'] as Json[]).map((e) => e['resource'] as Json);
    for (const r of resources) {
      if (r['resourceType'] === 'Observation' && r['valueQuantity'] === undefined) r['valueString'] = 'x';
      if (r['resourceType'] === 'Observation') r['dataAbsentReason'] = { text: 'not asked' }; // obs-6
      if (r['resourceType'] === 'Condition') {
        r['abatementString'] = 'gone'; // con-4 unless resolved, remission or inactive
        r['verificationStatus'] = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'entered-in-error' }] }; // con-5
      }
      if (r['resourceType'] === 'AllergyIntolerance') {
        r['verificationStatus'] = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', code: 'entered-in-error' }] }; // ait-2
      }
      if (r['resourceType'] === 'Patient') r['name'] = [{ use: 'official' }]; // the IPS name rule
    }
    documents.push(broken);
    let errors = 0;
    for (const document of documents) errors += crossChecking.validate(document).filter((i) => i.severity === 'error').length;
    expect(errors).toBeGreaterThanOrEqual(mutations.length); // the mutated documents did fail
    const invariantKeys = new Set(crossChecking.validate(broken).map((i) => i.key));
    expect([...invariantKeys]).toEqual(expect.arrayContaining(['obs-6', 'con-5', 'ait-2']));
  });

  it.each([
    ['dataAbsentReason.empty() or value.empty()', 'Observation', { valueQuantity: { value: 1 }, dataAbsentReason: { text: 'x' } }, false],
    ['dataAbsentReason.empty() or value.empty()', 'Observation', { valueString: 'a' }, true],
    ['low.exists() or high.exists() or text.exists()', 'Observation.referenceRange', { _text: { extension: [{ url: 'x', valueString: 'y' }] } }, true],
    ['low.exists() or high.exists() or text.exists()', 'Observation.referenceRange', { appliesTo: [] }, false],
    ['name.exists() or telecom.exists() or address.exists() or organization.exists()', 'Patient.contact', { name: {} }, true],
    ['(component.value.exists() or component.dataAbsentReason.exists()) implies code.exists()', 'Observation', { component: [{ code: { text: 'a' }, valueString: 'x' }] }, false],
    ['family.exists() or given.exists() or text.exists()', 'Patient.name', { use: 'official' }, false],
    ["abatement.empty() or clinicalStatus.coding.where(system='s' and (code='resolved' or code='inactive')).exists()", 'Condition', { abatementString: 'x', clinicalStatus: { coding: [{ system: 's', code: 'active' }, { system: 's', code: 'inactive' }] } }, true],
    ["abatement.empty() or clinicalStatus.coding.where(system='s' and (code='resolved' or code='inactive')).exists()", 'Condition', { abatementAge: { value: 3 }, clinicalStatus: { coding: [{ system: 't', code: 'inactive' }] } }, false],
    ["patient.exists() or scope.coding.where(system='something' and code='adr').exists().not()", 'Consent', { scope: { coding: [{ system: 'something', code: 'adr' }] } }, false],
  ])('compile %s at %s into member tests that agree with FHIRPath', (expression, base, value, holds) => {
    const check = compileExistenceInvariant(expression, base, r4Model as unknown as PathModel);
    expect(check).toBeDefined();
    const result = fhirpath.evaluate(value, { base, expression }, {}, r4Model) as unknown[];
    expect(!(result.length === 1 && result[0] === false)).toBe(holds);
    expect(check!(value)).toBe(holds);
  });

  it.each([
    ["verificationStatus.coding.where(code.startsWith('x')).exists()", 'Condition'],
    ["category.select($this = 'x').empty()", 'Condition'],
    ['value.code.exists()', 'Observation'],
    ['Observation.code.exists()', 'Observation'],
    ['start.hasValue().not() or end.hasValue().not() or (start <= end)', 'Period'],
    ['text.`div`.exists()', 'Patient'],
    ['value.exists()', 'Observation.value[x]'],
  ])('leave %s at %s to FHIRPath', (expression, base) => {
    expect(compileExistenceInvariant(expression, base, r4Model as unknown as PathModel)).toBeUndefined();
  });
});
