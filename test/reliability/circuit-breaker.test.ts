import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type Boom from '@hapi/boom';
import { CircuitBreaker } from '../../src/exchange/circuit-breaker.js';
import { PeerClient } from '../../src/exchange/peer-client.js';
import type { PeerNode } from '../../src/exchange/peer-directory.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { freePort } from '../support/node-process.js';

/**
 * The circuit breaker of calls to a peer, measured through the fault proxy: what opens it, what
 * an open circuit costs (no call reaches the peer: the proxy counts connections, one per call),
 * when it half-opens, what the one trial decides. The peer behind the proxy is a small FHIR
 * server; the breaker is set to open after THRESHOLD failures for OPEN_MS.
 */

const THRESHOLD = 5;
const OPEN_MS = 600;
const TIMEOUT_MS = 1000;
const call = { token: async () => 'token', requestId: 'circuit-breaker-test' };
const figures: Record<string, string> = {};

let upstream: Server;
let upstreamPort: number;
let proxy: FaultProxy;
const clients: PeerClient[] = [];

beforeAll(async () => {
  upstreamPort = await freePort();
  upstream = createServer((req, res) => {
    if (req.url?.includes('peer-fails')) {
      res.writeHead(503, { 'content-type': 'application/fhir+json' }).end(JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'transient', diagnostics: 'store down' }] }));
    } else if (req.url?.includes('unknown')) {
      res.writeHead(404, { 'content-type': 'application/fhir+json' }).end(JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found', diagnostics: 'no such patient' }] }));
    } else {
      // Written in two pieces: chunked, as a peer that streams its answer sends it.
      res.writeHead(200, { 'content-type': 'application/fhir+json' });
      res.write(`{"resourceType":"Bundle","type":"searchset","total":0,"meta":{"tag":[{"code":"${'a'.repeat(4000)}"}]}`);
      res.end(`,"entry":[]}`);
    }
  });
  upstream.listen(upstreamPort, '127.0.0.1');
  await once(upstream, 'listening');
});

beforeEach(async () => {
  proxy = await FaultProxy.start({ host: '127.0.0.1', port: upstreamPort });
});

afterEach(async () => {
  await proxy.close();
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  upstream.closeAllConnections();
  upstream.close();
  process.stdout.write(`\ncircuit breaker figures (threshold ${THRESHOLD}, pause ${OPEN_MS} ms, call timeout ${TIMEOUT_MS} ms): ${JSON.stringify(figures)}\n`);
});

function peer(): PeerNode {
  return { country: 'FR', baseUrl: proxy.url(), issuer: 'https://ncp.fr.demo.pontis.example', identifierSystems: [] };
}

function client(): PeerClient {
  const c = new PeerClient({ timeoutMs: TIMEOUT_MS, connectTimeoutMs: 300, maxBytes: 100_000, breaker: { threshold: THRESHOLD, openMs: OPEN_MS } });
  clients.push(c);
  return c;
}

interface Outcome {
  status: number;
  message: string;
  retryAfter?: string;
}

async function outcome(promise: Promise<unknown>): Promise<Outcome> {
  try {
    await promise;
    return { status: 200, message: '' };
  } catch (error) {
    const boom = error as Boom.Boom;
    const retryAfter = boom.output.headers['Retry-After'];
    return { status: boom.output.statusCode, message: boom.message, ...(retryAfter !== undefined ? { retryAfter: String(retryAfter) } : {}) };
  }
}

