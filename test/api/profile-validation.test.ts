import type { Server } from '@hapi/hapi';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { CONSTRAINT_KEY_SYSTEM } from '../../src/fhir/operation-outcome.js';
import { createServer } from '../../src/server.js';
import type { ProfileValidator } from '../../src/validation/index.js';
import { memoryBackend } from '../support/stores.js';
import { allSections, bodyOf, buildTestNode, documentFor, patientOf, send, sharedValidator, demoTrust, withDefaultToken, type Json, type TestNode } from '../support/test-node.js';

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
    expect(outcome['issue']).toContainEqual(expect.objectContaining({ details: { coding: [{ system: CONSTRAINT_KEY_SYSTEM, code: 'ext-1' }], text: 'constraint ext-1' } }));
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

describe('profile validation on the way out', () => {
  /** A server over the same store whose profile set differs from the one documents were stored under. */
  async function serverWithChangedProfiles(verdict: 'valid' | 'invalid'): Promise<{ server: Server; calls: () => number }> {
    let calls = 0;
    const changed = Object.create(sharedValidator()) as ProfileValidator;
    Object.defineProperty(changed, 'profileSet', { value: 'changed-profiles' });
    changed.validate = () => {
      calls++;
      return verdict === 'valid' ? [] : [{ severity: 'error', code: 'required', expression: 'Bundle.entry[0].resource.section', message: 'new rule' }];
    };
    const server = withDefaultToken(
      await createServer({ config: node.config, store: node.store, logger: pino({ level: 'silent' }), validator: changed, trust: await demoTrust() }),
      node.config.baseUrl,
    );
    await server.initialize();
    return { server, calls: () => calls };
  }

  it('refuses a stored document that no longer meets the profiles in force, on every read path', async () => {
    const created = bodyOf<Json>(await send(node.server, 'POST', '/fhir/Bundle', documentFor('V5', '2024-01-01T00:00:00Z')));
    const patientId = bodyOf<Json>(await node.server.inject('/fhir/Patient?identifier=urn:test:national|V5'))['entry'][0].resource.id;
    const { server } = await serverWithChangedProfiles('invalid');
    for (const url of [`/fhir/Bundle/${created['id']}`, `/fhir/Bundle/${created['id']}/_history/1`, `/fhir/Patient/${patientId}/$summary`]) {
      const response = await server.inject(url);
      expect(response.statusCode).toBe(422);
      expect(bodyOf<Json>(response)['issue']).toContainEqual(expect.objectContaining({ expression: ['Bundle.entry[0].resource.section'] }));
    }
    await server.stop();
  });

  it('sends it when it still validates, validating each version once', async () => {
    const created = bodyOf<Json>(await send(node.server, 'POST', '/fhir/Bundle', documentFor('V6', '2024-01-01T00:00:00Z')));
    const { server, calls } = await serverWithChangedProfiles('valid');
    expect((await server.inject(`/fhir/Bundle/${created['id']}`)).statusCode).toBe(200);
    expect((await server.inject(`/fhir/Bundle/${created['id']}`)).statusCode).toBe(200);
    expect(calls()).toBe(1);
    await server.stop();
  });

  it('does not validate again what was validated under the profiles in force', async () => {
    const created = bodyOf<Json>(await send(node.server, 'POST', '/fhir/Bundle', documentFor('V7', '2024-01-01T00:00:00Z')));
    const validate = jest.spyOn(sharedValidator(), 'validate');
    expect((await node.server.inject(`/fhir/Bundle/${created['id']}`)).statusCode).toBe(200);
    expect(validate).not.toHaveBeenCalled();
    validate.mockRestore();
  });
});

describe('a node enforcing the EU rules', () => {
  it('refuses a document without a known national identifier and stores the demo documents', async () => {
    const eu = await buildTestNode(memoryBackend, { PONTIS_DOCUMENT_PROFILE: 'https://pontis.example.eu/fhir/StructureDefinition/Bundle-eu-pontis' });
    try {
      const statement = bodyOf<Json>(await eu.server.inject('/fhir/metadata'));
      const bundle = (statement['rest'][0].resource as Json[]).find((r) => r['type'] === 'Bundle')!;
      expect(bundle['supportedProfile']).toEqual(['https://pontis.example.eu/fhir/StructureDefinition/Bundle-eu-pontis']);
      const refused = await send(eu.server, 'POST', '/fhir/Bundle', allSections());
      expect(refused.statusCode).toBe(422);
      expect(bodyOf<Json>(refused)['issue']).toContainEqual(expect.objectContaining({ expression: ['Bundle.entry[1].resource'], details: expect.objectContaining({ text: 'constraint eu-pat-1' }) }));
      const seed = JSON.parse(readFileSync('seed/PT/pt-joao-silva.json', 'utf8')) as Json;
      expect((await send(eu.server, 'POST', '/fhir/Bundle', seed)).statusCode).toBe(201);
    } finally {
      await eu.cleanup();
    }
  });
});
