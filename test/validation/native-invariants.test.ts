import { describe, expect, it } from '@jest/globals';
import fhirpath from 'fhirpath';
import r4Model from 'fhirpath/fhir-context/r4/index.js';
import { NATIVE_INVARIANTS } from '../../src/validation/profile-validator.js';
import { ipsExample, type Json } from '../support/test-node.js';
import { allIpsExamples } from './support.js';

/** Samples by kind, from every official example and a few broken variants. */
function samples(): Record<'bundle' | 'entry' | 'section' | 'extension' | 'resource', Json[]> {
  const out = { bundle: [] as Json[], entry: [] as Json[], section: [] as Json[], extension: [] as Json[], resource: [] as Json[] };
  const walk = (node: unknown, key: string): void => {
    if (Array.isArray(node)) return node.forEach((n) => walk(n, key));
    if (typeof node !== 'object' || node === null) return;
    const obj = node as Json;
    if (obj['resourceType'] === 'Bundle') out.bundle.push(obj);
    if (typeof obj['resourceType'] === 'string') out.resource.push(obj);
    if (key === 'entry' && ('fullUrl' in obj || 'resource' in obj)) out.entry.push(obj);
    if (key === 'section') out.section.push(obj);
    if (key === 'extension') out.extension.push(obj);
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
  return out;
}

const KIND: Record<string, keyof ReturnType<typeof samples>> = {
  'resource.exists() or request.exists() or response.exists()': 'entry',
  "fullUrl.contains('/_history/').not()": 'entry',
  'text.exists() or entry.exists() or section.exists()': 'section',
  'emptyReason.empty() or entry.empty()': 'section',
  'extension.exists() != value.exists()': 'extension',
  'text.`div`.exists()': 'resource',
};

describe('invariants answered natively', () => {
  const all = samples();
  it.each(Object.keys(NATIVE_INVARIANTS))('agree with FHIRPath: %s', (expression) => {
    const kind = KIND[expression] ?? (expression.startsWith('contained') ? 'resource' : 'bundle');
    let compared = 0;
    for (const value of all[kind]) {
      const native = NATIVE_INVARIANTS[expression]!(value);
      if (native === undefined) continue;
      const base = kind === 'extension' ? 'Extension' : kind === 'section' ? 'Composition.section' : kind === 'entry' ? 'Bundle.entry' : undefined;
      const result = fhirpath.evaluate(value, base ? { base, expression } : expression, { resource: value }, r4Model, { traceFn: () => undefined }) as unknown[];
      expect({ value, holds: native }).toEqual({ value, holds: !(result.length === 1 && result[0] === false) });
      compared++;
    }
    expect(compared).toBeGreaterThan(1);
  });
});
