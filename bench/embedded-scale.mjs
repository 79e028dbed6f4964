#!/usr/bin/env node
// npm run bench:embedded-scale: the embedded store from empty to 100,000 documents (issue 16).
// A node process on the embedded store (`node dist/src/main.js`, no MONGODB_URI) receives minimal
// IPS documents, each of a new patient (its own identifier, names, birth date), through the API
// as hospitals push them; at each size it is measured, one request at a time:
//   - push: CPU of the node process per push (utime + stime from /proc, all threads) over
//     BENCH_SCALE_MEASURE pushes, and their p50; the load's own CPU per push too;
//   - `$summary` by identifier of patients drawn at random from all loaded: p50 / p95, CPU;
//   - the node's heap in use and external memory (its Prometheus metrics) and RSS (/proc).
// Each figure with its ratio to the first size's. With BENCH_BASELINE=<folder of an earlier build>
// that build runs beside it in the same run, size by size (the two loads alternate).
//
//   BENCH_SCALE_SIZES=1000,10000,100000   sizes to reach (default 1000,10000,100000)
//   BENCH_SCALE_CONCURRENCY=8              pushes in flight while loading
//   BENCH_SCALE_MEASURE=300                pushes measured one at a time at each size
//   BENCH_SCALE_REQUESTS=200               $summary requests at each size
//   BENCH_HEAP_MIB=8192                    the nodes' --max-old-space-size (the bound is half of it)
//   BENCH_BASELINE, BENCH_BASELINE_NAME    an earlier build to compare with, in the same run
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mintDemoToken } from '../dist/src/auth/demo-tokens.js';
import { machine, startProcess } from './lib.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SIZES = (process.env.BENCH_SCALE_SIZES ?? '1000,10000,100000').split(',').map(Number);
const CONCURRENCY = Number(process.env.BENCH_SCALE_CONCURRENCY ?? 8);
const MEASURE = Number(process.env.BENCH_SCALE_MEASURE ?? 300);
const REQUESTS = Number(process.env.BENCH_SCALE_REQUESTS ?? 200);
const HEAP_MIB = Number(process.env.BENCH_HEAP_MIB ?? 8192);
const SYSTEM = 'urn:oid:1.2.40.0.10.1.4.3.1';
const TEMPLATE = readFileSync(join(ROOT, 'profiles/hl7.fhir.uv.ips-2.0.0/package/example/Bundle-bundle-minimal.json'), 'utf8');
const FAMILIES = ['Gruber', 'Huber', 'Bauer', 'Wagner', 'Müller', 'Pichler', 'Steiner', 'Moser', 'Mayer', 'Hofer', 'Silva', 'Santos', 'Ferreira', 'Pereira', 'Oliveira', 'Costa', 'Gonçalves', 'Gomes', 'Lopes', 'Marques'];
const GIVEN = ['Anna', 'Maria', 'Sophie', 'Laura', 'Lena', 'Lukas', 'David', 'Paul', 'João', 'Tiago'];
const TICKS_PER_SECOND = 100; // USER_HZ on Linux
// The embedded store: a MongoDB server in the environment would be taken instead.
delete process.env.MONGODB_URI;

/** Deterministic pseudo-random numbers, so that both builds load the same patients. */
function random(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Patient `n`'s identifier value and document (minimal IPS, of its own patient). */
function patient(n) {
  const next = random(n + 1);
  const value = String(2000000000 + n);
  const document = JSON.parse(TEMPLATE);
  document.identifier = { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${randomUUID()}` };
  document.timestamp = new Date(Date.UTC(2025, 0, 1) + n * 60_000).toISOString();
  const subject = document.entry.find((e) => e.resource.resourceType === 'Patient').resource;
  subject.identifier = [{ system: SYSTEM, value }];
  subject.name = [{ family: FAMILIES[Math.floor(next() * FAMILIES.length)], given: [GIVEN[Math.floor(next() * GIVEN.length)]] }];
  subject.birthDate = `${1930 + Math.floor(next() * 90)}-${String(1 + Math.floor(next() * 12)).padStart(2, '0')}-${String(1 + Math.floor(next() * 28)).padStart(2, '0')}`;
  return { value, body: JSON.stringify(document) };
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

/** CPU seconds of process `pid` so far, all threads. */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

const rssBytes = (pid) => Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]) * 1024;

/** One node on the embedded store, of the build in `root`. */
async function startNode(name, root, port, metricsPort) {
  const { child } = await startProcess([`--max-old-space-size=${HEAP_MIB}`, join(root, 'dist/src/main.js')], {
    PORT: String(port), HOST: '127.0.0.1', PONTIS_METRICS_PORT: String(metricsPort), PONTIS_SEED: '0', LOG_LEVEL: 'warn', PONTIS_COUNTRY: 'AT',
    PONTIS_CONSENT_DEFAULT: 'opt-out', PONTIS_LIMIT_PER_REQUESTER: '1000000000', PONTIS_LIMIT_PER_PATIENT: '1000000000'
  }, /listening on/);
  const base = `http://127.0.0.1:${port}/fhir`;
  return { name, child, base, metrics: `http://127.0.0.1:${metricsPort}/metrics`, loaded: 0, rows: [] };
}

const token = (node, scope) => mintDemoToken({ audience: node.base, ...(scope ? { scope } : {}), ttlSeconds: 3600 });

async function push(node, n) {
  const { body } = patient(n);
  const response = await fetch(`${node.base}/Bundle`, { method: 'POST', headers: { authorization: `Bearer ${await token(node, 'system/Bundle.c')}`, 'content-type': 'application/fhir+json' }, body });
  await response.arrayBuffer();
  if (response.status !== 201) throw new Error(`${node.name}: push of patient ${n} answered ${response.status}`);
}

/** Loads patients up to `size`, CONCURRENCY pushes in flight; resolves to the node's CPU per push (ms). */
async function loadTo(node, size) {
  const from = node.loaded;
  const cpu = cpuSeconds(node.child.pid);
  let next = from;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < size) await push(node, next++);
  }));
  node.loaded = size;
  return ((cpuSeconds(node.child.pid) - cpu) * 1000) / Math.max(1, size - from);
}

