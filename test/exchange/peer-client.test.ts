import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import type Boom from '@hapi/boom';
import { PeerClient } from '../../src/exchange/peer-client.js';
import type { PeerNode } from '../../src/exchange/peer-directory.js';
import { freePort } from '../support/node-process.js';

/**
 * Calls to real sockets on loopback: what a peer that misbehaves at the HTTP level gets. (The
 * size limit is tested between real node processes, test/exchange/cross-border.test.ts: under
 * jest's module sandbox, fetch, which fhir-kit-client calls, loses undici's reason for cutting
 * an answer short.)
 */

const call = { token: async () => 'token', requestId: 'peer-client-test' };
const limits = { timeoutMs: 4000, connectTimeoutMs: 300, maxBytes: 10_000 };
const servers: Server[] = [];
const clients: PeerClient[] = [];

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

function peerAt(port: number): PeerNode {
  return { country: 'FR', baseUrl: `http://127.0.0.1:${port}/fhir`, issuer: 'https://ncp.fr.demo.pontis.example', identifierSystems: [] };
}

function client(overrides: Partial<typeof limits> = {}): PeerClient {
  const c = new PeerClient({ ...limits, ...overrides });
  clients.push(c);
  return c;
}

/** An HTTP peer answering every request with `answer`; resolves to its port and the headers it received. */
async function httpPeer(answer: (res: ServerResponse) => void): Promise<{ port: number; received: IncomingHttpHeaders[] }> {
  const received: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    received.push(req.headers);
    answer(res);
  });
  servers.push(server);
  const port = await freePort();
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return { port, received };
}

async function refusal(promise: Promise<unknown>): Promise<{ status: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    const boom = error as Boom.Boom;
    return { status: boom.output.statusCode, message: boom.message };
  }
  throw new Error('the call succeeded');
}

