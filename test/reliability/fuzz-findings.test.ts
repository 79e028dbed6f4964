import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { memoryBackend } from '../support/stores.js';
import { bodyOf, buildTestNode, type Json, type TestNode } from '../support/test-node.js';

/**
 * Regression tests for what the fuzzer (fuzz.test.ts) found, each reduced to its smallest
 * request.
 */

let node: TestNode;

beforeAll(async () => {
  node = await buildTestNode(memoryBackend);
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
});
