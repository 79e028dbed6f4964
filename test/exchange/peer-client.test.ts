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
 * jest's module sandbox, fetch loses undici's reason for cutting an answer short.)
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

function client(): PeerClient {
  const c = new PeerClient(limits);
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
});
