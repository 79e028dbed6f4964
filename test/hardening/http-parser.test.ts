import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect } from 'node:net';
import { mintDemoToken } from '../../src/auth/demo-tokens.js';
import { captureLog, type CapturedLog } from '../support/log-sink.js';
import { memoryBackend } from '../support/stores.js';
import { buildTestNode, type Json, type TestNode } from '../support/test-node.js';

/**
 * What Node's HTTP parser refuses never reaches a log line and is answered with an
 * OperationOutcome, over a real socket (hapi's inject bypasses the parser).
 */

const IDENTIFIER = 'urn:oid:1.2.40.0.10.1.4.3.1|1238140358';
let node: TestNode;
let log: CapturedLog;
let port: number;

beforeAll(async () => {
  log = captureLog();
  node = await buildTestNode(memoryBackend, { HOST: '127.0.0.1', PORT: '0', PONTIS_HEADERS_TIMEOUT_MS: '1000', PONTIS_REQUEST_TIMEOUT_MS: '2000' }, log.logger);
  await node.server.start();
  port = node.server.info.port as number;
});
afterAll(async () => {
  await node?.cleanup();
});

/** Sends raw bytes, optionally keeping the connection open, and resolves with everything received until close. */
function raw(bytes: string, { end = true } = {}): Promise<{ text: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (text += d));
    socket.on('error', reject);
    socket.on('close', () => resolve({ text, ms: Date.now() - started }));
    socket.write(bytes, 'latin1');
    if (end) socket.end();
    setTimeout(() => socket.destroy(), 15_000).unref();
  });
}

function parse(text: string): { status: number; headers: Record<string, string>; body: Json } {
  const [head, ...rest] = text.split('\r\n\r\n');
  const [statusLine, ...headerLines] = head!.split('\r\n');
  const headers = Object.fromEntries(headerLines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine!.split(' ')[1]), headers, body: JSON.parse(rest.join('\r\n2')) as Json };
}

describe('requests the HTTP parser refuses', () => {
  it('oversized headers with a valid token: 431 OperationOutcome, and neither the token nor the identifier is logged', async () => {
    const token = await mintDemoToken({ audience: node.config.baseUrl, country: 'AT' });
    const request =
      `GET /fhir/Patient/$summary?identifier=${IDENTIFIER} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n` +
      `X-Big: ${'a'.repeat(17_000)}\r\n\r\n`;
    const answer = parse((await raw(request)).text);
    expect(answer.status).toBe(431);
    expect(answer.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
    expect(answer.headers['connection']).toBe('close');
    expect(answer.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(answer.body).toMatchObject({
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'too-costly', diagnostics: 'the request line and headers exceed the limit of 16384 bytes' }],
    });
    const logged = log.text();
    expect(logged).toContain('"parserError":"HPE_HEADER_OVERFLOW"');
    for (const secret of ['eyJ', token.slice(-20), '1238140358', 'X-Big', 'aaaaaaaa']) expect(logged).not.toContain(secret);
  });

  it.each([
    ['a malformed request line', 'GET /fhir/metadata HTTP/1.1 extra\r\nHost: x\r\n\r\n'],
    ['an invalid method', 'G@T /fhir/metadata HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['a header without a colon', 'GET /fhir/metadata HTTP/1.1\r\nHost: x\r\nAuthorization Bearer eyJsecret\r\n\r\n'],
    ['bad chunked encoding', 'POST /fhir/Bundle HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/fhir+json\r\n\r\nzz\r\n{}\r\n0\r\n\r\n'],
    ['Content-Length and chunked together', 'POST /fhir/Bundle HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}'],
  ])('%s: 400 OperationOutcome, nothing of the request logged', async (_name, request) => {
    const before = log.text().length;
    const answer = parse((await raw(request)).text);
    expect(answer.status).toBe(400);
    expect(answer.body['resourceType']).toBe('OperationOutcome');
    expect(answer.body['issue'][0]).toMatchObject({ severity: 'error', code: 'structure' });
    const logged = log.text().slice(before);
    expect(logged).toContain('request refused by the HTTP parser');
    expect(logged).not.toContain('eyJ');
    expect(logged).not.toContain('rawPacket');
  });

  it('a body that never finishes is answered 408 at the request timeout', async () => {
    const token = await mintDemoToken({ audience: node.config.baseUrl, country: 'AT', scope: 'system/Bundle.c' });
    const request = `POST /fhir/Bundle HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/fhir+json\r\nContent-Length: 5000\r\n\r\n{"resourceType":"Bundle"`;
    const { text, ms } = await raw(request, { end: false });
    const answer = parse(text);
    expect(answer.status).toBe(408);
    expect(answer.body['resourceType']).toBe('OperationOutcome');
    // The request timeout is 2 s here; Node checks it every second.
    expect(ms).toBeGreaterThanOrEqual(1900);
    expect(ms).toBeLessThan(3500);
    expect(log.text()).not.toContain('eyJ');
  });
});