function search(c: PeerClient, identifier = 's|v'): Promise<Outcome> {
  return outcome(c.search(peer(), { identifier }, call));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Fails THRESHOLD calls in a row (answers that are not FHIR: one connection each, no retry). */
async function openCircuit(c: PeerClient): Promise<void> {
  await proxy.set('non-fhir-json');
  for (let i = 0; i < THRESHOLD; i++) expect((await search(c)).status).toBe(502);
  expect((await search(c)).status).toBe(503);
}

describe('the circuit of calls to a peer, through the fault proxy', () => {
  it(`opens after ${THRESHOLD} failed calls in a row; then refuses at once, with no call reaching the peer`, async () => {
    const c = client();
    await proxy.set('non-fhir-json');
    for (let i = 1; i <= THRESHOLD; i++) {
      expect((await search(c)).status).toBe(502);
      expect(proxy.connections).toBe(i);
    }
    const refusals: Outcome[] = [];
    const started = performance.now();
    for (let i = 0; i < 1000; i++) refusals.push(await search(c));
    const perRefusalMs = (performance.now() - started) / 1000;
    figures['refusal while open (mean of 1000, ms)'] = perRefusalMs.toFixed(4);
    expect(new Set(refusals.map((r) => r.status))).toEqual(new Set([503]));
    expect(refusals[0]!.message).toMatch(/node of FR .* is failing; calls to it are paused for a while/);
    // Retry-After says the pause left, in whole seconds.
    expect(refusals[0]!.retryAfter).toBe(String(Math.ceil(OPEN_MS / 1000)));
    expect(proxy.connections).toBe(THRESHOLD);
    expect(perRefusalMs).toBeLessThan(1);
  });

  it('counts failures in a row: a success in between starts the count again, and so does a refusal by the peer (it answered)', async () => {
    const c = client();
    await proxy.set('non-fhir-json');
    for (let i = 0; i < THRESHOLD - 1; i++) expect((await search(c)).status).toBe(502);
    await proxy.set('pass');
    expect((await search(c)).status).toBe(200);
    await proxy.set('non-fhir-json');
    for (let i = 0; i < THRESHOLD - 1; i++) expect((await search(c)).status).toBe(502);
    await proxy.set('pass');
    expect((await search(c, 'unknown|1')).status).toBe(404);
    await proxy.set('non-fhir-json');
    for (let i = 0; i < THRESHOLD; i++) expect((await search(c)).status).toBe(502);
    expect(proxy.connections).toBe(3 * THRESHOLD);
    expect((await search(c)).status).toBe(503);
    expect(proxy.connections).toBe(3 * THRESHOLD);
  });

  it('counts a refused connection as one failure (its retry included) and a peer that fails with its own 5xx as another', async () => {
    const c = client();
    await proxy.set('refuse');
    for (let i = 0; i < THRESHOLD - 1; i++) expect(await search(c)).toMatchObject({ status: 502, message: expect.stringMatching(/cannot be reached/) });
    await proxy.set('pass');
    expect(await search(c, 'peer-fails|1')).toMatchObject({ status: 502, message: expect.stringMatching(/node of FR .* failed with HTTP 503; nothing is passed on/) });
    expect(proxy.connections).toBe(1);
    expect((await search(c)).status).toBe(503);
    expect(proxy.connections).toBe(1);
  });

  it(`half-opens ${OPEN_MS} ms after opening: then exactly one trial goes out while the others are refused, and its success closes the circuit`, async () => {
    const c = client();
    await openCircuit(c);
    const opened = performance.now();
    await proxy.set('pass');
    // Asked every 10 ms: refused without a call until the pause is over, then the trial goes out.
    let outcomeThen: Outcome;
    do {
      await sleep(10);
      outcomeThen = await search(c);
    } while (outcomeThen.status === 503 && performance.now() - opened < 5 * OPEN_MS);
    const halfOpenAfterMs = performance.now() - opened;
    figures['half-open after (ms)'] = halfOpenAfterMs.toFixed(0);
    expect(outcomeThen.status).toBe(200);
    expect(halfOpenAfterMs).toBeGreaterThanOrEqual(OPEN_MS - 5);
    expect(halfOpenAfterMs).toBeLessThan(OPEN_MS + 250);
    expect(proxy.connections).toBe(THRESHOLD + 1);
    // Closed again: every call goes out.
    for (let i = 0; i < 10; i++) expect((await search(c)).status).toBe(200);
    expect(proxy.connections).toBe(THRESHOLD + 11);

    // Once more, with callers arriving together at the end of the pause: one trial, the rest refused.
    await openCircuit(c);
    await sleep(OPEN_MS + 20);
    await proxy.set('drip'); // the trial takes a while (one byte every 100 ms), so it is under way when the others ask
    const before = proxy.connections;
    const together = await Promise.all(Array.from({ length: 8 }, () => search(c)));
    expect(together.filter((o) => o.status === 503)).toHaveLength(7);
    expect(proxy.connections).toBe(before + 1);
  });

  it('opens again for the whole pause when the trial fails', async () => {
    const c = client();
    await openCircuit(c);
    await sleep(OPEN_MS + 20);
    const before = proxy.connections;
    expect((await search(c)).status).toBe(502); // the trial
    const reopened = performance.now();
    expect((await search(c)).status).toBe(503);
    await sleep(OPEN_MS / 2);
    expect((await search(c)).status).toBe(503);
    expect(proxy.connections).toBe(before + 1);
    await sleep(OPEN_MS - (performance.now() - reopened) + 20);
    await proxy.set('pass');
    expect((await search(c)).status).toBe(200); // the next trial
    expect(proxy.connections).toBe(before + 2);
  });

  it('holds the others off while a trial hangs, until its timeout fails it and the circuit reopens', async () => {
    const c = client();
    await openCircuit(c);
    await sleep(OPEN_MS + 20);
    await proxy.set('freeze');
    const before = proxy.connections;
    const started = performance.now();
    const trial = search(c);
    await sleep(50);
    for (let i = 0; i < 5; i++) {
      expect((await search(c)).status).toBe(503);
      await sleep(100);
    }
    expect(await trial).toMatchObject({ status: 504, message: expect.stringMatching(new RegExp(`did not answer within ${TIMEOUT_MS} ms`)) });
    figures['hanging trial failed after (ms)'] = (performance.now() - started).toFixed(0);
    expect((await search(c)).status).toBe(503);
    expect(proxy.connections).toBe(before + 1);
  });

  it('does not let a call begun before the circuit opened, failing during a trial, let a second trial out', async () => {
    const c = new PeerClient({ timeoutMs: 2000, connectTimeoutMs: 300, maxBytes: 100_000, breaker: { threshold: 2, openMs: 300 } });
    clients.push(c);
    await proxy.set('freeze', /slow/, 'non-fhir-json');
    const early = search(c, 'slow|1'); // hangs until its 2 s timeout
    await sleep(50);
    expect((await search(c)).status).toBe(502);
    expect((await search(c)).status).toBe(502); // the circuit opens
    await sleep(1000);
    await proxy.set('freeze');
    const trial = search(c); // under way for 2 s
    expect((await early).status).toBe(504); // the early call fails while the trial is under way
    await sleep(400); // past a pause that the early failure would have started
    const before = proxy.connections;
    expect((await search(c)).status).toBe(503);
    expect(proxy.connections).toBe(before);
    expect((await trial).status).toBe(504);
  });

  it('refuses a chunked answer cut short by a reset (undici takes what came before a reset as the whole answer)', async () => {
    const c = client();
    await proxy.set('reset');
    const cut = await search(c);
    expect(cut.status).toBe(502);
    expect(cut.message).toMatch(/node of FR .* (answered HTTP 200 that is not a FHIR answer|cannot be reached)/);
  });
});

describe('the circuit breaker on its own (clock given)', () => {
  it('ignores failures of calls begun before it opened, and closes on a success of any call', () => {
    const breaker = new CircuitBreaker({ threshold: 2, openMs: 100 });
    const early = breaker.permit(0)!;
    const a = breaker.permit(0)!;
    const b = breaker.permit(0)!;
    breaker.failed(a, 0);
    breaker.failed(b, 0);
    expect(breaker.state(50)).toBe('open');
    expect(breaker.retryAfterMs(50)).toBe(50);
    // The early call fails now: the pause is not extended.
    breaker.failed(early, 60);
    expect(breaker.state(100)).toBe('half-open');
    const trial = breaker.permit(100)!;
    expect(trial.trial).toBe(true);
    // Another early failure during the trial does not end it: still one trial.
    breaker.failed(early, 110);
    expect(breaker.permit(250)).toBeUndefined();
    breaker.failed(trial, 300);
    expect(breaker.state(350)).toBe('open');
    expect(breaker.permit(399)).toBeUndefined();
    const second = breaker.permit(400)!;
    expect(second.trial).toBe(true);
    // The early call answers after all: the peer is alive, the circuit closes.
    breaker.succeeded(early);
    expect(breaker.state(400)).toBe('closed');
    expect(breaker.permit(400)).toMatchObject({ trial: false });
  });
});
