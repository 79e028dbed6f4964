import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { backends } from '../support/stores.js';
import { bodyOf, buildTestNode, ipsExample, ipsExampleBundles, send, type Json, type TestNode } from '../support/test-node.js';

/** The document without what the server assigns. */
function content(bundle: Json): Json {
  const { id: _id, meta, ...rest } = bundle;
  const { versionId: _v, lastUpdated: _l, ...clientMeta } = (meta ?? {}) as Json;
  return Object.keys(clientMeta).length > 0 ? { ...rest, meta: clientMeta } : rest;
}

// Two official examples share one Bundle.identifier with different content (see profiles/README.md).
const SHARED_IDENTIFIER = ['Bundle-IPS-examples-Bundle-01.json', 'Bundle-IPS-examples-Bundle-with-immunization.json'];

describe.each(backends)('official IPS 2.0.0 examples on the $name', (backend) => {
  let node: TestNode;
  beforeAll(async () => {
    node = await buildTestNode(backend);
  });
  afterAll(async () => {
    await node?.cleanup();
  });

  it.each(ipsExampleBundles().filter((f) => f !== SHARED_IDENTIFIER[1]))('push %s and read it back unchanged but for id and meta', async (file) => {
    const original = ipsExample(file);
    const created = await send(node.server, 'POST', '/fhir/Bundle', original);
    expect(created.statusCode).toBe(201);
    const stored = bodyOf<Json>(created);
    expect(stored['id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(stored['meta']).toMatchObject({ versionId: '1' });
    expect(created.headers['location']).toBe(`http://at.example/fhir/Bundle/${stored['id']}/_history/1`);
    expect(created.headers['etag']).toBe('W/"1"');

    const read = await node.server.inject(`/fhir/Bundle/${stored['id']}`);
    expect(read.statusCode).toBe(200);
    expect(content(bodyOf<Json>(read))).toEqual(content(original));
    expect(bodyOf<Json>(read)['meta']['lastUpdated']).toBe(stored['meta']['lastUpdated']);

    const summary = await node.server.inject(`/fhir/Patient/$summary?identifier=${encodeURIComponent(firstIdentifier(original))}`);
    if (firstIdentifier(original) !== '') expect(content(bodyOf<Json>(summary))).toEqual(content(original));
  });

  it('refuse the example that reuses another example\'s identifier with different content (409)', async () => {
    await send(node.server, 'POST', '/fhir/Bundle', ipsExample(SHARED_IDENTIFIER[0]!));
    const conflict = await send(node.server, 'POST', '/fhir/Bundle', ipsExample(SHARED_IDENTIFIER[1]!));
    expect(conflict.statusCode).toBe(409);
    expect(bodyOf<Json>(conflict)['issue'][0]).toMatchObject({ severity: 'error', code: 'duplicate', expression: ['Bundle.identifier'] });
  });

  it('store that example too on a node that has not seen the other', async () => {
    const fresh = await buildTestNode(backend);
    try {
      const original = ipsExample(SHARED_IDENTIFIER[1]!);
      const created = await send(fresh.server, 'POST', '/fhir/Bundle', original);
      expect(created.statusCode).toBe(201);
      const read = await fresh.server.inject(`/fhir/Bundle/${bodyOf<Json>(created)['id']}`);
      expect(content(bodyOf<Json>(read))).toEqual(content(original));
    } finally {
      await fresh.cleanup();
    }
  });
});

/** `system|value` of the Patient's first identifier in a document, or ''. */
function firstIdentifier(bundle: Json): string {
  const patient = (bundle['entry'] as Json[]).find((e) => e['resource']['resourceType'] === 'Patient')!['resource'];
  const id = patient['identifier']?.[0];
  return id?.system && id?.value ? `${id.system}|${id.value}` : '';
}
