import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ServerInjectResponse } from '@hapi/hapi';
import { randomUUID } from 'node:crypto';
import { mintDemoToken } from '../../src/auth/demo-tokens.js';
import { TOKEN_REPLAYED } from '../../src/auth/token-verifier.js';
import { MemoryDatabase } from '../../src/repositories/memory-database.js';
import { InterceptingDatabase } from '../support/intercepting-database.js';
import { backends, memoryBackend, type Backend } from '../support/stores.js';
import { bodyOf, buildTestNode, documentFor, hospitalToken, send, type Json, type TestNode } from '../support/test-node.js';

/** A document of a new patient. */
const fresh = (): Json => documentFor(`RR-${randomUUID()}`, '2026-01-02T00:00:00Z');

/** A token of the demo hospital that has stored one document: from now on, a replay. */
async function usedToken(node: TestNode): Promise<string> {
  const token = await hospitalToken(node.config.baseUrl);
  expect((await send(node.server, 'POST', '/fhir/Bundle', fresh(), { authorization: `Bearer ${token}` })).statusCode).toBe(201);
  return token;
}

/** What a replay refused by the push's handler answers: every replay must answer the same. */
async function handlerReplay(node: TestNode): Promise<ServerInjectResponse> {
  const token = await usedToken(node);
  const refused = await send(node.server, 'POST', '/fhir/Bundle', fresh(), { authorization: `Bearer ${token}` });
  expect(refused.statusCode).toBe(401);
  return refused;
}

/** `response` is the replay's 401, as the handler answers it (body and headers). */
function expectReplayed(response: ServerInjectResponse, reference: ServerInjectResponse): void {
  expect(response.statusCode).toBe(401);
  expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
  const { date: _date, ...headers } = response.headers;
  const { date: _referenceDate, ...referenceHeaders } = reference.headers;
  expect(headers).toEqual(referenceHeaders);
  const outcome = bodyOf<Json>(response);
  expect(outcome).toEqual(bodyOf<Json>(reference));
  expect(outcome['issue'][0]).toMatchObject({ code: 'login', diagnostics: expect.stringMatching(/already used \(jti\)/) });
}

/** A body larger than `bytes`: a document padded with spaces (valid JSON). */
function paddedTo(bytes: number): string {
  const text = JSON.stringify(fresh());
  return text + ' '.repeat(Math.max(0, bytes - text.length));
}

/** How many of the node's audit records say `text` (their outcome is `HTTP <status>: <diagnostics>`). */
async function auditedWith(node: TestNode, text: string): Promise<number> {
  const records = await node.store.database.collection<{ _id: string; json: string }>('audit_events').find({});
  return records.filter((r) => r.json.includes(text)).length;
}

/** How many documents the node stores. */
async function storedDocuments(node: TestNode): Promise<number> {
  return node.store.database.collection('summaries').count({});
}

/**
 * `POST /fhir/Bundle` claims its write token after it is verified, without waiting
 * (`claimsTokenItself`): a request with a replayed token that is refused before the handler
 * awaits the claim (scope, content negotiation, parameters, media type, body size, request
 * budget, store bound) must still answer the replay's 401, never its own refusal, which would tell
 * that the token was once good and what it grants. A token used for the first time keeps its
 * own refusal.
 */
