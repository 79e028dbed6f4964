#!/usr/bin/env node
// npm run bench:operations (issue 15): what running the node like a service costs.
//  - an audited read (GET /fhir/Patient/{id}: token, budgets, consent gate, audit record, plus
//    the tracing and metrics every request now carries) with OTLP span export off (default) and
//    on (to a local collector in a process of its own), against bare hapi answering the same
//    bytes (the ceiling), alternating in one run;
//  - GET /health/ready and a /metrics scrape (sequential, latency only);
//  - the metrics plugin's own cost per request (NodeMetrics.observe, in this process).
// Nodes on the embedded store with the seed; each server in its own process.
import { writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mintDemoToken } from '../dist/src/auth/demo-tokens.js';
import { NodeMetrics } from '../dist/src/plugins/metrics.js';
import { concurrency, DURATION, load, machine, startProcess, withTokens } from './lib.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CONNECTIONS = concurrency('10');
const METRICS_TOKEN = 'bench-operator-token-0123456789-abcdefghij';
const GRUBER = 'urn:oid:1.2.40.0.10.1.4.3.1|1238140358';

const token = (port) => mintDemoToken({ audience: `http://127.0.0.1:${port}/fhir`, scope: 'system/Patient.rs', ttlSeconds: 3600 });

/** A collector in a process of its own: accepts OTLP/HTTP JSON and counts spans. */
const COLLECTOR = `
let spans = 0;
createServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    if (req.url === '/count') return res.end(String(spans));
    // Counted without parsing: the collector's work is not the node's, and shares the 2 cores.
    spans += body.split('"spanId"').length - 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
}).listen(Number(process.argv[1]), '127.0.0.1', () => process.stdout.write('ready\\n'));
`;

function sequentialMs(count, send) {
  return (async () => {
    const ms = [];
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      await send();
      ms.push(performance.now() - started);
    }
    ms.sort((a, b) => a - b);
    return { p50: +ms[Math.floor(ms.length / 2)].toFixed(2), p95: +ms[Math.floor(ms.length * 0.95)].toFixed(2) };
  })();
}

async function main() {
  const children = [];
  try {
    const node = (port, env = {}) =>
      startProcess([join(ROOT, 'dist/src/main.js')], {
        PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', PONTIS_COUNTRY: 'AT', PONTIS_METRICS_TOKEN: METRICS_TOKEN,
        PONTIS_LIMIT_PER_REQUESTER: '1000000000', PONTIS_LIMIT_PER_PATIENT: '1000000000', ...env,
      }, /listening on/).then((s) => s.child);
    children.push((await startProcess(['--input-type=module', '-e', COLLECTOR, '18293'], {}, /ready/)).child);
    children.push(await node(18291), await node(18292, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:18293', OTEL_SERVICE_NAME: 'pontis-bench' }));

    const patientIdAt = async (port) => {
      const found = await (await fetch(`http://127.0.0.1:${port}/fhir/Patient?identifier=${encodeURIComponent(GRUBER)}`, { headers: { authorization: `Bearer ${await token(port)}` } })).json();
      return found.entry[0].resource.id;
    };
    const [idA, idB] = [await patientIdAt(18291), await patientIdAt(18292)];
    const patientBytes = Buffer.from(await (await fetch(`http://127.0.0.1:18291/fhir/Patient/${idA}`, { headers: { authorization: `Bearer ${await token(18291)}` } })).arrayBuffer());
    const bytesFile = join(tmpdir(), `pontis-bench-ops-${process.pid}.json`);
    writeFileSync(bytesFile, patientBytes);
    children.push((await startProcess([join(ROOT, 'bench/bare-server.mjs'), bytesFile, '18294'], {}, /ready/)).child);

    const rows = [];
    const reads = Math.max(2000, DURATION * 3000);
    for (const connections of CONNECTIONS) {
      // Alternating, twice, so that drift of the machine shows.
      for (let round = 0; round < 2; round++) {
        rows.push(await load('bare hapi, same bytes (ceiling)', { url: 'http://127.0.0.1:18294/bare', connections }));
        rows.push(await load('GET Patient/{id}, OTLP export off (default)', await withTokens({ url: `http://127.0.0.1:18291/fhir/Patient/${idA}`, connections }, reads, () => token(18291))));
        rows.push(await load('GET Patient/{id}, OTLP export on', await withTokens({ url: `http://127.0.0.1:18292/fhir/Patient/${idB}`, connections }, reads, () => token(18292))));
      }
    }
    const exported = Number(await (await fetch('http://127.0.0.1:18293/count')).text());

    const ready = await sequentialMs(500, async () => (await fetch('http://127.0.0.1:18291/health/ready')).arrayBuffer());
    let scrapeBytes = 0;
    const scrape = await sequentialMs(200, async () => {
      scrapeBytes = (await (await fetch('http://127.0.0.1:18291/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).arrayBuffer()).byteLength;
    });

    // The plugin's own work per response, in this process: observe() with a typical request.
    const metrics = new NodeMetrics();
    const request = {
      response: { statusCode: 200 },
      method: 'get',
      route: { path: '/fhir/Patient/{id}', settings: { plugins: { pontis: { audit: { resourceType: 'Patient', interaction: 'read' } } } } },
      info: { received: Date.now() },
      app: { access: { decision: { outcome: 'permit', breakGlass: false } } },
      payload: undefined,
    };
    for (let i = 0; i < 20_000; i++) metrics.observe(request);
    const started = process.hrtime.bigint();
    const N = 200_000;
    for (let i = 0; i < N; i++) metrics.observe(request);
    const observeUs = Number(process.hrtime.bigint() - started) / 1000 / N;

    const mean = (name, c) => {
      const r = rows.filter((x) => x.name === name && x.connections === c);
      return { rps: Math.round(r.reduce((s, x) => s + x.rps, 0) / r.length), p50: Math.max(...r.map((x) => x.p50)), p99: Math.max(...r.map((x) => x.p99)), non2xx: r.reduce((s, x) => s + x.non2xx, 0) };
    };
    const lines = [`machine: ${machine()}`, `seconds per run: ${DURATION}`, ''];
    for (const c of CONNECTIONS) {
      const ceiling = mean('bare hapi, same bytes (ceiling)', c);
      for (const name of ['bare hapi, same bytes (ceiling)', 'GET Patient/{id}, OTLP export off (default)', 'GET Patient/{id}, OTLP export on']) {
        const m = mean(name, c);
        lines.push(`${c} connections | ${name} | ${m.rps} req/s (${(m.rps / ceiling.rps).toFixed(3)} of ceiling) | p50 ${m.p50} ms | p99 ${m.p99} ms | non-2xx ${m.non2xx}`);
      }
    }
    lines.push(`spans received by the collector: ${exported}`);
    lines.push(`GET /health/ready (store ping, embedded): p50 ${ready.p50} ms, p95 ${ready.p95} ms`);
    lines.push(`GET /metrics scrape (${scrapeBytes} bytes): p50 ${scrape.p50} ms, p95 ${scrape.p95} ms`);
    lines.push(`NodeMetrics.observe per response: ${observeUs.toFixed(2)} µs`);
    process.stdout.write(`\n${lines.join('\n')}\n`);
    mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
    writeFileSync(join(ROOT, 'bench', 'results', 'operations.json'), JSON.stringify({ machine: machine(), rows, exported, ready, scrape, scrapeBytes, observeUs }, null, 1));
  } finally {
    for (const child of children) child.kill('SIGTERM');
  }
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
