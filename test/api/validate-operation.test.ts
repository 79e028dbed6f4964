import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mintDemoToken } from '../../src/auth/demo-tokens.js';
import { memoryBackend } from '../support/stores.js';
import { bodyOf, buildTestNode, ipsExample, send, type Json, type TestNode } from '../support/test-node.js';

let node: TestNode;
beforeAll(async () => {
  node = await buildTestNode(memoryBackend);
});
afterAll(async () => {
  await node?.cleanup();
});

const IPS_PATIENT = 'http://hl7.org/fhir/uv/ips/StructureDefinition/Patient-uv-ips';

describe('POST /fhir/{type}/$validate', () => {
  it('answers 200 with All OK for a valid resource', async () => {
    const response = await send(node.server, 'POST', '/fhir/Patient/$validate', ipsExample('Patient-66033.json'));
    expect(response.statusCode).toBe(200);
    expect(bodyOf<Json>(response)['issue']).toEqual([{ severity: 'information', code: 'informational', diagnostics: 'All OK' }]);
  });

  it('answers 200 with the errors, located, for an invalid one', async () => {
    const patient = ipsExample('Patient-66033.json');
    patient['birthDate'] = 'yesterday';
    const response = await send(node.server, 'POST', `/fhir/Patient/$validate?profile=${IPS_PATIENT}`, patient);
    expect(response.statusCode).toBe(200);
    expect(bodyOf<Json>(response)['issue']).toContainEqual(expect.objectContaining({ severity: 'error', expression: ['Patient.birthDate'] }));
  });

  it('takes Parameters with resource and profile', async () => {
    const patient = ipsExample('Patient-66033.json');
    delete patient['meta'];
    delete patient['name'];
    const parameters = { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: patient }, { name: 'profile', valueUri: IPS_PATIENT }] };
    const response = await send(node.server, 'POST', '/fhir/Patient/$validate', parameters);
    expect(response.statusCode).toBe(200);
    expect(bodyOf<Json>(response)['issue']).toContainEqual(expect.objectContaining({ severity: 'error', expression: ['Patient.name'] }));
  });

  it('refuses an unknown profile with 400 naming it', async () => {
    const response = await send(node.server, 'POST', '/fhir/Patient/$validate?profile=http://example.org/Nope', ipsExample('Patient-66033.json'));
    expect(response.statusCode).toBe(400);
    expect(bodyOf<Json>(response)['issue'][0]).toMatchObject({ expression: ['profile'], diagnostics: expect.stringContaining('http://example.org/Nope') });
  });

  it('refuses a resource of another type (400) and an unknown type (404)', async () => {
    expect((await send(node.server, 'POST', '/fhir/Observation/$validate', ipsExample('Patient-66033.json'))).statusCode).toBe(400);
    expect((await send(node.server, 'POST', '/fhir/Unicorn/$validate', { resourceType: 'Unicorn' })).statusCode).toBe(404);
  });

  it('refuses a read-only token (403): it is claimed by an audit record, and $validate writes none', async () => {
    // Otherwise one token could serve here once (claimed up front) and once more for an audited read.
    const token = await mintDemoToken({ audience: node.config.baseUrl, scope: 'system/Patient.rs' });
    const validate = await send(node.server, 'POST', '/fhir/Patient/$validate', ipsExample('Patient-66033.json'), { authorization: `Bearer ${token}` });
    expect(validate.statusCode).toBe(403);
    expect(bodyOf<Json>(validate)['issue'][0].diagnostics).toMatch(/good for one audited request only/);
    const read = () => node.server.inject({ url: '/fhir/Patient?identifier=urn:test:national|nobody', headers: { authorization: `Bearer ${token}` } });
    expect((await read()).statusCode).toBe(200);
    expect((await read()).statusCode).toBe(401);
  });
});
