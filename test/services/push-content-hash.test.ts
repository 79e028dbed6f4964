import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { backends } from '../support/stores.js';
import { bodyOf, buildTestNode, documentFor, send, type Json, type TestNode } from '../support/test-node.js';

/**
 * A push stores no content hash (issue 16: hashing every pushed document cost about 1 ms of an
 * all-sections push, and only a retry, a conflicting push or an update compares it): those
 * take it from the stored bytes, and must answer as when every push stored one.
 */
describe.each(backends)('content comparison of pushed documents on the $name', (backend) => {
  let node: TestNode;
  beforeAll(async () => {
    node = await buildTestNode(backend);
  });
  afterAll(async () => {
    await node?.cleanup();
  });

  it('recognises a retry with its members in another order, and refuses other content under the same identifier (409)', async () => {
    const document = documentFor('HASH-1', '2026-01-01T00:00:00Z');
    const first = await send(node.server, 'POST', '/fhir/Bundle', document);
    expect(first.statusCode).toBe(201);
    const retried = await send(node.server, 'POST', '/fhir/Bundle', Object.fromEntries(Object.entries(document).reverse()));
    expect(retried.statusCode).toBe(200);
    expect(bodyOf<Json>(retried)['id']).toBe(bodyOf<Json>(first)['id']);
    const other = await send(node.server, 'POST', '/fhir/Bundle', { ...document, language: 'de-AT' });
    expect(other.statusCode).toBe(409);
    expect(bodyOf<Json>(other)['issue'][0]).toMatchObject({ code: 'duplicate', expression: ['Bundle.identifier'] });
  });

  it('treats an update with the stored content as no new version, before and after a real update', async () => {
    const pushed = bodyOf<Json>(await send(node.server, 'POST', '/fhir/Bundle', documentFor('HASH-2', '2026-01-01T00:00:00Z')));
    const id = pushed['id'] as string;
    const same = await send(node.server, 'PUT', `/fhir/Bundle/${id}`, Object.fromEntries(Object.entries(pushed).reverse()), { 'if-match': 'W/"1"' });
    expect(same.statusCode).toBe(200);
    expect(same.headers['etag']).toBe('W/"1"');
    const changed = await send(node.server, 'PUT', `/fhir/Bundle/${id}`, { ...pushed, language: 'de-AT' }, { 'if-match': 'W/"1"' });
    expect(changed.headers['etag']).toBe('W/"2"');
    const again = await send(node.server, 'PUT', `/fhir/Bundle/${id}`, { ...pushed, language: 'de-AT' }, { 'if-match': 'W/"2"' });
    expect(again.statusCode).toBe(200);
    expect(again.headers['etag']).toBe('W/"2"');
    const retried = await send(node.server, 'POST', '/fhir/Bundle', { ...pushed, language: 'de-AT' });
    expect(retried.statusCode).toBe(200);
    expect(bodyOf<Json>(retried)['meta']['versionId']).toBe('2');
  });
});
