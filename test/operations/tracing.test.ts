import { afterAll, describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { join } from 'node:path';
import { WitnessClient } from '../../src/audit/witness-client.js';
import { NodeIdentity } from '../../src/exchange/node-identity.js';
import { PeerClient } from '../../src/exchange/peer-client.js';
import { projectRoot } from '../../src/project-root.js';
import pino from 'pino';
import { childTraceparent, parseTraceparent, SpanExporter } from '../../src/plugins/tracing.js';
import { captureLog } from '../support/log-sink.js';
import { freePort } from '../support/node-process.js';
import { memoryBackend } from '../support/stores.js';
import { buildTestNode } from '../support/test-node.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
const servers: Server[] = [];

afterAll(() => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

/** A loopback HTTP server answering `answer` (JSON) and keeping what it received. */
async function sink(answer: unknown): Promise<{ port: number; received: { headers: IncomingHttpHeaders; body: string }[] }> {
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'application/fhir+json' }).end(JSON.stringify(answer));
    });
  });
  servers.push(server);
  const port = await freePort();
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return { port, received };
}

describe('W3C trace context', () => {
  it('gives every outgoing call a span id of its own and starts new traces with ids of their own, across draws of randomness', () => {
    // 2,000 calls draw 16 KB of span ids, four refills of the ids' random bytes.
    const children = Array.from({ length: 2000 }, () => parseTraceparent(childTraceparent(`00-${TRACE}-${PARENT}-01`))!);
    expect(children.every((c) => c.traceId === TRACE && /^[0-9a-f]{16}$/.test(c.parentSpanId))).toBe(true);
    expect(new Set(children.map((c) => c.parentSpanId)).size).toBe(2000);
    const fresh = Array.from({ length: 500 }, () => parseTraceparent(childTraceparent(undefined))!);
    expect(new Set(fresh.map((c) => c.traceId)).size).toBe(500);
    expect(fresh.every((c) => /^[0-9a-f]{32}$/.test(c.traceId) && c.traceId !== TRACE)).toBe(true);
  });

  it('reads traceparent headers, refusing malformed and all-zero ones', () => {
    expect(parseTraceparent(`00-${TRACE}-${PARENT}-01`)).toEqual({ traceId: TRACE, parentSpanId: PARENT, sampled: true });
    expect(parseTraceparent(`00-${TRACE}-${PARENT}-00`)?.sampled).toBe(false);
    // A later version may carry more fields; version 00 may not.
    expect(parseTraceparent(`01-${TRACE}-${PARENT}-01-future`)?.traceId).toBe(TRACE);
    for (const bad of [`00-${TRACE}-${PARENT}-01-extra`, `ff-${TRACE}-${PARENT}-01`, `00-${'0'.repeat(32)}-${PARENT}-01`, `00-${TRACE}-${'0'.repeat(16)}-01`, `00-${TRACE.toUpperCase()}-${PARENT}-01`, 'garbage', undefined]) {
      expect(parseTraceparent(bad)).toBeUndefined();
    }
    const child = parseTraceparent(childTraceparent(`00-${TRACE}-${PARENT}-01`));
    expect(child?.traceId).toBe(TRACE);
    expect(child?.parentSpanId).not.toBe(PARENT);
    expect(parseTraceparent(childTraceparent(undefined))?.sampled).toBe(true);
  });

  it("joins the caller's trace with a span of its own, in the traceresponse header and the request's log line (trace id only)", async () => {
    const log = captureLog();
    const node = await buildTestNode(memoryBackend, {}, log.logger);
    try {
      const response = await node.server.inject({ url: '/fhir/Patient?family=tracer', headers: { traceparent: `00-${TRACE}-${PARENT}-01`, 'x-request-id': 'req-trace-0a1b2c3d-0000-4000-8000-000000000001' } });
      expect(response.statusCode).toBe(200);
      const answered = parseTraceparent(response.headers['traceresponse']);
      expect(answered?.traceId).toBe(TRACE);
      expect(answered?.parentSpanId).not.toBe(PARENT);
      const line = log.lines().find((l) => l['requestId'] === 'req-trace-0a1b2c3d-0000-4000-8000-000000000001');
      expect(line?.['traceId']).toBe(TRACE);
      expect(log.text()).not.toContain(PARENT);
      expect(log.text()).not.toContain('tracer');

      const fresh = await node.server.inject({ url: '/fhir/Patient?family=tracer', headers: { traceparent: `00-${'0'.repeat(32)}-${PARENT}-01` } });
      const started = parseTraceparent(fresh.headers['traceresponse']);
      expect(started?.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(started?.traceId).not.toBe('0'.repeat(32));
      // Errors carry it too.
      const refused = await node.server.inject({ url: '/fhir/Patient?family=tracer', headers: { authorization: 'none', traceparent: `00-${TRACE}-${PARENT}-01` } });
      expect(refused.statusCode).toBe(401);
      expect(parseTraceparent(refused.headers['traceresponse'])?.traceId).toBe(TRACE);
    } finally {
      await node.cleanup();
    }
  });

  it('sends a child traceparent of the request on every call to a peer', async () => {
    const peer = await sink({ resourceType: 'Bundle', type: 'searchset', total: 0 });
    const client = new PeerClient({ timeoutMs: 3000, connectTimeoutMs: 500, maxBytes: 100_000 });
    try {
      const node = { country: 'PT', baseUrl: `http://127.0.0.1:${peer.port}/fhir`, issuer: 'https://ncp.pt.example', identifierSystems: [] };
      await client.search(node, { identifier: 'urn:x|1' }, { token: async () => 't', requestId: 'r1', traceparent: `00-${TRACE}-${PARENT}-01` });
      await client.search(node, { identifier: 'urn:x|1' }, { token: async () => 't', requestId: 'r2' });
      const [first, second] = peer.received.map((r) => parseTraceparent(r.headers['traceparent']));
      expect(first?.traceId).toBe(TRACE);
      expect(first?.parentSpanId).toMatch(/^[0-9a-f]{16}$/);
      expect(first?.parentSpanId).not.toBe(PARENT);
      expect(second?.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(second?.traceId).not.toBe(TRACE);
    } finally {
      await client.close();
    }
  });

  it('exports a server span per request over OTLP/HTTP JSON when an endpoint is set: route pattern, method, status, never the path or query', async () => {
    const collector = await sink({});
    const node = await buildTestNode(memoryBackend, { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collector.port}`, OTEL_SERVICE_NAME: 'pontis-at' });
    await node.server.inject({ url: '/fhir/Patient?family=secretname', headers: { traceparent: `00-${TRACE}-${PARENT}-01` } });
    await node.server.inject({ url: '/fhir/Patient?family=unsampled', headers: { traceparent: `00-${'1'.repeat(32)}-${PARENT}-00` } });
    await node.cleanup();
    expect(collector.received).toHaveLength(1);
    const { headers, body } = collector.received[0]!;
    expect(headers['content-type']).toBe('application/json');
    expect(body).not.toContain('secretname');
    expect(body).not.toContain('1'.repeat(32));
    const exported = JSON.parse(body) as {
      resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: Record<string, unknown>[] }[] }[];
    };
    const resource = exported.resourceSpans[0]!.resource.attributes;
    expect(resource).toContainEqual({ key: 'service.name', value: { stringValue: 'pontis-at' } });
    const span = exported.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    expect(span).toMatchObject({ traceId: TRACE, parentSpanId: PARENT, name: 'GET /fhir/Patient', kind: 2, status: { code: 1 } });
    expect(span['attributes']).toContainEqual({ key: 'http.route', value: { stringValue: '/fhir/Patient' } });
    expect(span['attributes']).toContainEqual({ key: 'http.response.status_code', value: { intValue: '200' } });
  });

  it('exports a client span per attempt of a peer call, child of the request span, parent of the peer node\'s span', async () => {
    const collector = await sink({});
    const peer = await sink({ resourceType: 'Bundle', type: 'searchset', total: 0 });
    const exporter = new SpanExporter({ url: `http://127.0.0.1:${collector.port}/v1/traces`, serviceName: 'pontis', headers: {} }, { 'service.name': 'pontis' }, pino({ level: 'silent' }));
    const client = new PeerClient({ timeoutMs: 3000, connectTimeoutMs: 500, maxBytes: 100_000, traced: (attempt) => exporter.addPeerAttempt(attempt) });
    try {
      const node = { country: 'PT', baseUrl: `http://127.0.0.1:${peer.port}/fhir`, issuer: 'https://ncp.pt.example', identifierSystems: [] };
      await client.search(node, { identifier: 'urn:x|1' }, { token: async () => 't', requestId: 'r1', traceparent: `00-${TRACE}-${PARENT}-01` });
      await exporter.flush();
    } finally {
      await client.close();
    }
    const sent = parseTraceparent(peer.received[0]!.headers['traceparent']);
    const span = (JSON.parse(collector.received[0]!.body) as { resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[] }).resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    expect(span).toMatchObject({ traceId: TRACE, spanId: sent!.parentSpanId, parentSpanId: PARENT, name: 'GET peer PT', kind: 3, status: { code: 1 } });
  });

  it('gives every witness call to a peer (off any request) a trace of its own', async () => {
    const peer = await sink({ resourceType: 'Parameters', parameter: [{ name: 'outcome', valueCode: 'new' }] });
    const identity = await NodeIdentity.load(join(projectRoot(), 'seed', 'trust', 'demo-keys', 'ncp-at.json'));
    const client = new WitnessClient(identity, { timeoutMs: 3000, maxBytes: 100_000 });
    const node = { country: 'PT', baseUrl: `http://127.0.0.1:${peer.port}/fhir`, issuer: 'https://ncp.pt.example', identifierSystems: [] };
    await client.submit(node, { jws: 'x.y.z' } as never);
    await client.submit(node, { jws: 'x.y.z' } as never);
    const [first, second] = peer.received.map((r) => parseTraceparent(r.headers['traceparent']));
    expect(first?.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(second?.traceId).not.toBe(first?.traceId);
  });

  it('exports nothing, and needs no collector, by default', async () => {
    const node = await buildTestNode(memoryBackend);
    try {
      expect(node.config.operations.otlp).toBeUndefined();
      expect((await node.server.inject({ url: '/fhir/Patient?family=x' })).statusCode).toBe(200);
    } finally {
      await node.cleanup();
    }
  });
});
