#!/usr/bin/env node
// npm run bench:push: what a push costs, as users get it, against the previous version in the
// same run. Pushes of the minimal and the all-sections IPS documents (each request a distinct
// document of a new patient, so the node parses, validates, hashes and stores fresh bytes), and
// a clinician's $summary, at 1 and 10 connections, on the embedded store and on FerretDB; per
// run: requests/s, p50/p95/p99, and the CPU of the node process (all its threads; and of its
// event loop alone) and of FerretDB per request, from /proc/<pid>/stat. Then the database round trips of one push and
// one read, counted on the wire by a proxy in front of FerretDB (bench/wire-counter.mjs).
//
// BENCH_BASELINE=<folder with an earlier build (dist/, node_modules)> measures it beside this
// build, runs alternating; BENCH_BASELINE_NAME names it in the report. BENCH_SECONDS (10),
// BENCH_CONCURRENCY (1,10), BENCH_STORES (embedded,ferretdb), BENCH_WORKLOADS
// (minimal,all-sections,summary) narrow the run. BENCH_ENV / BENCH_BASELINE_ENV
// (`NAME=value,NAME=value`) add to the environment of this build's / the baseline's node: with
// BENCH_BASELINE set to this very folder, two settings are compared in the same run.
// BENCH_WARMUP (40) pushes of each document warm each node up (JIT, the validation workers) first.
// BENCH_INPROCESS=1 instead drives both builds in this one process through server.inject (no HTTP,
// no sockets), alternating chunks of BENCH_CHUNK (40) pushes for BENCH_ROUNDS (8) rounds at
// BENCH_CONCURRENCY, and reports the CPU of this process's main thread (the event loop) and of the
// whole process per push: on a loaded machine the CPU ratio of two builds is steadier this way.
// BENCH_RATE=<requests/s> holds every run at that overall rate (autocannon's overallRate): CPU per
// request of two stores, or of a store with and without a competing database, at equal throughput.
// BENCH_PORT (18200) is the first of the ports the nodes listen on (a run takes a few after it).
// BENCH_CPU_PROF=<folder> runs the nodes under `node --cpu-prof` (one .cpuprofile per thread, written at exit). BENCH_STORED=<n> first pushes n documents into
// each node's store (the cost as the store grows; the node's memory after them is reported).
// BENCH_BARE (1; 0 to leave out) also runs, on the first store's turn, bench/bare-push-server.mjs: bare
// hapi answering the same pushes with the same bytes and compression after a busy loop of the
// node's event-loop CPU per push (this version's, measured in the row just before) and, for a
// document at or above PONTIS_VALIDATION_WORKER_BYTES (64 KB, which the node validates on its
// workers), one of the rest of its CPU on a worker thread, so that each push row's p95/p50 stands
// beside what a single event loop gives at that CPU under this client.
import autocannon from 'autocannon';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMongoTestServer, stopMongoTestServer, NO_SERVER_HELP } from '../scripts/mongo-test-server.mjs';
import { mintDemoToken } from '../dist/src/auth/demo-tokens.js';
import { concurrency, DURATION, load, machine, permitSharing, startProcess, withTokens } from './lib.mjs';
import { startWireCounter } from './wire-counter.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLES = join(ROOT, 'profiles/hl7.fhir.uv.ips-2.0.0/package/example');
const CONCURRENCY = concurrency('1,10');
const STORES = (process.env.BENCH_STORES ?? 'embedded,ferretdb').split(',');
const WORKLOADS = (process.env.BENCH_WORKLOADS ?? 'minimal,all-sections,summary').split(',');
const COUNTED = Number(process.env.BENCH_COUNTED ?? 20);
const STORED = Number(process.env.BENCH_STORED ?? 0);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 40);
const RATE = Number(process.env.BENCH_RATE ?? 0);
const FIRST_PORT = Number(process.env.BENCH_PORT ?? 18200);
const BARE = process.env.BENCH_BARE !== '0';
const BARE_NAME = 'bare hapi (same bytes, busy loop)';
const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());

