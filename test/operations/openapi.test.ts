import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { memoryBackend } from '../support/stores.js';
import { bodyOf, buildTestNode, type Json, type TestNode } from '../support/test-node.js';

let node: TestNode;
let document: Json;
const NO_TOKEN = { authorization: 'none' };

beforeAll(async () => {
  node = await buildTestNode(memoryBackend, { PONTIS_METRICS_TOKEN: 'operator-token-0123456789-abcdefghijklmnop' });
  const response = await node.server.inject({ url: '/openapi.json', headers: NO_TOKEN });
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  document = bodyOf<Json>(response);
});
afterAll(() => node.cleanup());

describe('/openapi.json', () => {
  it('describes every route of the table (OpenAPI 3.0), and nothing that is not routed', () => {
    expect(document['openapi']).toMatch(/^3\.0\./);
    const routed = node.server
      .table()
      .filter((r) => !['*', 'head', 'options'].includes(String(r.method)))
      .map((r) => `${r.method} ${r.path}`)
      .sort();
    const described = Object.entries(document['paths'] as Record<string, Json>)
      .flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m} ${path}`))
      .sort();
    expect(described).toEqual(routed);
    for (const expected of ['get /fhir/Patient', 'post /fhir/Bundle', 'get /fhir/Consent/{id}/_history/{vid}', 'post /fhir/{type}/$validate', 'get /health/ready', 'get /metrics', 'get /openapi.json']) {
      expect(described).toContain(expected);
    }
  });

  it("takes parameters from the routes' joi schemas: names, where, required, types, limits, patterns, enums", () => {
    const search = document['paths']['/fhir/Patient'].get.parameters as Json[];
    const byName = Object.fromEntries(search.map((p) => [p['name'], p]));
    expect(Object.keys(byName)).toEqual(expect.arrayContaining(['identifier', 'family', 'given', 'birthdate', 'gender', '_count', '_offset', '_summary', '_format']));
    expect(byName['_count']).toEqual({ name: '_count', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } });
    expect(byName['gender'].schema.enum).toEqual(['male', 'female', 'other', 'unknown']);
    expect(new RegExp(byName['birthdate'].schema.pattern).test('ge1980-05')).toBe(true);
    const vread = document['paths']['/fhir/Bundle/{id}/_history/{vid}'].get.parameters as Json[];
    expect(vread.filter((p) => p['in'] === 'path').map((p) => [p['name'], p['required'], p['schema'].type])).toEqual([
      ['id', true, 'string'],
      ['vid', true, 'integer'],
    ]);
    const audit = Object.fromEntries((document['paths']['/fhir/AuditEvent'].get.parameters as Json[]).map((p) => [p['name'], p]));
    expect(audit['patient'].required).toBe(true);
    const update = (document['paths']['/fhir/Bundle/{id}'].put.parameters as Json[]).map((p) => `${p['in']} ${p['name']}`);
    expect(update).toEqual(expect.arrayContaining(['header If-Match', 'path id']));
    expect(document['paths']['/fhir/Bundle'].post.requestBody.content['application/fhir+json'].schema).toEqual({ $ref: '#/components/schemas/Resource' });
  });

  it('names the bearer scheme, and says which routes need no token', () => {
    expect(document['components'].securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    expect(document['security']).toEqual([{ bearer: [] }]);
    expect(document['paths']['/fhir/metadata'].get.security).toEqual([]);
    expect(document['paths']['/health/ready'].get.security).toEqual([]);
    expect(document['paths']['/fhir/Patient'].get).not.toHaveProperty('security');
  });

  it('documents every answer the node gives, errors as OperationOutcomes', async () => {
    const samples: [string, string, Record<string, string>?][] = [
      ['get', '/fhir/Patient?family=x'],
      ['get', '/fhir/Patient'],
      ['get', '/fhir/Patient?family=x', NO_TOKEN],
      ['get', '/fhir/Patient/nobody'],
      ['get', '/fhir/Patient?family=x', { accept: 'application/xml' }],
      ['put', '/fhir/Bundle/x'],
      ['get', '/fhir/metadata'],
      ['get', '/health/live'],
    ];
    for (const [method, url, headers] of samples) {
      const response = await node.server.inject({ method, url, ...(headers ? { headers } : {}) });
      const route = node.server.match(method as 'get', url.split('?')[0]!)!.path;
      const documented = document['paths'][route][method].responses as Record<string, Json>;
      expect([url, String(response.statusCode) in documented]).toEqual([url, true]);
      if (response.statusCode >= 400 && url.startsWith('/fhir/')) {
        expect(documented[String(response.statusCode)]!['content']['application/fhir+json'].schema).toEqual({ $ref: '#/components/schemas/OperationOutcome' });
        expect(bodyOf<Json>(response)['resourceType']).toBe('OperationOutcome');
      }
    }
  });

  it('answers a method a path does not have with 405 and Allow, whatever else is wrong (found by schemathesis)', async () => {
    for (const method of ['TRACE', 'PATCH', 'DELETE']) {
      const response = await node.server.inject({ method, url: '/fhir/Bundle/x/_history?_format=xml', headers: { accept: 'application/xml' } });
      expect(response.statusCode).toBe(405);
      expect(response.headers['allow']).toBe('GET, HEAD');
      expect(bodyOf<Json>(response)['resourceType']).toBe('OperationOutcome');
    }
    // Outside /fhir too: health, the description and the token-guarded metrics.
    for (const [url, allow] of [['/health/live', 'GET, HEAD'], ['/health/ready', 'GET, HEAD'], ['/openapi.json', 'GET, HEAD'], ['/openapi.html', 'GET, HEAD'], ['/metrics', 'GET, HEAD']] as const) {
      const response = await node.server.inject({ method: 'TRACE', url, headers: NO_TOKEN });
      expect([url, response.statusCode, response.headers['allow']]).toEqual([url, 405, allow]);
    }
  });
});

describe('/openapi.html', () => {
  it('renders the description for people outside production, and not in production', async () => {
    const page = await node.server.inject({ url: '/openapi.html', headers: NO_TOKEN });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.payload).toContain('<code>/fhir/Patient/{id}/$summary</code>');
    const production = await buildTestNode(memoryBackend, { NODE_ENV: 'production' });
    try {
      expect((await production.server.inject({ url: '/openapi.html', headers: NO_TOKEN })).statusCode).toBe(404);
      expect((await production.server.inject({ url: '/openapi.json', headers: NO_TOKEN })).statusCode).toBe(200);
    } finally {
      await production.cleanup();
    }
  });
});
