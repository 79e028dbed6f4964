import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { rawExchange } from '../support/raw-http.js';
import { memoryBackend } from '../support/stores.js';
import { bodyOf, buildTestNode, type Json, type TestNode } from '../support/test-node.js';

/**
 * Regression tests for what the fuzzer (fuzz.test.ts) found, each reduced to its smallest
 * request.
 */

let node: TestNode;

beforeAll(async () => {
  node = await buildTestNode(memoryBackend, { HOST: '127.0.0.1', PORT: '0' });
  await node.server.start();
});
afterAll(async () => {
  await node?.cleanup();
});

describe('found by fuzzing', () => {
  it('a Cookie header hapi cannot parse: 400 OperationOutcome whose issue has a severity, a code and a message, nothing of the cookie echoed', async () => {
    const response = await node.server.inject({ url: '/fhir/metadata', headers: { cookie: 'zqmk00000001"=' } });
    expect(response.statusCode).toBe(400);
    const outcome = bodyOf<Json>(response);
    expect(outcome['resourceType']).toBe('OperationOutcome');
    expect(outcome['issue']).toHaveLength(1);
    expect(outcome['issue'][0]).toMatchObject({ severity: 'error', code: 'invalid', diagnostics: expect.any(String) });
    expect(response.payload).not.toContain('zqmk00000001');
  });

  it('a token whose header names a non-ASCII algorithm: 401 OperationOutcome, not 500 (the refusal reason went into WWW-Authenticate)', async () => {
    const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const token = `${part({ alg: 'é', typ: 'JWT' })}.${part({ iss: 'x' })}.`;
    const response = await node.server.inject({ url: '/fhir/Patient/x', headers: { authorization: `Bearer ${token}` } });
    expect(response.statusCode).toBe(401);
    expect(bodyOf<Json>(response)['resourceType']).toBe('OperationOutcome');
    expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
  });

  it('a Range header beyond the answer: the answer, or an OperationOutcome (hapi answered 416 with its own JSON)', async () => {
    const response = await node.server.inject({ url: '/fhir/metadata', headers: { range: 'bytes=999999-' } });
    if (response.statusCode >= 400) expect(bodyOf<Json>(response)['resourceType']).toBe('OperationOutcome');
    else expect(bodyOf<Json>(response)['resourceType']).toBe('CapabilityStatement');
  });

  it('a CONNECT request over a socket: answered with an OperationOutcome (Node closed the connection without a word)', async () => {
    const exchange = await rawExchange(node.server.info.port as number, [Buffer.from('CONNECT at.example:443 HTTP/1.1\r\nHost: at.example:443\r\n\r\n')], { expected: 1, timeoutMs: 3000 });
    expect(exchange.responses).toHaveLength(1);
    const [answer] = exchange.responses;
    expect(answer!.status).toBeGreaterThanOrEqual(400);
    expect(answer!.status).toBeLessThan(500);
    expect((JSON.parse(answer!.body.toString('utf8')) as Json)['resourceType']).toBe('OperationOutcome');
  });
});