/** `count` requests made by `send(i)` one at a time: p50, p95 (ms) and the node's CPU per request (ms). */
async function oneAtATime(node, count, prepare, send) {
  const prepared = await Promise.all(Array.from({ length: count }, (_, i) => prepare(i)));
  const times = [];
  const cpu = cpuSeconds(node.child.pid);
  for (const p of prepared) {
    const started = performance.now();
    await send(p);
    times.push(performance.now() - started);
  }
  const cpuPer = ((cpuSeconds(node.child.pid) - cpu) * 1000) / count;
  times.sort((a, b) => a - b);
  return { p50: quantile(times, 0.5), p95: quantile(times, 0.95), cpu: cpuPer };
}

async function memory(node) {
  const text = await (await fetch(node.metrics)).text();
  const metric = (name) => Number(text.match(new RegExp(`^pontis_process_${name} (\\S+)`, 'm'))?.[1] ?? NaN);
  return { heap: metric('nodejs_heap_size_used_bytes'), external: metric('nodejs_external_memory_bytes'), rss: rssBytes(node.child.pid) };
}

async function measure(node, size) {
  const loadCpu = await loadTo(node, size);
  const pushes = await oneAtATime(node, MEASURE, async (i) => ({ n: node.loaded + i, token: await token(node, 'system/Bundle.c') }), async ({ n, token: t }) => {
    const response = await fetch(`${node.base}/Bundle`, { method: 'POST', headers: { authorization: `Bearer ${t}`, 'content-type': 'application/fhir+json' }, body: patient(n).body });
    await response.arrayBuffer();
    if (response.status !== 201) throw new Error(`${node.name}: measured push answered ${response.status}`);
  });
  node.loaded += MEASURE;
  const draw = random(size * 7 + 3);
  const summary = await oneAtATime(node, REQUESTS, async () => ({ value: patient(Math.floor(draw() * size)).value, token: await token(node) }), async ({ value, token: t }) => {
    const response = await fetch(`${node.base}/Patient/$summary?identifier=${encodeURIComponent(`${SYSTEM}|${value}`)}`, { headers: { authorization: `Bearer ${t}` } });
    const body = await response.text();
    if (response.status !== 200 || !body.includes('"Composition"')) throw new Error(`${node.name}: $summary answered ${response.status}`);
  });
  const row = { build: node.name, size, documents: node.loaded, loadCpuPerPush: loadCpu, push: pushes, summary, ...(await memory(node)) };
  process.stdout.write(`${JSON.stringify(row)}\n`);
  node.rows.push(row);
}

const nodes = [await startNode('this build', ROOT, 18811, 18812)];
if (process.env.BENCH_BASELINE) nodes.push(await startNode(process.env.BENCH_BASELINE_NAME ?? `previous (${process.env.BENCH_BASELINE})`, process.env.BENCH_BASELINE, 18813, 18814));
const started = performance.now();
try {
  for (const size of SIZES) for (const node of nodes) await measure(node, size);
} finally {
  for (const node of nodes) node.child.kill('SIGTERM');
}

const mib = (b) => (b / 2 ** 20).toFixed(0);
const ratio = (value, first) => `${(value / first).toFixed(2)}×`;
process.stdout.write(`\n${machine()}; embedded store, --max-old-space-size=${HEAP_MIB}; minimal documents of new patients, ${CONCURRENCY} pushes in flight while loading; at each size ${MEASURE} pushes and ${REQUESTS} $summary one at a time; ${((performance.now() - started) / 60_000).toFixed(1)} min\n\n`);
process.stdout.write('| build | documents | push CPU ms (load) | push CPU ms (one at a time), ratio | push p50 ms | $summary p50 / p95 ms, ratio p50 | $summary CPU ms | heap MiB | external MiB | RSS MiB | heap + external per document since the first size, KB |\n|---|---|---|---|---|---|---|---|---|---|---|\n');
for (const node of nodes) {
  const [first] = node.rows;
  for (const r of node.rows) {
    process.stdout.write(`| ${r.build} | ${r.size.toLocaleString('en')} | ${r.loadCpuPerPush.toFixed(2)} | ${r.push.cpu.toFixed(2)} (${ratio(r.push.cpu, first.push.cpu)}) | ${r.push.p50.toFixed(1)} | ${r.summary.p50.toFixed(2)} / ${r.summary.p95.toFixed(2)} (${ratio(r.summary.p50, first.summary.p50)}) | ${r.summary.cpu.toFixed(2)} | ${mib(r.heap)} | ${mib(r.external)} | ${mib(r.rss)} | ${r === first ? '' : ((r.heap + r.external - first.heap - first.external) / (r.documents - first.documents) / 1024).toFixed(1)} |\n`);
  }
}
