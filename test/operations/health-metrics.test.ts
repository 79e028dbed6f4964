import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { projectRoot } from '../../src/project-root.js';
import { PeerClient } from '../../src/exchange/peer-client.js';
import { NodeMetrics } from '../../src/plugins/metrics.js';
import { MemoryDatabase } from '../../src/repositories/memory-database.js';
import { bodyOf, buildTestNode, documentFor, send, type TestNode } from '../support/test-node.js';
import { FaultyDatabase } from '../support/faulty-database.js';
import { freePort } from '../support/node-process.js';
import { memoryBackend, type Backend } from '../support/stores.js';

const TOKEN = 'operator-token-0123456789-abcdefghijklmnop';
const NO_TOKEN = { authorization: 'none' };

/** A backend whose database fails the chosen operations (`ping`). */
function faultyBackend(faulty: { db?: FaultyDatabase }): Backend {
  return {
    name: 'faulty',
    async open() {
      const database = new FaultyDatabase(new MemoryDatabase());
      faulty.db = database;
      return { database, cleanup: () => database.close() };
    },
  };
}

/** The value of one series in a scrape (0 when absent). */
function valueOf(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

describe('health', () => {
  let node: TestNode;
  const faulty: { db?: FaultyDatabase } = {};
  beforeAll(async () => {
    node = await buildTestNode(faultyBackend(faulty));
  });
  afterAll(() => node.cleanup());

  it('is live and ready without a token, in plain JSON', async () => {
    const live = await node.server.inject({ url: '/health/live', headers: NO_TOKEN });
    expect(live.statusCode).toBe(200);
    expect(live.headers['content-type']).toMatch(/^application\/json/);
    expect(bodyOf(live)).toEqual({ status: 'live' });
    const ready = await node.server.inject({ url: '/health/ready', headers: NO_TOKEN });
    expect(ready.statusCode).toBe(200);
    expect(ready.headers['content-type']).toMatch(/^application\/json/);
    expect(ready.headers['cache-control']).toBe('no-store');
    expect(bodyOf(ready)).toEqual({ status: 'ready', checks: { store: 'ok', profiles: 'ok', 'trust-list': 'ok', 'peer-directory': 'ok' } });
  });

  it('is not ready, naming the store, when the store does not answer its ping; live all the same', async () => {
    faulty.db!.failing.add('ping');
    try {
      const ready = await node.server.inject({ url: '/health/ready', headers: NO_TOKEN });
      expect(ready.statusCode).toBe(503);
      expect(bodyOf(ready)).toEqual({ status: 'not-ready', checks: { store: 'unreachable', profiles: 'ok', 'trust-list': 'ok', 'peer-directory': 'ok' } });
      expect(ready.payload).not.toMatch(/simulated|ping/);
      expect((await node.server.inject({ url: '/health/live', headers: NO_TOKEN })).statusCode).toBe(200);
    } finally {
      faulty.db!.failing.delete('ping');
    }
    expect((await node.server.inject({ url: '/health/ready', headers: NO_TOKEN })).statusCode).toBe(200);
  });

  it('bounds the store ping: a store that hangs is not ready within the timeout', async () => {
    const slow = await buildTestNode(memoryBackend, { PONTIS_READY_TIMEOUT_MS: '100' });
    try {
      (slow.store.database as { ping: () => Promise<void> }).ping = () => new Promise(() => undefined);
      const started = Date.now();
      const ready = await slow.server.inject({ url: '/health/ready', headers: NO_TOKEN });
      expect(Date.now() - started).toBeLessThan(2000);
      expect(ready.statusCode).toBe(503);
      expect(bodyOf<{ checks: Record<string, string> }>(ready).checks['store']).toBe('no answer within 100 ms');
    } finally {
      await slow.cleanup();
    }
  });

  it('is not ready once draining, still serving the API', async () => {
    const draining = await buildTestNode(memoryBackend);
    try {
      draining.server.app.readiness!.drain();
      const ready = await draining.server.inject({ url: '/health/ready', headers: NO_TOKEN });
      expect(ready.statusCode).toBe(503);
      expect(bodyOf<{ checks: Record<string, string> }>(ready).checks['shutdown']).toBe('draining');
      expect((await draining.server.inject('/fhir/Patient?family=nobody')).statusCode).toBe(200);
    } finally {
      await draining.cleanup();
    }
  });
});

describe('metrics behind the operator token', () => {
  let node: TestNode;
  beforeAll(async () => {
    node = await buildTestNode(memoryBackend, { PONTIS_METRICS_TOKEN: TOKEN });
  });
  afterAll(() => node.cleanup());

  const scrape = async () => {
    const response = await node.server.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    return response.payload;
  };

  it('refuses /metrics without the token or with another, as an OperationOutcome', async () => {
    for (const authorization of ['none', `Bearer ${TOKEN.slice(0, -1)}x`, `Bearer ${TOKEN}x`]) {
      const response = await node.server.inject({ url: '/metrics', headers: { authorization } });
      expect(response.statusCode).toBe(401);
      expect(bodyOf(response)['resourceType']).toBe('OperationOutcome');
      expect(response.payload).not.toContain('pontis_http');
    }
  });

  it('counts requests by route pattern, method and status; refusals; consent decisions; document sizes; never a patient identifier', async () => {
    const refusedBefore = valueOf(await scrape(), 'pontis_http_refusals_total{status="401"}');
    const pushed = await send(node.server, 'POST', '/fhir/Bundle', documentFor('SECRET-4711', '2026-01-02T10:00:00Z'));
    expect(pushed.statusCode).toBe(201);
    const found = await node.server.inject('/fhir/Patient?identifier=urn:test:national|SECRET-4711');
    expect(found.statusCode).toBe(200);
    const patientId = bodyOf<{ entry: { resource: { id: string } }[] }>(found).entry[0]!.resource.id;
    expect((await node.server.inject(`/fhir/Patient/${patientId}`)).statusCode).toBe(200);
    expect((await node.server.inject({ url: '/fhir/Patient?family=x', headers: NO_TOKEN })).statusCode).toBe(401);
    const text = await scrape();
    expect(text).toContain('pontis_http_request_duration_seconds_count{route="/fhir/Patient",method="GET",status="200"} 1');
    expect(text).toContain('pontis_http_request_duration_seconds_count{route="/fhir/Patient/{id}",method="GET",status="200"} 1');
    expect(text).toContain('pontis_http_request_duration_seconds_count{route="/fhir/Bundle",method="POST",status="201"} 1');
    expect(valueOf(text, 'pontis_http_refusals_total{status="401"}')).toBe(refusedBefore + 1);
    expect(text).toMatch(/pontis_consent_decisions_total\{outcome="permit",break_glass="false"\} [1-9]/);
    expect(text).toContain('pontis_document_size_bytes_count{interaction="create"} 1');
    expect(text).toMatch(/pontis_validation_duration_seconds_count [1-9]/);
    expect(text).toMatch(/pontis_audit_write_duration_seconds_count\{outcome="durable"\} [1-9]/);
    expect(text).toMatch(/pontis_audit_write_batch_records_count [1-9]/);
    expect(text).toContain('pontis_process_nodejs_eventloop_lag_seconds');
    expect(text).toContain('pontis_process_nodejs_heap_size_used_bytes');
    expect(text).not.toContain('SECRET-4711');
    expect(text).not.toContain(patientId);
    expect(text).not.toContain('urn:test:national');
  });
});

describe('metrics of peer calls and audit writes', () => {
  it('times peer calls by country and outcome, and shows each peer circuit state', async () => {
    const metrics = new NodeMetrics();
    const client = new PeerClient({ timeoutMs: 2000, connectTimeoutMs: 300, maxBytes: 100_000, breaker: { threshold: 2, openMs: 60_000 }, observe: metrics.peerCallObserver });
    metrics.watchCircuits(() => client.circuitStates());
    const alive = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/fhir+json' }).end('{"resourceType":"Bundle","type":"searchset"}'));
    const port = await freePort();
    await new Promise<void>((resolve) => alive.listen(port, '127.0.0.1', () => resolve()));
    const call = { token: async () => 't', requestId: 'm' };
    try {
      await client.search({ country: 'PT', baseUrl: `http://127.0.0.1:${port}/fhir`, issuer: 'i', identifierSystems: [] }, {}, call);
      const dead = { country: 'FR', baseUrl: `http://127.0.0.1:${await freePort()}/fhir`, issuer: 'j', identifierSystems: [] };
      for (let i = 0; i < 3; i++) await client.search(dead, {}, call).catch(() => undefined);
    } finally {
      alive.close();
      await client.close();
    }
    const text = await metrics.text();
    expect(text).toContain('pontis_peer_call_duration_seconds_count{peer="PT",outcome="ok"} 1');
    expect(text).toContain('pontis_peer_call_duration_seconds_count{peer="FR",outcome="unreachable"} 2');
    expect(text).toContain('pontis_peer_call_duration_seconds_count{peer="FR",outcome="circuit-open"} 1');
    expect(text).toContain('pontis_peer_circuit_state{peer="FR",state="open"} 1');
    expect(text).toContain('pontis_peer_circuit_state{peer="PT",state="closed"} 1');
    expect(text).not.toContain('127.0.0.1');
  });

  it('counts an audit write that failed (and the 503 it caused)', async () => {
    const faulty: { db?: FaultyDatabase } = {};
    const node = await buildTestNode(faultyBackend(faulty), { PONTIS_METRICS_TOKEN: TOKEN });
    try {
      faulty.db!.failing.add('audit_events.insertMany');
      expect((await node.server.inject('/fhir/Patient?family=x')).statusCode).toBe(503);
      faulty.db!.failing.clear();
      const text = (await node.server.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })).payload;
      expect(text).toContain('pontis_audit_write_duration_seconds_count{outcome="failed"} 1');
      expect(text).toContain('pontis_http_request_duration_seconds_count{route="/fhir/Patient",method="GET",status="503"} 1');
    } finally {
      await node.cleanup();
    }
  });
});

