import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { memoryBackend } from '../support/stores.js';
import { bodyOf, buildTestNode, documentFor, patientOf, send, type Json, type TestNode } from '../support/test-node.js';

let node: TestNode;
beforeAll(async () => {
  node = await buildTestNode(memoryBackend);
});
afterAll(async () => {
  await node?.cleanup();
});

describe('profile validation on push', () => {
  it('refuses a document that breaks the IPS profile with 422 at the FHIRPath, storing nothing', async () => {
    const bundle = documentFor('V1', '2024-01-01T00:00:00Z');
    const sections = bundle['entry'][0].resource.section as Json[];
    bundle['entry'][0].resource.section = sections.filter((s) => s['code'].coding[0].code !== '48765-2');
    const response = await send(node.server, 'POST', '/fhir/Bundle', bundle);
    expect(response.statusCode).toBe(422);
    const outcome = bodyOf<Json>(response);
    expect(outcome['issue']).toContainEqual(
      expect.objectContaining({ severity: 'error', code: 'required', expression: ['Bundle.entry[0].resource.section'] }),
    );
    const search = bodyOf<Json>(await node.server.inject('/fhir/Patient?identifier=urn:test:national|V1'));
    expect(search['total']).toBe(0);
  });

  it('names the violated constraint key', async () => {
    const bundle = documentFor('V2', '2024-01-01T00:00:00Z');
    patientOf(bundle)['extension'] = [{ url: 'http://example.org/no-value' }];
    const outcome = bodyOf<Json>(await send(node.server, 'POST', '/fhir/Bundle', bundle));
    expect(outcome['issue']).toContainEqual(expect.objectContaining({ details: { coding: [{ code: 'ext-1' }], text: 'constraint ext-1' } }));
  });

  it('stores a document with warnings and returns them with Prefer: return=OperationOutcome', async () => {
    const bundle = documentFor('V3', '2024-01-01T00:00:00Z');
    delete patientOf(bundle)['text'];
    const response = await send(node.server, 'POST', '/fhir/Bundle', bundle, { prefer: 'return=OperationOutcome' });
    expect(response.statusCode).toBe(201);
    const outcome = bodyOf<Json>(response);
    expect(outcome['resourceType']).toBe('OperationOutcome');
    expect(outcome['issue']).toContainEqual(expect.objectContaining({ severity: 'warning', details: expect.objectContaining({ text: 'constraint dom-6' }) }));
  });

  it('validates updates too', async () => {
    const created = bodyOf<Json>(await send(node.server, 'POST', '/fhir/Bundle', documentFor('V4', '2024-01-01T00:00:00Z')));
    created['entry'][0].resource.status = 'unknown-status';
    const response = await send(node.server, 'PUT', `/fhir/Bundle/${created['id']}`, created, { 'if-match': 'W/"1"' });
    expect(response.statusCode).toBe(422);
    expect(bodyOf<Json>(response)['issue']).toContainEqual(expect.objectContaining({ expression: ['Bundle.entry[0].resource.status'] }));
  });
});
