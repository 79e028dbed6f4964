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

describe('request bodies', () => {
  it.each([
    ['a __proto__ member', (text: string) => text.replace('"resourceType":"Bundle"', '"resourceType":"Bundle","__proto__":{"polluted":true}')],
    ['an escaped __proto__ member', (text: string) => text.replace('"resourceType":"Bundle"', '"resourceType":"Bundle","\\u005f_proto__":{"polluted":true}')],
    ['a __proto__ member escaped in its middle', (text: string) => text.replace('"resourceType":"Bundle"', '"resourceType":"Bundle","_\\u005fproto__":{"polluted":true}')],
  ])('with %s are refused (400), and nothing is stored', async (_name, poison) => {
    const bundle = minimal();
    bundle['identifier'] = { system: 'urn:test:documents', value: `proto-${_name.length}` };
    const response = await send(node.server, 'POST', '/fhir/Bundle', poison(JSON.stringify(bundle)));
    expect(response.statusCode).toBe(400);
    expect(bodyOf<Json>(response)['issue'][0]).toMatchObject({ code: 'structure' });
    expect(({} as Json)['polluted']).toBeUndefined();
    const search = bodyOf<Json>(await node.server.inject('/fhir/Patient?family=DeLarosa'));
    expect(search['total']).toBe(0);
  });
});
