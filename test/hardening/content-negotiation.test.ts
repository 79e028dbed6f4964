import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mintDemoToken } from '../../src/auth/demo-tokens.js';
import { memoryBackend } from '../support/stores.js';
import { bodyOf, buildTestNode, type Json, type TestNode } from '../support/test-node.js';

/** A 406 is an answer like any other: given after authentication, and audited on patient-data routes. */

let node: TestNode;
beforeAll(async () => {
  node = await buildTestNode(memoryBackend);
});
afterAll(async () => {
  await node?.cleanup();
});

const SUMMARY = '/fhir/Patient/$summary?identifier=urn:oid:1.2.40.0.10.1.4.3.1|1238140358';

/** Every audit record of the node whose AuditEvent names `requestId`. */
async function auditedRequest(requestId: string): Promise<Json[]> {
  const found: Json[] = [];
  for (const head of await node.store.audit.heads()) {
    for (const record of await node.store.audit.chainPage(head._id, 0, 10_000)) {
      const event = JSON.parse(record.json) as Json;
      if ((event['entity'] as Json[]).some((e) => e['what']?.identifier?.value === requestId)) found.push(event);
    }
  }
  return found;
}

describe('content negotiation after authentication', () => {
  it.each([
    ['Accept: application/fhir+xml', { accept: 'application/fhir+xml' }, SUMMARY],
    ['_format=xml', {}, `${SUMMARY}&_format=xml`],
  ])('%s without a token: 401, not 406', async (_name, headers, url) => {
    const response = await node.server.inject({ url, headers: { ...headers, authorization: 'none' } });
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(bodyOf<Json>(response)['resourceType']).toBe('OperationOutcome');
  });

  it('with a forged token: 401, not 406', async () => {
    const token = await mintDemoToken({ audience: node.config.baseUrl, country: 'AT' });
    const forged = `${token.slice(0, -4)}AAAA`;
    const response = await node.server.inject({ url: SUMMARY, headers: { accept: 'application/xml', authorization: `Bearer ${forged}` } });
    expect(response.statusCode).toBe(401);
  });

  it('with a valid token on a patient-data route: 406 OperationOutcome and exactly one audit record', async () => {
    const token = await mintDemoToken({ audience: node.config.baseUrl, country: 'AT' });
    const requestId = `neg-${randomUUID()}`;
    const response = await node.server.inject({ url: SUMMARY, headers: { accept: 'application/xml', authorization: `Bearer ${token}`, 'x-request-id': requestId } });
    expect(response.statusCode).toBe(406);
    expect(response.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
    expect(bodyOf<Json>(response)['issue'][0]).toMatchObject({ code: 'not-supported' });
    const events = await auditedRequest(requestId);
    expect(events).toHaveLength(1);
    expect(events[0]!['outcome']).toBe('4');
    expect(events[0]!['agent'][0].who.identifier.value).toBeDefined();
  });

  it('metadata (no token needed) still answers 406 for XML', async () => {
    const response = await node.server.inject({ url: '/fhir/metadata', headers: { accept: 'application/fhir+xml', authorization: 'none' } });
    expect(response.statusCode).toBe(406);
  });
});
