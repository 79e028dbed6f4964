import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { memoryBackend } from '../support/stores.js';
import { bodyOf, buildTestNode, minimal, send, type Json, type TestNode } from '../support/test-node.js';

let node: TestNode;
beforeAll(async () => {
  node = await buildTestNode(memoryBackend);
});
afterAll(async () => {
  await node?.cleanup();
});

type Issue = { severity: string; expression?: string[] };
const errorPaths = (response: { payload: string }): string[] =>
  ((bodyOf<Json>(response as never)['issue'] as Issue[] | undefined) ?? []).filter((i) => i.severity === 'error').flatMap((i) => i.expression ?? []);

/** The same document pushed and validated: both refuse it, naming the same FHIRPath. */
async function pushAndValidate(bundle: Json): Promise<{ pushStatus: number; pushErrors: string[]; validateStatus: number; validateErrors: string[] }> {
  const validated = await send(node.server, 'POST', '/fhir/Bundle/$validate', bundle);
  const pushed = await send(node.server, 'POST', '/fhir/Bundle', bundle);
  return { pushStatus: pushed.statusCode, pushErrors: errorPaths(pushed), validateStatus: validated.statusCode, validateErrors: errorPaths(validated) };
}

describe('$validate and push agree on documents (issue 14)', () => {
  it('a relative reference from a urn:uuid entry: refused by both, at the same FHIRPath', async () => {
    const bundle = minimal();
    bundle['identifier'] = { system: 'urn:test:documents', value: 'agreement-1' };
    bundle['entry'][0].resource.subject = { reference: 'Patient/244ad7c3-beeb-41d1-8a2f-c76b8cf720ad' };
    const r = await pushAndValidate(bundle);
    expect(r.pushStatus).toBe(422);
    expect(r.validateStatus).toBe(200);
    expect(r.pushErrors).toContain('Bundle.entry[0].resource.subject.reference');
    expect(r.validateErrors).toContain('Bundle.entry[0].resource.subject.reference');
  });

  it('a reference to an entry that is not there: refused by both, reported once by $validate', async () => {
    const bundle = minimal();
    bundle['identifier'] = { system: 'urn:test:documents', value: 'agreement-2' };
    bundle['entry'][4].resource.subject = { reference: 'urn:uuid:0b6e4b86-57a7-4b27-9b1e-3d4c5b6a7f80' };
    const r = await pushAndValidate(bundle);
    expect(r.pushStatus).toBe(422);
    expect(r.pushErrors).toContain('Bundle.entry[4].resource.subject.reference');
    expect(r.validateErrors.filter((p) => p === 'Bundle.entry[4].resource.subject.reference')).toHaveLength(1);
  });

  it('a document rule the profile does not state (a second Patient): refused by both', async () => {
    const bundle = minimal();
    bundle['identifier'] = { system: 'urn:test:documents', value: 'agreement-3' };
    const second = structuredClone(bundle['entry'][1]);
    second.fullUrl = 'urn:uuid:6a0f3ad4-2a8e-4fd5-9f6f-0a2b0c2a7c11';
    second.resource.id = '6a0f3ad4-2a8e-4fd5-9f6f-0a2b0c2a7c11';
    bundle['entry'][0].resource.section[0].entry.push({ reference: second.fullUrl });
    bundle['entry'].push(second);
    const r = await pushAndValidate(bundle);
    expect(r.pushStatus).toBe(422);
    expect(r.validateErrors.length).toBeGreaterThan(0);
    expect(r.validateErrors).toEqual(expect.arrayContaining(r.pushErrors));
  });

  it('a document without a declared profile is judged against the node\'s document profile, as a push is', async () => {
    const bundle = minimal();
    bundle['identifier'] = { system: 'urn:test:documents', value: 'agreement-5' };
    delete bundle['meta'];
    // The IPS Composition needs a medications section; the base R4 Composition does not.
    bundle['entry'][0].resource.section = (bundle['entry'][0].resource.section as Json[]).filter((s) => s['code'].coding[0].code !== '10160-0');
    bundle['entry'] = (bundle['entry'] as Json[]).filter((e) => !['MedicationStatement', 'Medication'].includes(e['resource'].resourceType));
    const r = await pushAndValidate(bundle);
    expect(r.pushStatus).toBe(422);
    expect(r.pushErrors).toContain('Bundle.entry[0].resource.section');
    expect(r.validateErrors).toContain('Bundle.entry[0].resource.section');
  });

  it('a valid document: accepted by both', async () => {
    const bundle = minimal();
    bundle['identifier'] = { system: 'urn:test:documents', value: 'agreement-4' };
    const r = await pushAndValidate(bundle);
    expect(r.validateErrors).toEqual([]);
    expect(r.pushStatus).toBe(201);
  });
});