describe('calls to a peer', () => {
  it('ask for uncompressed answers and pass on a FHIR one', async () => {
    const { port, received } = await httpPeer((res) => res.writeHead(200, { 'content-type': 'application/fhir+json' }).end('{"resourceType":"Bundle","type":"searchset"}'));
    await expect(client().search(peerAt(port), { identifier: 's|v' }, call)).resolves.toMatchObject({ resourceType: 'Bundle' });
    expect(received[0]).toMatchObject({ 'accept-encoding': 'identity', authorization: 'Bearer token', 'x-request-id': 'peer-client-test' });
  });

  it('refuse an answer compressed although it was asked uncompressed', async () => {
    const body = gzipSync('{"resourceType":"Bundle","type":"searchset"}');
    const { port } = await httpPeer((res) => res.writeHead(200, { 'content-type': 'application/fhir+json', 'content-encoding': 'gzip' }).end(body));
    const { status, message } = await refusal(client().search(peerAt(port), { identifier: 's|v' }, call));
    expect(status).toBe(502);
    expect(message).toMatch(/answered gzip-compressed although asked not to; nothing is passed on/);
  });

  it('give up on a peer that does not accept the connection after the connect timeout, long before the total one', async () => {
    // A frozen peer: its listen queue is full and its process never accepts, so a new
    // connection is never completed (SYNs are dropped), as with a host that went silent.
    const port = await freePort();
    const frozen: ChildProcess = spawn(
      process.execPath,
      ['-e', `require('net').createServer().listen({ port: ${port}, host: '127.0.0.1', backlog: 1 }, () => { console.log('up'); Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); })`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const fillers: Socket[] = [];
    try {
      await once(frozen.stdout!, 'data');
      for (let i = 0; i < 8; i++) fillers.push(connect(port, '127.0.0.1').on('error', () => undefined));
      await new Promise((resolve) => setTimeout(resolve, 300));
      const started = Date.now();
      const { status, message } = await refusal(client().search(peerAt(port), { identifier: 's|v' }, call));
      expect(status).toBe(504);
      expect(message).toMatch(/did not accept a connection within 300 ms/);
      expect(Date.now() - started).toBeLessThan(limits.timeoutMs);
    } finally {
      frozen.kill('SIGKILL');
      for (const s of fillers) s.destroy();
    }
  });

  it('hand back a summary with its bytes serialised once, and leave unparsed what the caller knows', async () => {
    const body = '{ "resourceType": "Bundle", "type": "document" }';
    const { port } = await httpPeer((res) => res.writeHead(200, { 'content-type': 'application/fhir+json' }).end(body));
    const peer = client();
    const answer = await peer.summary(peerAt(port), 'p/1', call);
    expect(answer.resource).toEqual({ resourceType: 'Bundle', type: 'document' });
    expect(answer.bytes.toString('utf8')).toBe(JSON.stringify(JSON.parse(body)));
    const known = answer.bytes.toString('utf8');
    await expect(peer.summary(peerAt(port), 'p1', call, (bytes) => bytes.toString('utf8') === known)).resolves.toMatchObject({ resource: undefined });
  });

  it('offer the copies the caller holds in If-None-Match, and take a 304 naming one of them as unchanged; a 304 naming none is no answer', async () => {
    let etag = '"d1"';
    const { port, received } = await httpPeer((res) => res.writeHead(304, { etag }).end());
    const peer = client();
    await expect(peer.summary(peerAt(port), 'p1', call, undefined, ['"d0"', '"d1"'])).resolves.toEqual({ bytes: Buffer.alloc(0), resource: undefined, unchanged: '"d1"' });
    expect(received[0]).toMatchObject({ 'if-none-match': '"d0", "d1"' });
    etag = '"other"';
    expect(await refusal(peer.summary(peerAt(port), 'p1', call, undefined, ['"d1"']))).toEqual({ status: 502, message: expect.stringMatching(/answered HTTP 304 that is not a FHIR answer/) });
    // Nothing offered, nothing to confirm: a 304 is no answer either.
    expect(await refusal(peer.summary(peerAt(port), 'p1', call))).toEqual({ status: 502, message: expect.stringMatching(/answered HTTP 304 that is not a FHIR answer/) });
    expect(received[2]!['if-none-match']).toBeUndefined();
  });

  it("pass on a peer's refusal with its status, and name its own failure or a non-FHIR answer as 502", async () => {
    const outcome = (code: string, diagnostics: string) => JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics }] });
    const refused = await httpPeer((res) => res.writeHead(404, { 'content-type': 'application/fhir+json' }).end(outcome('not-found', 'no such patient')));
    expect(await refusal(client().summary(peerAt(refused.port), 'p1', call))).toEqual({ status: 404, message: expect.stringMatching(/refused: no such patient/) });
    const failing = await httpPeer((res) => res.writeHead(500, { 'content-type': 'application/fhir+json' }).end(outcome('exception', 'store down')));
    expect(await refusal(client().summary(peerAt(failing.port), 'p1', call))).toEqual({ status: 502, message: expect.stringMatching(/failed with HTTP 500; nothing is passed on/) });
    const html = await httpPeer((res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>'));
    expect(await refusal(client().summary(peerAt(html.port), 'p1', call))).toEqual({ status: 502, message: expect.stringMatching(/answered HTTP 200 that is not a FHIR answer/) });
    const redirect = await httpPeer((res) => res.writeHead(302, { location: 'http://elsewhere.example/' }).end());
    expect(await refusal(client().summary(peerAt(redirect.port), 'p1', call))).toEqual({ status: 502, message: expect.stringMatching(/answered HTTP 302 that is not a FHIR answer/) });
  });

  it('give up on a peer that accepted the call but does not answer, at the total timeout', async () => {
    const { port } = await httpPeer(() => undefined);
    const started = Date.now();
    const { status, message } = await refusal(client({ timeoutMs: 400 }).summary(peerAt(port), 'p1', call));
    expect(status).toBe(504);
    expect(message).toMatch(/did not answer within 400 ms/);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('give up on a peer that drips its answer, at the total timeout, although each piece comes in time', async () => {
    const drips: NodeJS.Timeout[] = [];
    const { port } = await httpPeer((res) => {
      res.writeHead(200, { 'content-type': 'application/fhir+json' });
      res.write('{"resourceType":"Bundle","type":"document","entry":[');
      // One byte every 100 ms: never idle as long as the body timeout, never past the size limit in time.
      drips.push(setInterval(() => res.write(' '), 100));
    });
    const peerClient = client({ timeoutMs: 700 });
    const started = Date.now();
    try {
      const { status, message } = await refusal(peerClient.summary(peerAt(port), 'p1', call));
      expect(status).toBe(504);
      expect(message).toMatch(/did not answer within 700 ms/);
      expect(Date.now() - started).toBeLessThan(2500);
    } finally {
      for (const d of drips) clearInterval(d);
    }
    // The pool goes on: the next call to that peer is timed afresh (and cut off in its turn).
    const again = Date.now();
    expect((await refusal(peerClient.summary(peerAt(port), 'p1', call))).status).toBe(504);
    for (const d of drips) clearInterval(d);
    expect(Date.now() - again).toBeGreaterThanOrEqual(600);
  });

  it('try a GET once more when nothing came back, then say the peer cannot be reached', async () => {
    const port = await freePort();
    const { status, message } = await refusal(client().summary(peerAt(port), 'p1', call));
    expect(status).toBe(502);
    expect(message).toMatch(/cannot be reached/);
  });
});
