import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { backends } from '../support/stores.js';
import { bodyOf, buildTestNode, documentFor, send, type Json, type TestNode } from '../support/test-node.js';

describe.each(backends)('the Bundle API on the $name', (backend) => {
  let node: TestNode;
  beforeAll(async () => {
    node = await buildTestNode(backend, { PONTIS_MAX_PAYLOAD_BYTES: '200000' });
  });
  afterAll(async () => {
    await node?.cleanup();
  });


  function expectOutcome(response: { statusCode: number; payload: string; headers: Json }, status: number, issue: Json): void {
    expect(response.statusCode).toBe(status);
    expect(response.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
    const body = bodyOf<Json>(response as never);
    expect(body['resourceType']).toBe('OperationOutcome');
    expect(body['issue']).toEqual(expect.arrayContaining([expect.objectContaining(issue)]));
  }

  describe('POST /fhir/Bundle', () => {
    it('answers a retry of the same document with 200 and the stored one, storing nothing new', async () => {
      const first = await send(node.server, 'POST', '/fhir/Bundle', documentFor('A1', '2024-01-01T00:00:00Z'));
      const again = await send(node.server, 'POST', '/fhir/Bundle', documentFor('A1', '2024-01-01T00:00:00Z'));
      expect(first.statusCode).toBe(201);
      expect(again.statusCode).toBe(200);
      expect(again.headers['location']).toBe(first.headers['location']);
      expect(bodyOf<Json>(again)['id']).toBe(bodyOf<Json>(first)['id']);
    });

    it('accepts application/json and honours Prefer: return=minimal and return=OperationOutcome', async () => {
      const minimalReturn = await send(node.server, 'POST', '/fhir/Bundle', documentFor('A2', '2024-01-01T00:00:00Z'), {
        'content-type': 'application/json',
        prefer: 'return=minimal',
      });
      expect(minimalReturn.statusCode).toBe(201);
      expect(minimalReturn.payload).toBe('');
      expect(minimalReturn.headers['location']).toMatch(/\/Bundle\/[^/]+\/_history\/1$/);
      const outcome = await send(node.server, 'POST', '/fhir/Bundle', documentFor('A2', '2024-02-01T00:00:00Z'), { prefer: 'return=OperationOutcome' });
      expect(outcome.statusCode).toBe(201);
      expect(bodyOf<Json>(outcome)['resourceType']).toBe('OperationOutcome');
    });

    it('refuses malformed JSON with 400', async () => {
      expectOutcome(await send(node.server, 'POST', '/fhir/Bundle', '{"resourceType": "Bundle",'), 400, { code: 'structure' });
    });

    it('refuses an empty body and a JSON array with 400', async () => {
      expectOutcome(await send(node.server, 'POST', '/fhir/Bundle', ''), 400, { code: 'required' });
      expectOutcome(await send(node.server, 'POST', '/fhir/Bundle', '[]'), 400, { code: 'structure' });
    });

    it('refuses absurdly deep nesting with 400 rather than failing', async () => {
      const bundle = documentFor('A6', '2024-01-01T00:00:00Z');
      bundle['entry'][1].resource.extension = 'DEEP';
      const deep = `${'{"extension":['.repeat(5000)}{}${']}'.repeat(5000)}`;
      const body = JSON.stringify(bundle).replace('"DEEP"', `[${deep}]`);
      expectOutcome(await send(node.server, 'POST', '/fhir/Bundle', body), 400, { code: 'too-costly' });
    });

    it('refuses another resource type with 400 naming resourceType', async () => {
      expectOutcome(await send(node.server, 'POST', '/fhir/Bundle', { resourceType: 'Patient' }), 400, { expression: ['resourceType'] });
    });

    it('refuses a document breaking the document rules with 422 naming the FHIRPath', async () => {
      const bundle = documentFor('A3', '2024-01-01T00:00:00Z');
      bundle['entry'].reverse();
      expectOutcome(await send(node.server, 'POST', '/fhir/Bundle', bundle), 422, { severity: 'error', expression: ['Bundle.entry[0].resource'] });
      const found = await node.server.inject('/fhir/Patient?identifier=urn:test:national|A3');
      expect(bodyOf<Json>(found)['total']).toBe(0);
    });

    it('refuses XML with 415 and a body over the limit with 413', async () => {
      expectOutcome(await send(node.server, 'POST', '/fhir/Bundle', '<Bundle/>', { 'content-type': 'application/fhir+xml' }), 415, { code: 'not-supported' });
      const big = documentFor('A4', '2024-01-01T00:00:00Z');
      big['entry'][0].resource.text = { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${'x'.repeat(250_000)}</div>` };
      expectOutcome(await send(node.server, 'POST', '/fhir/Bundle', big), 413, { code: 'too-costly' });
    });

    it('refuses unknown query parameters with 400', async () => {
      expectOutcome(await send(node.server, 'POST', '/fhir/Bundle?__proto__=x', documentFor('A5', '2024-01-01T00:00:00Z')), 400, { expression: ['__proto__'] });
    });
  });

  describe('PUT /fhir/Bundle/{id}', () => {
    let id: string;
    let stored: Json;
    beforeAll(async () => {
      const created = await send(node.server, 'POST', '/fhir/Bundle', documentFor('B1', '2024-01-01T00:00:00Z'));
      stored = bodyOf<Json>(created);
      id = stored['id'];
    });

    it('needs If-Match (428)', async () => {
      expectOutcome(await send(node.server, 'PUT', `/fhir/Bundle/${id}`, stored), 428, { code: 'required' });
    });

    it('stores a new version with If-Match of the latest, then refuses the stale one (412)', async () => {
      const changed = { ...stored, language: 'de-AT' };
      const updated = await send(node.server, 'PUT', `/fhir/Bundle/${id}`, changed, { 'if-match': 'W/"1"' });
      expect(updated.statusCode).toBe(200);
      expect(updated.headers['etag']).toBe('W/"2"');
      expect(bodyOf<Json>(updated)['meta']['versionId']).toBe('2');
      expectOutcome(await send(node.server, 'PUT', `/fhir/Bundle/${id}`, { ...changed, language: 'fr' }, { 'if-match': 'W/"1"' }), 412, { code: 'conflict' });

      const history = bodyOf<Json>(await node.server.inject(`/fhir/Bundle/${id}/_history`));
      expect(history['type']).toBe('history');
      expect(history['entry'].map((e: Json) => e.resource.meta.versionId)).toEqual(['2', '1']);
      expect(history['entry'][1].response.etag).toBe('W/"1"');
      const v1 = await node.server.inject(`/fhir/Bundle/${id}/_history/1`);
      expect(bodyOf<Json>(v1)['language']).toBe(stored['language']);
      expect(v1.headers['etag']).toBe('W/"1"');
      expectOutcome(await node.server.inject(`/fhir/Bundle/${id}/_history/9`), 404, { code: 'not-found' });
    });

    it('refuses a new identifier (409), a body id other than the URL (400) and a bad If-Match (400)', async () => {
      const current = bodyOf<Json>(await node.server.inject(`/fhir/Bundle/${id}`));
      const etag = `W/"${current['meta']['versionId']}"`;
      expectOutcome(
        await send(node.server, 'PUT', `/fhir/Bundle/${id}`, { ...current, identifier: { system: 'urn:x', value: 'other' } }, { 'if-match': etag }),
        409,
        { expression: ['Bundle.identifier'] },
      );
      expectOutcome(await send(node.server, 'PUT', `/fhir/Bundle/${id}`, { ...current, id: 'other' }, { 'if-match': etag }), 400, { expression: ['Bundle.id'] });
      expectOutcome(await send(node.server, 'PUT', `/fhir/Bundle/${id}`, current, { 'if-match': 'yesterday' }), 400, { code: 'invalid' });
    });

    it('refuses an update moving the document to another patient (409)', async () => {
      await send(node.server, 'POST', '/fhir/Bundle', documentFor('B2', '2024-01-01T00:00:00Z'));
      const current = bodyOf<Json>(await node.server.inject(`/fhir/Bundle/${id}`));
      const patient = current['entry'].find((e: Json) => e.resource.resourceType === 'Patient').resource;
      patient.identifier = [{ system: 'urn:test:national', value: 'B2' }];
      const response = await send(node.server, 'PUT', `/fhir/Bundle/${id}`, current, { 'if-match': `W/"${current['meta']['versionId']}"` });
      expect(response.statusCode).toBe(409);
    });

    it('answers 404 for an unknown document', async () => {
      expectOutcome(await send(node.server, 'PUT', '/fhir/Bundle/unknown', { ...stored, id: 'unknown' }, { 'if-match': 'W/"1"' }), 404, { code: 'not-found' });
    });
  });

  describe('reads', () => {
    it('answer 304 to If-None-Match with the current version', async () => {
      const created = await send(node.server, 'POST', '/fhir/Bundle', documentFor('C1', '2024-01-01T00:00:00Z'));
      const id = bodyOf<Json>(created)['id'];
      const notModified = await node.server.inject({ url: `/fhir/Bundle/${id}`, headers: { 'if-none-match': 'W/"1"' } });
      expect(notModified.statusCode).toBe(304);
    });

    it('answer 404 for an unknown Bundle and 400 for an id that is not a FHIR id', async () => {
      expectOutcome(await node.server.inject('/fhir/Bundle/does-not-exist'), 404, { code: 'not-found' });
      expectOutcome(await node.server.inject(`/fhir/Bundle/${'x'.repeat(65)}`), 400, { expression: ['id'] });
    });

    it('answer 405 with Allow for an unsupported method, and 404 for an unknown path', async () => {
      const response = await node.server.inject({ method: 'DELETE', url: '/fhir/Bundle/some-id' });
      expectOutcome(response, 405, { code: 'not-supported' });
      expect(response.headers['allow']).toBe('PUT, GET, HEAD');
      expectOutcome(await node.server.inject('/fhir/Observation'), 404, { code: 'not-found' });
    });

    it('answer 406 to a client that accepts only XML, or asks _format=xml', async () => {
      expectOutcome(await node.server.inject({ url: '/fhir/metadata', headers: { accept: 'application/fhir+xml' } }), 406, { code: 'not-supported' });
      expectOutcome(await node.server.inject('/fhir/metadata?_format=xml'), 406, { expression: ['_format'] });
      const json = await node.server.inject({ url: '/fhir/metadata', headers: { accept: 'application/json' } });
      expect(json.headers['content-type']).toBe('application/json; charset=utf-8');
    });

    it('echo an acceptable X-Request-Id (a UUID, optionally after words) and replace an unacceptable one', async () => {
      for (const id of ['0a1b2c3d-0000-4000-8000-000000000123', 'trace-0a1b2c3d-0000-4000-8000-000000000123']) {
        const given = await node.server.inject({ url: '/fhir/metadata', headers: { 'x-request-id': id } });
        expect(given.headers['x-request-id']).toBe(id);
      }
      // Anything else could carry data into every log line: a national identifier, a name, spaces.
      for (const id of ['bad id\twith spaces', '1238140358', 'trace-123', 'AT1238140358-0a1b2c3d-0000-4000-8000-000000000123']) {
        const replaced = await node.server.inject({ url: '/fhir/Nope', headers: { 'x-request-id': id } });
        expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      }
    });
  });

  describe('GET /fhir/metadata', () => {
    it('lists exactly the interactions, search parameters and operation this node supports', async () => {
      const statement = bodyOf<Json>(await node.server.inject('/fhir/metadata'));
      expect(statement['resourceType']).toBe('CapabilityStatement');
      expect(statement['fhirVersion']).toBe('4.0.1');
      const resources = statement['rest'][0].resource as Json[];
      const byType = Object.fromEntries(resources.map((r) => [r['type'], r]));
      expect(Object.keys(byType).sort()).toEqual(['AuditEvent', 'Bundle', 'Consent', 'OperationDefinition', 'Patient']);
      expect(byType['Consent']['interaction'].map((i: Json) => i.code)).toEqual(['read', 'vread', 'update', 'history-instance', 'create', 'search-type']);
      expect(statement['rest'][0].security.service[0].coding[0].code).toBe('OAuth');
      expect(byType['Bundle']['supportedProfile']).toEqual(['http://hl7.org/fhir/uv/ips/StructureDefinition/Bundle-uv-ips']);
      expect(byType['Bundle']['interaction'].map((i: Json) => i.code)).toEqual(['read', 'vread', 'update', 'history-instance', 'create']);
      expect(byType['Patient']['searchParam'].map((p: Json) => p.name)).toEqual(['identifier', 'family', 'given', 'birthdate', 'gender', '_count', '_offset', '_summary', '_elements']);
      expect(byType['Patient']['operation']).toEqual([{ name: 'summary', definition: 'http://hl7.org/fhir/uv/ips/OperationDefinition/summary' }]);
      expect(statement['rest'][0].operation).toEqual([{ name: 'validate', definition: 'http://hl7.org/fhir/OperationDefinition/Resource-validate' }]);
      const definition = bodyOf<Json>(await node.server.inject('/fhir/OperationDefinition/summary'));
      expect(definition['url']).toBe('http://hl7.org/fhir/uv/ips/OperationDefinition/summary');
    });
  });
});
