#!/usr/bin/env node
// The embedded store's memory (issue 16). Run with `node --expose-gc bench/embedded-memory.mjs`
// after `npm run build` (npm run bench:embedded-memory).
//
// 1. Per stored document: a node built in a process of its own (server.inject, every check on:
//    token, validation, consent, audit) receives BENCH_DOCUMENTS (2000) minimal and
//    BENCH_DOCUMENTS / 5 all-sections documents, each of a new patient; the heap after a full GC,
//    the process's RSS, Buffers (the document cache, and the embedded store's documents since
//    issue 16) and the store's own estimate, per document. With BENCH_BASELINE, that build too.
// 2. When memory runs short: a node process with a small heap (BENCH_HEAP_MIB, 256) and the
//    default bounds (its bytes from the machine's memory, its heap part from the heap limit)
//    receives pushes until it refuses one or dies; then a read. With
//    BENCH_BASELINE=<folder with an earlier build> that build gets the same, in the same run.
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { mintDemoToken } from '../dist/src/auth/demo-tokens.js';
import { machine } from './lib.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLES = join(ROOT, 'profiles/hl7.fhir.uv.ips-2.0.0/package/example');
const DOCUMENTS = Number(process.env.BENCH_DOCUMENTS ?? 2000);
const HEAP_MIB = Number(process.env.BENCH_HEAP_MIB ?? 256);
const templates = {
  minimal: readFileSync(join(EXAMPLES, 'Bundle-bundle-minimal.json'), 'utf8'),
  'all-sections': readFileSync(join(EXAMPLES, 'Bundle-bundle-ips-all-sections.json'), 'utf8'),
};
const MIB = 1024 * 1024;

/** A distinct document of a new patient, serialised: what a hospital's push sends. */
function freshBody(template) {
  const document = JSON.parse(template);
  document.identifier.value = randomUUID();
  document.entry.find((e) => e.resource.resourceType === 'Patient').resource.identifier[0].value = randomUUID();
  return JSON.stringify(document);
}

function settledMemory() {
  if (!globalThis.gc) throw new Error('run with node --expose-gc');
  globalThis.gc();
  globalThis.gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss, buffers: m.arrayBuffers };
}

/** Part 1 for the build in `root`, in this process (run as a child: BENCH_PER_DOCUMENT_ROOT). */
async function perDocument(root) {
  const from = (path) => import(join(root, 'dist/src', path));
  const { TrustList } = await from('auth/trust-list.js');
  const { DEMO_TRUST_LIST, loadConfig } = await from('config.js');
  const { MemoryDatabase } = await from('repositories/memory-database.js');
  const { storeOn } = await from('repositories/store.js');
  const { createServer } = await from('server.js');
  const { createValidator } = await from('validation/index.js');
  const config = loadConfig({ PONTIS_COUNTRY: 'AT', PONTIS_BASE_URL: 'http://at.example/fhir', LOG_LEVEL: 'silent', PONTIS_LIMIT_PER_REQUESTER: '1000000000', PONTIS_LIMIT_PER_PATIENT: '1000000000' });
  // Both bounds as a node sets them (builds before the heap bound ignore maxHeapBytes).
  const database = new MemoryDatabase({ maxBytes: config.embeddedMaxBytes, maxHeapBytes: config.embeddedMaxHeapBytes });
  const store = await storeOn(database, config);
  const server = await createServer({ config, store, logger: pino({ level: 'silent' }), validator: createValidator(), trust: await TrustList.load(DEMO_TRUST_LIST) });
  await server.initialize();
  const rows = [];
  for (const [name, count] of [['minimal', DOCUMENTS], ['all-sections', Math.max(1, Math.round(DOCUMENTS / 5))]]) {
    // One push first, so that what is loaded once (validator caches, JIT) is not counted per document.
    const push = async () => {
      const token = await mintDemoToken({ audience: config.baseUrl, scope: 'system/Bundle.c' });
      const response = await server.inject({ method: 'POST', url: '/fhir/Bundle', payload: freshBody(templates[name]), headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' } });
      if (response.statusCode !== 201) throw new Error(`push refused: ${response.statusCode} ${response.payload.slice(0, 300)}`);
    };
    await push();
    const before = settledMemory();
    const estimatedBefore = database.capacity().usedBytes;
    for (let i = 0; i < count; i++) await push();
    const after = settledMemory();
    const estimated = (database.capacity().usedBytes - estimatedBefore) / count;
    const row = {
      document: name,
      bytes: Buffer.byteLength(templates[name]),
      stored: count,
      heapPerDocument: Math.round((after.heap - before.heap) / count),
      rssPerDocument: Math.round((after.rss - before.rss) / count),
      buffersPerDocument: Math.round((after.buffers - before.buffers) / count),
      estimatedPerDocument: Math.round(estimated),
    };
    row.heapAndBuffersPerDocument = row.heapPerDocument + row.buffersPerDocument;
    row.heapOverEstimate = Number((row.heapPerDocument / row.estimatedPerDocument).toFixed(2));
    rows.push(row);
  }
  await server.stop();
  return { rows, boundBytes: config.embeddedMaxBytes };
}

/** Part 1 for the build in `root`, in a child process of its own (so that builds share no heap). */
function perDocumentOf(name, root) {
  const output = execFileSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url)], { env: { ...process.env, BENCH_PER_DOCUMENT_ROOT: root }, encoding: 'utf8', maxBuffer: 1 << 24 });
  const result = JSON.parse(output.trim().split('\n').at(-1));
  for (const row of result.rows) process.stdout.write(`${JSON.stringify({ build: name, ...row })}\n`);
  return { name, ...result };
}