/** `NAME=value,NAME=value` as an environment. */
const environment = (list) => Object.fromEntries((list ?? '').split(',').filter(Boolean).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
const builds = [{ name: 'this version', root: ROOT, env: environment(process.env.BENCH_ENV) }];
if (process.env.BENCH_BASELINE) {
  builds.push({ name: process.env.BENCH_BASELINE_NAME ?? `previous (${process.env.BENCH_BASELINE})`, root: process.env.BENCH_BASELINE, env: environment(process.env.BENCH_BASELINE_ENV) });
}
const PROFILE = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];

const documents = {
  minimal: JSON.parse(readFileSync(join(EXAMPLES, 'Bundle-bundle-minimal.json'), 'utf8')),
  'all-sections': JSON.parse(readFileSync(join(EXAMPLES, 'Bundle-bundle-ips-all-sections.json'), 'utf8')),
};

/** CPU seconds a process (all its threads) has used, from /proc/<pid>/stat; its main thread's (the event loop) with `mainThread`. */
function cpuSeconds(pid, mainThread = false) {
  if (pid === undefined) return NaN;
  const stat = readFileSync(mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of stat (utime, stime), counted from after the command name.
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/**
 * A distinct document of a new patient, serialised: what a hospital's push sends. Built by joining
 * the template's text around two fresh identifiers (no parse or serialisation per request), so the
 * load generator, which shares the machine's two cores with the node, costs the node's requests
 * little CPU and no garbage-collection pauses of its own in their latencies.
 */
const templateParts = new Map();
function freshBody(template) {
  let parts = templateParts.get(template);
  if (!parts) {
    const document = JSON.parse(JSON.stringify(template));
    document.identifier.value = '\u0000document\u0000';
    document.entry.find((e) => e.resource.resourceType === 'Patient').resource.identifier[0].value = '\u0000patient\u0000';
    const text = JSON.stringify(document);
    const [head, rest] = text.split('"\\u0000document\\u0000"');
    const [middle, tail] = rest.split('"\\u0000patient\\u0000"');
    parts = [head, middle, tail];
    if (parts.some((part) => part === undefined)) throw new Error('freshBody: the template has no document or patient identifier');
    templateParts.set(template, parts);
  }
  return `${parts[0]}"${randomUUID()}"${parts[1]}"${randomUUID()}"${parts[2]}`;
}

const base = (port) => `http://127.0.0.1:${port}/fhir`;
const hisToken = (port, scope) => mintDemoToken({ audience: base(port), scope, ttlSeconds: 3600 });
const doctorToken = (port) => mintDemoToken({ audience: base(port), issuer: 'idp', country: 'AT', ttlSeconds: 3600 });
/** What users' HTTP clients send: a push's 201 echoes the document, compressed when asked. */
const PUSH_HEADERS = { 'content-type': 'application/fhir+json', 'accept-encoding': 'gzip, deflate' };

/** Starts a node of `build` on `mongodbUri` ('' for the embedded store); stores a patient with a permitting Consent. */
async function startNode(build, port, mongodbUri, env = {}) {
  const { child } = await startProcess([...PROFILE, join(build.root, 'dist/src/main.js')], {
    PORT: String(port), HOST: '127.0.0.1', MONGODB_URI: mongodbUri, MONGODB_DATABASE: `pontis_push_${randomUUID().slice(0, 8)}`,
    PONTIS_SEED: '0', LOG_LEVEL: 'warn', PONTIS_COUNTRY: 'AT',
    // Limits high enough never to refuse: their counting is part of what is measured.
    PONTIS_LIMIT_PER_REQUESTER: '1000000000', PONTIS_LIMIT_PER_PATIENT: '1000000000', ...build.env, ...env,
  }, /listening on/);
  const his = async (scope) => ({ authorization: `Bearer ${await hisToken(port, scope)}`, 'content-type': 'application/fhir+json' });
  const pushed = await (await fetch(`${base(port)}/Bundle`, { method: 'POST', headers: await his('system/Bundle.c'), body: JSON.stringify(documents['all-sections']) })).json();
  const patientId = await permitSharing(base(port), pushed, his);
  return { child, port, summaryUrl: `${base(port)}/Patient/${patientId}/$summary` };
}

/** bench/bare-push-server.mjs on `port`: a node-like object for the push workloads. */
async function startBare(port) {
  const { child } = await startProcess([join(ROOT, 'bench/bare-push-server.mjs'), String(port)], {}, /listening on/);
  return { child, port, bare: true };
}

/** Sets the bare server's busy loops per request: on its event loop, on a worker. */
async function setBusy(node, loopMs, workerMs = 0) {
  const response = await fetch(`http://127.0.0.1:${node.port}/busy/${loopMs.toFixed(3)}/${workerMs.toFixed(3)}`, { method: 'PUT' });
  if (!response.ok) throw new Error(`bare server: ${response.status}`);
}

/**
 * The bare server's own event-loop CPU per push of each document (hapi, payload, compression),
 * with no busy loop: what its busy loop adds to, to match the node's.
 */
async function bareOverhead(node) {
  const overhead = {};
  await setBusy(node, 0);
  for (const name of WORKLOADS.filter((w) => w in documents)) {
    const options = await workload(name, node, 10);
    const before = { loop: cpuSeconds(node.child.pid, true), all: cpuSeconds(node.child.pid) };
    const result = await autocannon({ ...options, duration: 3 });
    const perPush = (seconds) => (seconds * 1000) / result.requests.total;
    overhead[name] = { loop: perPush(cpuSeconds(node.child.pid, true) - before.loop), rest: perPush(cpuSeconds(node.child.pid) - before.all) };
    overhead[name].rest -= overhead[name].loop;
  }
  process.stdout.write(`${JSON.stringify({ bareEventLoopCpuMsPerPush: overhead })}\n`);
  return overhead;
}

/** Load options for one workload against a node. */
async function workload(name, node, connections) {
  if (name === 'summary') {
    // Reads run at hundreds to thousands per second: one single-use token each (a pool run dry answers 401s, counted as non-2xx).
    const count = (connections === 1 ? 2000 : 4000) * DURATION;
    return withTokens({ url: node.summaryUrl, connections }, count, () => doctorToken(node.port));
  }
  const template = documents[name];
  return withTokens({
    url: `${base(node.port)}/Bundle`,
    connections,
    method: 'POST',
    headers: PUSH_HEADERS,
    requests: [{ setupRequest: (req) => ({ ...req, body: freshBody(template) }) }],
  // Enough single-use tokens for the fastest build: a pool run dry answers 401s (counted as non-2xx).
  }, (name === 'minimal' ? 2000 : 600) * DURATION, () => hisToken(node.port, 'system/Bundle.c'));
}

/** BENCH_WARMUP pushes of each measured document, two at a time: compiled code and started workers in every build alike. */
async function warmUp(node) {
  for (const name of WORKLOADS.filter((w) => w in documents)) {
    const options = await withTokens({
      url: `${base(node.port)}/Bundle`, connections: 2, amount: WARMUP, method: 'POST', headers: PUSH_HEADERS,
      requests: [{ setupRequest: (req) => ({ ...req, body: freshBody(documents[name]) }) }],
    }, WARMUP, () => hisToken(node.port, 'system/Bundle.c'));
    if (WARMUP > 0) await autocannon({ ...options, timeout: 60 });
  }
}

/** BENCH_STORED documents (minimal, each of a new patient) pushed before measuring: does the cost grow with the store? */
async function preload(build, node) {
  if (STORED === 0) return;
  const started = performance.now();
  const options = await withTokens({
    url: `${base(node.port)}/Bundle`, connections: 10, amount: STORED, method: 'POST', headers: PUSH_HEADERS,
    requests: [{ setupRequest: (req) => ({ ...req, body: freshBody(documents.minimal) }) }],
  }, STORED, () => hisToken(node.port, 'system/Bundle.c'));
  const result = await autocannon({ ...options, timeout: 60 });
  const rss = Number(readFileSync(`/proc/${node.child.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]) / 1024;
  process.stdout.write(`${JSON.stringify({ build: build.name, preloaded: result.requests.total, non2xx: result.non2xx, seconds: Math.round((performance.now() - started) / 1000), rssMiB: Math.round(rss) })}\n`);
}

const LABELS = { minimal: 'POST /fhir/Bundle, minimal (8 entries, 18 KB)', 'all-sections': 'POST /fhir/Bundle, all-sections (42 entries, 104 KB)', summary: "GET $summary, a doctor's token" };

/** Commands per request on the wire: `count` sequential requests of one kind through the proxy. */
async function countRoundTrips(build, mongo) {
  const counter = await startWireCounter(new URL(mongo.uri).host);
  const node = await startNode(build, FIRST_PORT + 90, `mongodb://127.0.0.1:${counter.port}/`);
  try {
    const result = {};
    for (const kind of ['minimal', 'summary']) {
      const send = async () => {
        const response = kind === 'summary'
          ? await fetch(node.summaryUrl, { headers: { authorization: `Bearer ${await doctorToken(node.port)}` } })
          : await fetch(`${base(node.port)}/Bundle`, { method: 'POST', headers: { ...PUSH_HEADERS, authorization: `Bearer ${await hisToken(node.port, 'system/Bundle.c')}` }, body: freshBody(documents.minimal) });
        if (response.status >= 300) throw new Error(`${kind}: ${response.status} ${await response.text()}`);
        await response.arrayBuffer();
      };
      for (let i = 0; i < 3; i++) await send();
      // Let background writes of the warm-up (sweeps, reconciliations) settle.
      await new Promise((r) => setTimeout(r, 300));
      counter.reset();
      for (let i = 0; i < COUNTED; i++) await send();
      await new Promise((r) => setTimeout(r, 300));
      const counts = counter.counts();
      const total = Object.values(counts).reduce((a, b) => a + b, 0);
      result[kind] = { perRequest: total / COUNTED, byCommand: Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v / COUNTED])) };
      process.stdout.write(`${JSON.stringify({ build: build.name, roundTrips: kind, ...result[kind] })}\n`);
      // The same at 10 requests in flight: commands of concurrent requests may go out together.
      counter.reset();
      let left = COUNTED * 5;
      await Promise.all(Array.from({ length: 10 }, async () => {
        while (left-- > 0) await send();
      }));
      await new Promise((r) => setTimeout(r, 300));
      const together = counter.counts();
      const all = Object.values(together).reduce((a, b) => a + b, 0);
      result[`${kind}, 10 in flight`] = { perRequest: all / (COUNTED * 5), byCommand: Object.fromEntries(Object.entries(together).map(([k, v]) => [k, v / (COUNTED * 5)])) };
      process.stdout.write(`${JSON.stringify({ build: build.name, roundTrips: `${kind}, 10 in flight`, ...result[`${kind}, 10 in flight`] })}\n`);
    }
    return result;
  } finally {
    node.child.kill('SIGTERM');
    await counter.close();
  }
}

async function main() {
  const mongo = await startMongoTestServer();
  if (!mongo) throw new Error(NO_SERVER_HELP);
  const dbPid = mongo.process?.pid;
  const rows = [];
  const roundTrips = {};
  try {
    let port = FIRST_PORT;
    for (const store of STORES) {
      const nodes = [];
      for (const build of builds) nodes.push({ build, node: await startNode(build, port++, store === 'embedded' ? '' : mongo.uri) });
      const bare = BARE && store === STORES[0] && WORKLOADS.some((w) => w in documents) ? await startBare(port++) : undefined;
      if (bare) nodes.push({ build: { name: BARE_NAME }, node: bare });
      for (const { build, node } of nodes) if (!node.bare) await preload(build, node);
      for (const { node } of nodes) await warmUp(node);
      const overhead = bare ? await bareOverhead(bare) : {};
      try {
        for (const name of WORKLOADS) {
          for (const connections of CONCURRENCY) {
            for (const { build, node } of nodes) {
              if (node.bare) {
                if (!(name in documents)) continue;
                // This version's CPU per push in this very run, less the bare server's own.
                const matched = rows.find((r) => r.build === builds[0].name && r.store === store && r.workload === name && r.connections === connections);
                const offloaded = Buffer.byteLength(JSON.stringify(documents[name])) >= Number(builds[0].env.PONTIS_VALIDATION_WORKER_BYTES ?? 64 * 1024);
                const rest = matched.nodeCpuMsPerRequest - matched.eventLoopCpuMsPerRequest - overhead[name].rest;
                await setBusy(node, Math.max(0, matched.eventLoopCpuMsPerRequest - overhead[name].loop), offloaded ? Math.max(0, rest) : 0);
              }
              const options = { ...(await workload(name, node, connections)), ...(RATE > 0 ? { overallRate: RATE } : {}) };
              const loadAverage = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
              const before = { node: cpuSeconds(node.child.pid), loop: cpuSeconds(node.child.pid, true), db: cpuSeconds(dbPid), at: performance.now() };
              const row = await load(LABELS[name], options);
              const seconds = (performance.now() - before.at) / 1000;
              const requests = row.rps * DURATION;
              const nodeCpu = cpuSeconds(node.child.pid) - before.node;
              const loopCpu = cpuSeconds(node.child.pid, true) - before.loop;
              const dbCpu = store === 'embedded' ? NaN : cpuSeconds(dbPid) - before.db;
              rows.push({
                ...row, build: build.name, store, workload: name,
                nodeCpuMsPerRequest: (nodeCpu * 1000) / requests,
                eventLoopCpuMsPerRequest: (loopCpu * 1000) / requests,
                dbCpuMsPerRequest: (dbCpu * 1000) / requests,
                nodeCores: nodeCpu / seconds,
                loadAverage,
              });
            }
          }
        }
      } finally {
        for (const { node } of nodes) node.child.kill('SIGTERM');
      }
    }
    if (STORES.includes('ferretdb')) for (const build of builds) roundTrips[build.name] = await countRoundTrips(build, mongo);
  } finally {
    await stopMongoTestServer(mongo);
  }

  const report = { date: new Date().toISOString(), machine: machine(), durationSeconds: DURATION, rows, roundTrips };
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results/push.json'), `${JSON.stringify(report, null, 2)}\n`);
  const f = (n, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : '');
  process.stdout.write(`\n${machine()}; ${DURATION} s per run; load average at the end ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}\n\n`);
  process.stdout.write('| what | store | build | conn. | req/s | p50 ms | p95 ms | p99 ms | p95/p50 | node CPU ms/req | of it event loop | FerretDB CPU ms/req | node cores | load avg. | vs previous: req/s, CPU/req | non-2xx | errors |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n');
  for (const r of rows) {
    const previous = builds.length > 1 && r.build === builds[0].name
      ? rows.find((p) => p.build === builds[1].name && p.store === r.store && p.workload === r.workload && p.connections === r.connections)
      : undefined;
    const vs = previous ? `${f(r.rps / previous.rps)}×, ${f(r.nodeCpuMsPerRequest / previous.nodeCpuMsPerRequest)}×` : '';
    process.stdout.write(`| ${r.name} | ${r.store} | ${r.build} | ${r.connections} | ${r.rps} | ${f(r.p50)} | ${f(r.p95)} | ${f(r.p99)} | ${f(r.p95 / r.p50)} | ${f(r.nodeCpuMsPerRequest)} | ${f(r.eventLoopCpuMsPerRequest)} | ${f(r.dbCpuMsPerRequest)} | ${f(r.nodeCores)} | ${f(r.loadAverage, 1)} | ${vs} | ${r.non2xx} | ${r.errors} |\n`);
  }
  process.stdout.write('\nDatabase commands per request, counted on the wire (FerretDB):\n\n| build | request | commands | by command |\n|---|---|---|---|\n');
  for (const [build, kinds] of Object.entries(roundTrips)) {
    for (const [kind, c] of Object.entries(kinds)) {
      process.stdout.write(`| ${build} | ${kind.startsWith('summary') ? kind.replace('summary', '$summary (doctor)') : kind.replace('minimal', 'push, minimal')} | ${f(c.perRequest, 1)} | ${Object.entries(c.byCommand).map(([k, v]) => `${k} ${f(v, 1)}`).join(', ')} |\n`);
    }
  }
}

/** Reads a thread's CPU seconds from /proc/self/task/<tid>/stat. */
function threadSeconds(tid) {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** BENCH_INPROCESS: each build's server in this process, pushes through server.inject, CPU per push. */
async function inProcess() {
  const CHUNK = Number(process.env.BENCH_CHUNK ?? 40);
  const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
  const { default: pino } = await import('pino');
  const nodes = [];
  for (const build of builds) {
    const at = (path) => import(join(build.root, 'dist/src', path));
    const [{ loadConfig, DEMO_TRUST_LIST }, { openStore }, { createServer }, { TrustList }, validation, tokens] = await Promise.all(
      ['config.js', 'repositories/store.js', 'server.js', 'auth/trust-list.js', 'validation/index.js', 'auth/demo-tokens.js'].map(at));
    const config = loadConfig({ PONTIS_COUNTRY: 'AT', PONTIS_BASE_URL: 'http://at.example/fhir', LOG_LEVEL: 'silent', PONTIS_SEED: '0', PONTIS_LIMIT_PER_REQUESTER: '1000000000', PONTIS_LIMIT_PER_PATIENT: '1000000000', ...build.env });
    const options = { unknownExtensions: config.unknownExtensions };
    const validator = new validation.OffloadingValidator(validation.createValidator(validation.DEFAULT_PROFILE_PACKAGES, options), validation.DEFAULT_PROFILE_PACKAGES, config.validationWorkerBytes, options, config.validationThreads);
    const server = await createServer({ config, store: await openStore(config), logger: pino({ level: 'silent' }), validator, trust: await TrustList.load(DEMO_TRUST_LIST) });
    await server.initialize();
    const token = () => tokens.mintDemoToken({ audience: config.baseUrl, scope: 'system/Bundle.c', ttlSeconds: 3600 });
    nodes.push({ build, server, token, validator });
  }
  const rows = [];
  for (const name of WORKLOADS.filter((w) => w in documents)) {
    for (const connections of CONCURRENCY) {
      const sums = nodes.map(() => ({ main: 0, total: 0, wall: 0, pushes: 0 }));
      for (let round = -1; round < ROUNDS; round++) {
        for (const i of round % 2 ? nodes.keys() : [...nodes.keys()].reverse()) {
          const node = nodes[i];
          const requests = [];
          for (let k = 0; k < CHUNK; k++) requests.push({ method: 'POST', url: '/fhir/Bundle', payload: freshBody(documents[name]), headers: { ...PUSH_HEADERS, authorization: `Bearer ${await node.token()}` } });
          const before = { main: threadSeconds(process.pid), total: cpuSeconds(process.pid), at: performance.now() };
          let next = 0;
          await Promise.all(Array.from({ length: connections }, async () => {
            while (next < requests.length) {
              const response = await node.server.inject(requests[next++]);
              if (response.statusCode !== 201) throw new Error(`${node.build.name}: ${response.statusCode}`);
            }
          }));
          // Round -1 warms both up (compiled code, started workers).
          if (round < 0) continue;
          sums[i].main += threadSeconds(process.pid) - before.main;
          sums[i].total += cpuSeconds(process.pid) - before.total;
          sums[i].wall += performance.now() - before.at;
          sums[i].pushes += CHUNK;
        }
      }
      nodes.forEach((node, i) => rows.push({ build: node.build.name, workload: name, connections, ...sums[i] }));
    }
  }
  const f = (n) => n.toFixed(2);
  process.stdout.write(`\n${machine()}; in one process, ${CHUNK} pushes a chunk, ${ROUNDS} rounds; load average at the end ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}\n\n`);
  process.stdout.write('| document | conn. | build | pushes | event loop CPU ms/push | process CPU ms/push | pushes/s | vs previous: event loop, process |\n|---|---|---|---|---|---|---|---|\n');
  for (const r of rows) {
    const previous = builds.length > 1 && r.build === builds[0].name ? rows.find((p) => p.build === builds[1].name && p.workload === r.workload && p.connections === r.connections) : undefined;
    const vs = previous ? `${f(r.main / previous.main)}×, ${f(r.total / previous.total)}×` : '';
    process.stdout.write(`| ${r.workload} | ${r.connections} | ${r.build} | ${r.pushes} | ${f((r.main * 1000) / r.pushes)} | ${f((r.total * 1000) / r.pushes)} | ${Math.round((r.pushes * 1000) / r.wall)} | ${vs} |\n`);
  }
  for (const node of nodes) {
    await node.server.stop();
    await node.validator.close();
  }
  // The stores' and audit trails' timers would keep the process alive.
  process.exit(0);
}

(process.env.BENCH_INPROCESS ? inProcess() : main()).catch((error) => {
  process.stderr.write(`bench:push: ${error.stack ?? error}\n`);
  process.exit(1);
});