describe('the sample Grafana dashboard', () => {
  it('queries only metrics the node exports', async () => {
    const node = await buildTestNode(memoryBackend, { PONTIS_METRICS_TOKEN: TOKEN });
    try {
      await node.server.inject('/fhir/Patient?family=x');
      const text = (await node.server.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })).payload;
      const dashboard = JSON.parse(readFileSync(join(projectRoot(), 'docs', 'ops', 'grafana-dashboard.json'), 'utf8')) as { panels: { targets: { expr: string }[] }[] };
      const names = new Set(dashboard.panels.flatMap((p) => p.targets.flatMap((t) => t.expr.match(/pontis_[a-z0-9_]+/g) ?? [])));
      expect(names.size).toBeGreaterThan(10);
      for (const name of names) {
        const family = name.replace(/_(bucket|sum|count)$/, '');
        expect([name, text.includes(`# TYPE ${family} `) || text.includes(`# TYPE ${name} `)]).toEqual([name, true]);
      }
    } finally {
      await node.cleanup();
    }
  });
});

describe('metrics on a port of their own', () => {
  it('serves /metrics there and nowhere on the API port', async () => {
    const metricsPort = await freePort();
    const node = await buildTestNode(memoryBackend, { PORT: '0', PONTIS_METRICS_PORT: String(metricsPort) });
    await node.server.start();
    try {
      const scraped = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { headers: { accept: 'text/plain' } });
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toContain('# TYPE pontis_http_request_duration_seconds histogram');
      expect((await fetch(`http://127.0.0.1:${metricsPort}/fhir/metadata`)).status).toBe(404);
      expect((await node.server.inject({ url: '/metrics', headers: NO_TOKEN })).statusCode).toBe(404);
    } finally {
      await node.cleanup();
    }
    await expect(fetch(`http://127.0.0.1:${metricsPort}/metrics`)).rejects.toThrow();
  });

  it('refuses a metrics port equal to the API port at start-up', async () => {
    await expect(buildTestNode(memoryBackend, { PORT: '9400', PONTIS_METRICS_PORT: '9400' })).rejects.toThrow(/PONTIS_METRICS_PORT/);
  });
});