/** A node process with a small heap, pushed until it refuses or dies; then one read of a stored document. */
async function untilFull(name, root) {
  const port = 18400 + Math.floor(Math.random() * 500);
  const base = `http://127.0.0.1:${port}/fhir`;
  const child = spawn(process.execPath, [`--max-old-space-size=${HEAP_MIB}`, join(root, 'dist/src/main.js')], {
    env: { ...process.env, PORT: String(port), PONTIS_SEED: '0', LOG_LEVEL: 'warn', PONTIS_COUNTRY: 'AT', PONTIS_LIMIT_PER_REQUESTER: '1000000000', PONTIS_LIMIT_PER_PATIENT: '1000000000', PONTIS_DOCUMENT_CACHE_BYTES: String(16 * MIB) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  let exit;
  const exited = new Promise((done) => child.once('exit', (code, signal) => done((exit = { code, signal }))));
  while (!/listening on/.test(output)) {
    if (exit) throw new Error(`${name} did not start: ${output}`);
    await new Promise((done) => setTimeout(done, 50));
  }
  const started = performance.now();
  let stored = 0;
  let firstId;
  let outcome = 'no refusal within 120 s';
  const tokens = [];
  while (performance.now() - started < 120_000) {
    if (tokens.length === 0) for (let i = 0; i < 50; i++) tokens.push(await mintDemoToken({ audience: base, scope: 'system/Bundle.c' }));
    let response;
    try {
      response = await fetch(`${base}/Bundle`, { method: 'POST', headers: { authorization: `Bearer ${tokens.pop()}`, 'content-type': 'application/fhir+json' }, body: freshBody(templates['all-sections']) });
    } catch {
      await exited;
      outcome = `the process died (${exit.signal ?? `exit ${exit.code}`}): ${/heap out of memory/i.test(output) ? 'JavaScript heap out of memory' : output.slice(-200).replace(/\s+/g, ' ')}`;
      break;
    }
    const body = await response.text();
    if (response.status === 201) {
      stored++;
      firstId ??= JSON.parse(body).id;
      continue;
    }
    outcome = `HTTP ${response.status}: ${JSON.parse(body).issue?.[0]?.diagnostics ?? body.slice(0, 200)}`;
    break;
  }
  const rss = exit ? undefined : Number(readFileSync(`/proc/${child.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]) / 1024;
  let read = 'not tried';
  if (!exit && firstId) {
    const token = await mintDemoToken({ audience: base, scope: 'system/Bundle.r' });
    read = `HTTP ${(await fetch(`${base}/Bundle/${firstId}`, { headers: { authorization: `Bearer ${token}` } })).status}`;
  }
  const capacity = output.match(/holds at most (\d+) MiB/)?.[1];
  child.kill('SIGTERM');
  await exited;
  const row = { build: name, heapMiB: HEAP_MIB, boundMiB: capacity ? Number(capacity) : null, stored, outcome, readAfter: read, rssMiB: rss === undefined ? null : Math.round(rss) };
  process.stdout.write(`${JSON.stringify(row)}\n`);
  return row;
}

if (process.env.BENCH_PER_DOCUMENT_ROOT) {
  process.stdout.write(`${JSON.stringify(await perDocument(process.env.BENCH_PER_DOCUMENT_ROOT))}\n`);
  process.exit(0);
}
process.stdout.write(`embedded store memory, ${machine()}\n`);
const builds = [perDocumentOf('this build', ROOT)];
if (process.env.BENCH_BASELINE) builds.push(perDocumentOf(process.env.BENCH_BASELINE_NAME ?? `previous (${process.env.BENCH_BASELINE})`, process.env.BENCH_BASELINE));
process.stdout.write(`\ndefault bound in this process: ${Math.round(builds[0].boundBytes / MIB)} MiB\n| build | document | JSON bytes | stored | heap per document | Buffers per document | heap + Buffers | RSS per document | store's estimate per document | heap / estimate |\n|---|---|---|---|---|---|---|---|---|---|\n`);
for (const b of builds) for (const r of b.rows) process.stdout.write(`| ${b.name} | ${r.document} | ${r.bytes} | ${r.stored} | ${r.heapPerDocument} | ${r.buffersPerDocument} | ${r.heapAndBuffersPerDocument} | ${r.rssPerDocument} | ${r.estimatedPerDocument} | ${r.heapOverEstimate} |\n`);
const full = [await untilFull('this build', ROOT)];
if (process.env.BENCH_BASELINE) full.push(await untilFull(process.env.BENCH_BASELINE_NAME ?? `previous (${process.env.BENCH_BASELINE})`, process.env.BENCH_BASELINE));
process.stdout.write(`\n| build | heap limit | bound stated at start-up | all-sections documents stored | then | a read after | RSS then |\n|---|---|---|---|---|---|---|\n`);
for (const r of full) process.stdout.write(`| ${r.build} | ${r.heapMiB} MiB | ${r.boundMiB === null ? 'none' : `${r.boundMiB} MiB`} | ${r.stored} | ${r.outcome} | ${r.readAfter} | ${r.rssMiB === null ? '' : `${r.rssMiB} MiB`} |\n`);