describe.each(backends)('a replayed push token refused before the handler, on the $name', (backend) => {
  let node: TestNode;
  let reference: ServerInjectResponse;

  beforeAll(async () => {
    node = await buildTestNode(backend, { PONTIS_MAX_PAYLOAD_BYTES: String(256 * 1024) });
    reference = await handlerReplay(node);
  });
  afterAll(async () => {
    await node.cleanup();
  });

  it('answers 401, not 403, when the replayed token does not grant create on Bundle', async () => {
    // A write token (Consent create and update) without Bundle create: its claim is deferred too.
    const token = await mintDemoToken({ audience: node.config.baseUrl, scope: 'system/Consent.cu' });
    const headers = { authorization: `Bearer ${token}` };
    const first = await send(node.server, 'POST', '/fhir/Bundle', fresh(), headers);
    expect(first.statusCode).toBe(403);
    expect(bodyOf<Json>(first)['issue'][0].diagnostics).toMatch(/does not grant c on Bundle/);
    const documents = await storedDocuments(node);
    const replaysAudited = await auditedWith(node, `HTTP 401: ${TOKEN_REPLAYED}`);
    expectReplayed(await send(node.server, 'POST', '/fhir/Bundle', fresh(), headers), reference);
    expect(await storedDocuments(node)).toBe(documents);
    // Audited as what was answered: the replay's 401, and the 403 once only (the first use).
    expect(await auditedWith(node, `HTTP 401: ${TOKEN_REPLAYED}`)).toBe(replaysAudited + 1);
    expect(await auditedWith(node, 'HTTP 403: the token does not grant c on Bundle')).toBe(1);
  });

  const earlyRefusals: { name: string; status: number; request: (token: string) => Promise<ServerInjectResponse> }[] = [
    {
      name: 'a format it does not produce (406)',
      status: 406,
      request: (token) => send(node.server, 'POST', '/fhir/Bundle', fresh(), { authorization: `Bearer ${token}`, accept: 'application/fhir+xml' }),
    },
    {
      name: 'an unknown parameter (400)',
      status: 400,
      request: (token) => send(node.server, 'POST', '/fhir/Bundle?colour=blue', fresh(), { authorization: `Bearer ${token}` }),
    },
    {
      name: 'a media type it does not take (415)',
      status: 415,
      request: (token) => send(node.server, 'POST', '/fhir/Bundle', fresh(), { authorization: `Bearer ${token}`, 'content-type': 'text/plain' }),
    },
    {
      name: 'a body over the limit (413)',
      status: 413,
      request: (token) => send(node.server, 'POST', '/fhir/Bundle', paddedTo(300 * 1024), { authorization: `Bearer ${token}` }),
    },
  ];

  it.each(earlyRefusals)('answers 401 for $name with a replayed token, its own refusal for a fresh one', async ({ status, request }) => {
    expect((await request(await hospitalToken(node.config.baseUrl))).statusCode).toBe(status);
    const token = await usedToken(node);
    const documents = await storedDocuments(node);
    expectReplayed(await request(token), reference);
    expect(await storedDocuments(node)).toBe(documents);
  });

  it("answers 401 for a replayed token over its requester's budget (429), 429 for a fresh one", async () => {
    const limited = await buildTestNode(backend, { PONTIS_LIMIT_PER_REQUESTER: '1', PONTIS_LIMIT_WINDOW_S: '3600' });
    try {
      const token = await usedToken(limited);
      const documents = await storedDocuments(limited);
      expectReplayed(await send(limited.server, 'POST', '/fhir/Bundle', fresh(), { authorization: `Bearer ${token}` }), reference);
      expect((await send(limited.server, 'POST', '/fhir/Bundle', fresh())).statusCode).toBe(429);
      expect(await storedDocuments(limited)).toBe(documents);
    } finally {
      await limited.cleanup();
    }
  });
});

describe('a replayed push token refused by the embedded store bound', () => {
  const bounded: Backend = {
    name: 'embedded store of 1 MiB',
    async open() {
      const database = new MemoryDatabase({ maxBytes: 1024 * 1024 });
      return { database, cleanup: () => database.close() };
    },
  };
  let node: TestNode;

  beforeAll(async () => {
    node = await buildTestNode(bounded);
  });
  afterAll(async () => {
    await node.cleanup();
  });

  it('answers 401, not 507, for a write the store could not take with a replayed token', async () => {
    const reference = await handlerReplay(node);
    // Room for twice the body and 64 KB besides: more than the patient data's 896 KiB.
    const large = paddedTo(480 * 1024);
    expect((await send(node.server, 'POST', '/fhir/Bundle', large)).statusCode).toBe(507);
    const token = await usedToken(node);
    const documents = await storedDocuments(node);
    expectReplayed(await send(node.server, 'POST', '/fhir/Bundle', large, { authorization: `Bearer ${token}` }), reference);
    expect(await storedDocuments(node)).toBe(documents);
  });
});

describe('a push token whose claim the store could not make, refused before the handler', () => {
  let failClaims = false;
  const failing: Backend = {
    name: 'embedded store whose token claims fail',
    async open() {
      const opened = await memoryBackend.open();
      const database = new InterceptingDatabase(opened.database, (operation, call) =>
        failClaims && operation === 'claims.insertOne' ? Promise.reject(new Error('store unreachable')) : call(),
      );
      return { database, cleanup: opened.cleanup };
    },
  };
  let node: TestNode;

  beforeAll(async () => {
    node = await buildTestNode(failing);
  });
  afterAll(async () => {
    await node.cleanup();
  });

  it('answers 500, not its own refusal: whether the token is a replay is not known', async () => {
    const token = await mintDemoToken({ audience: node.config.baseUrl, scope: 'system/Consent.cu' });
    failClaims = true;
    const refused = await send(node.server, 'POST', '/fhir/Bundle', fresh(), { authorization: `Bearer ${token}` });
    failClaims = false;
    expect(refused.statusCode).toBe(500);
    expect(bodyOf<Json>(refused)['issue'][0]).toMatchObject({ code: 'exception', diagnostics: expect.not.stringMatching(/grant|Bundle/) });
  });
});
