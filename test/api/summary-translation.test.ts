import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { backends, memoryBackend } from '../support/stores.js';
import { allSections, bodyOf, buildTestNode, demoTerminology, patientOf, send, type Json, type TestNode } from '../support/test-node.js';
import { TRANSLATED_TAG, TRANSLATION_EXTENSION } from '../../src/terminology/summary-translator.js';

/** `$summary` in the reader's language: Accept-Language on a node with the demo catalogue. */

const SUMMARY = '/fhir/Patient/$summary?identifier=urn:test:national|T1';

describe.each(backends)('$summary and Accept-Language on the $name', (backend) => {
  let node: TestNode;
  let patientId: string;
  let stored: string;

  beforeAll(async () => {
    node = await buildTestNode(backend, {}, undefined, { terminology: demoTerminology() });
    const document = allSections();
    document['identifier'] = { system: 'urn:test:documents', value: 'translation-T1' };
    patientOf(document)['identifier'] = [{ system: 'urn:test:national', value: 'T1' }];
    const created = await send(node.server, 'POST', '/fhir/Bundle', document);
    expect(created.statusCode).toBe(201);
    const read = await node.server.inject(`/fhir/Bundle/${bodyOf<Json>(created)['id']}`);
    stored = read.payload;
    patientId = bodyOf<Json>(await node.server.inject('/fhir/Patient?identifier=urn:test:national|T1'))['entry'][0].resource.id;
  });
  afterAll(async () => {
    await node?.cleanup();
  });

  const summary = (headers: Record<string, string> = {}, url = SUMMARY) => node.server.inject({ url, headers });

  it('answers without Accept-Language with the stored bytes exactly, saying the answer varies by language', async () => {
    const response = await summary();
    expect(response.statusCode).toBe(200);
    expect(response.payload).toBe(stored);
    expect(response.headers['content-language']).toBeUndefined();
    expect(response.headers['x-pontis-translation']).toBeUndefined();
    expect(response.headers['vary']).toMatch(/accept-language/i);
    expect(response.headers['etag']).toBe('W/"1"');
  });

  it('translates into the first language the catalogue has, keeping every original display', async () => {
    const response = await summary({ 'accept-language': 'ja;q=1, pt-PT;q=0.9, en;q=0.5' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-language']).toBe('pt');
    expect(response.headers['x-pontis-translation']).toBe('codes=118/118; titles=16/16');
    expect(response.headers['etag']).toBe('W/"1-pt"');
    expect(response.headers['vary']).toMatch(/accept-language/i);
    const body = bodyOf<Json>(response);
    const allergies = (body['entry'][0].resource.section as Json[]).find((s) => s['code'].coding[0].code === '48765-2')!;
    expect(allergies['title']).toBe('Allergies and Intolerances');
    expect(allergies['_title'].extension[0]).toEqual({ url: TRANSLATION_EXTENSION, extension: [{ url: 'lang', valueCode: 'pt' }, { url: 'content', valueString: 'Alergias e intolerâncias' }] });
    expect(body['meta'].tag).toContainEqual(TRANSLATED_TAG);
    expect((body['entry'] as Json[]).at(-1)!['resource'].resourceType).toBe('Provenance');
    // The same stored version in the same language: the same copy.
    expect((await summary({ 'accept-language': 'pt' })).payload).toBe(response.payload);
  });

  it('translates at instance level as well', async () => {
    const response = await summary({ 'accept-language': 'de-AT' }, `/fhir/Patient/${patientId}/$summary`);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-language']).toBe('de');
    expect(bodyOf<Json>(response)['entry'][0].resource.section[0]._title.extension[0].extension[1].valueString).toBe('Problemliste');
  });

  it("answers a reader of the document's language, of *, or of a language the catalogue lacks with the stored bytes", async () => {
    for (const header of ['en-GB', 'en', '*', 'ja, ko;q=0.5']) {
      const response = await summary({ 'accept-language': header });
      expect({ header, status: response.statusCode, same: response.payload === stored }).toEqual({ header, status: 200, same: true });
      expect(response.headers['content-language']).toBe('en-NZ');
      expect(response.headers['x-pontis-translation']).toBeUndefined();
      expect(response.headers['etag']).toBe('W/"1"');
    }
    // Every language refused (q=0): as without the header.
    expect((await summary({ 'accept-language': 'pt;q=0' })).payload).toBe(stored);
  });

  it('refuses a malformed Accept-Language with a 400 OperationOutcome', async () => {
    for (const header of ['de;q=0.5;foo=bar', ';;;', `${'a'.repeat(8)},`.repeat(150)]) {
      const response = await summary({ 'accept-language': header });
      expect(response.statusCode).toBe(400);
      expect(bodyOf<Json>(response)).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid', diagnostics: expect.stringMatching(/Accept-Language/) }] });
    }
  });
});

describe('a node without a catalogue', () => {
  it('serves the stored bytes whatever the Accept-Language', async () => {
    const node = await buildTestNode(memoryBackend);
    try {
      const document = allSections();
      patientOf(document)['identifier'] = [{ system: 'urn:test:national', value: 'T1' }];
      expect((await send(node.server, 'POST', '/fhir/Bundle', document)).statusCode).toBe(201);
      const plain = await node.server.inject(SUMMARY);
      const asked = await node.server.inject({ url: SUMMARY, headers: { 'accept-language': 'pt-PT' } });
      expect(asked.statusCode).toBe(200);
      expect(asked.payload).toBe(plain.payload);
      expect(asked.headers['content-language']).toBeUndefined();
      expect(asked.headers['vary'] ?? '').not.toMatch(/accept-language/i);
    } finally {
      await node.cleanup();
    }
  });
});
