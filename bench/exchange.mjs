#!/usr/bin/env node
// npm run bench (third part): cross-border $summary, a clinician at PT reading an Austrian
// patient's summary through the PT node (identification at AT, summary from AT, AT's signature
// and the IPS profile checked at PT, audit at both), against the local read of the same summary
// at AT by a clinician of AT, in the same run. Two node processes, embedded stores, seed data.
// Per run: requests/s, p50/p95/p99, and the CPU both node processes used per request (all their
// threads, from /proc/<pid>/stat): a local read costs AT's CPU, a cross-border read AT's and PT's
// together (issue 16's goal: ≤ 2 × the local read).
//
// BENCH_BASELINE=<folder with an earlier build (dist/, node_modules)> measures that build's pair
// of nodes beside this build's, runs alternating; BENCH_BASELINE_NAME names it. BENCH_SECONDS
// (10) and BENCH_CONCURRENCY (1,10,100) narrow the run. BENCH_CPU_PROF=<folder> has every node
// write a V8 CPU profile there when it stops (--cpu-prof; warm-up included): where each side's CPU goes.
// BENCH_REPEAT (1) repeats every pair of runs (local, then cross-border, each build in turn) and
// ends with each build's CPU ratio per connection count: median and range over the repeats (on a
// shared machine one pair says little). BENCH_KINDS (local,cross-border) narrows what is read:
// `cross-border` alone, with BENCH_CPU_PROF, gives profiles of both nodes holding nothing else.
// BENCH_ROUNDS=<n> measures in short rounds instead, for a loaded machine where one 5 s pair moves
// by 2×: n rounds of BENCH_ROUND_READS (200) reads per kind, build by build, the builds' order
// swapped every round, each read by fetch with a fresh token; reported per connection count: each
// build's median CPU per read, its cross-border / local ratio, and this build's CPU over the
// baseline's round by round (median and quartiles: builds measured a few seconds apart).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mintDemoToken } from '../dist/src/auth/demo-tokens.js';
import { concurrency, DURATION, load, machine, startProcess, withTokens } from './lib.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CONCURRENCY = concurrency('1,10,100');
const GRUBER = 'urn:oid:1.2.40.0.10.1.4.3.1|1238140358';
const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());
const url = (port) => `http://127.0.0.1:${port}/fhir`;
const KINDS = (process.env.BENCH_KINDS ?? 'local,cross-border').split(',');

// BENCH_PORT (18281) and the next three: the nodes' ports, so that two runs can share a machine.
const PORT = Number(process.env.BENCH_PORT ?? 18281);
const builds = [{ name: 'this version', root: ROOT, ports: [PORT, PORT + 1] }];
if (process.env.BENCH_BASELINE) {
  builds.push({ name: process.env.BENCH_BASELINE_NAME ?? `previous (${process.env.BENCH_BASELINE})`, root: process.env.BENCH_BASELINE, ports: [PORT + 2, PORT + 3] });
}

/** CPU seconds a process (all its threads) has used, from /proc/<pid>/stat (utime + stime). */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

function startNode(root, country, port, peerUrls) {
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`, `--cpu-prof-name=${country}-${port}.cpuprofile`] : [];
  return startProcess([...profile, join(root, 'dist/src/main.js')], {
    PORT: String(port), HOST: '127.0.0.1', PONTIS_COUNTRY: country, PONTIS_BASE_URL: url(port), PONTIS_PEER_URLS: peerUrls, PONTIS_SEED: '1', LOG_LEVEL: 'warn', MONGODB_URI: '',
    PONTIS_LIMIT_PER_REQUESTER: '1000000000', PONTIS_LIMIT_PER_PATIENT: '1000000000',
  }, /listening on/).then((started) => started.child);
}

/** A clinician of `country` reading `target`; single-use tokens, enough for the fastest rows (local reads at up to about 2,500/s). */
async function read(name, target, connections, country, nodes) {
  const options = await withTokens({ url: target.url, connections }, 3500 * DURATION, () => mintDemoToken({ audience: target.aud, country, ttlSeconds: 3600 }));
  const before = nodes.map((n) => cpuSeconds(n.pid));
  const row = await load(name, options);
  const cpu = nodes.map((n, i) => cpuSeconds(n.pid) - before[i]);
  const requests = row.rps * DURATION;
  return { ...row, cpuMsPerRequest: (cpu.reduce((a, b) => a + b, 0) * 1000) / requests, byNode: cpu.map((c) => (c * 1000) / requests) };
}

/** Sequential reads for a few seconds, so that the measured runs see a node as it is in service. */
async function warmUp(target, country) {
  const until = performance.now() + Number(process.env.BENCH_WARMUP_SECONDS ?? 3) * 1000;
  while (performance.now() < until) {
    const response = await fetch(target.url, { headers: { authorization: `Bearer ${await mintDemoToken({ audience: target.aud, country, ttlSeconds: 60 })}` } });
    if (response.status !== 200) throw new Error(`warm-up: ${response.status} ${await response.text()}`);
    await response.arrayBuffer();
  }
}

/** `reads` reads of `target` by `connections` concurrent fetch loops, each with its own token: CPU ms per read of each of `nodes`. */
async function round(target, country, connections, reads, nodes) {
  const tokens = [];
  for (let i = 0; i < reads; i++) tokens.push(await mintDemoToken({ audience: target.aud, country, ttlSeconds: 3600 }));
  const before = nodes.map((n) => cpuSeconds(n.pid));
  let next = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next < reads) {
        // Uncompressed, as autocannon asks: fetch would otherwise ask for gzip and time the node's compression.
        const response = await fetch(target.url, { headers: { authorization: `Bearer ${tokens[next++]}`, 'accept-encoding': 'identity' } });
        if (response.status !== 200) throw new Error(`${response.status} ${await response.text()}`);
        await response.arrayBuffer();
      }
    }),
  );
  return nodes.map((n, i) => ((cpuSeconds(n.pid) - before[i]) * 1000) / reads);
}

/** BENCH_ROUNDS: alternating short rounds, compared round by round (see the top of this file). */
async function rounds(query) {
  const count = Number(process.env.BENCH_ROUNDS);
  const reads = Number(process.env.BENCH_ROUND_READS ?? 200);
  const f = (n, d = 2) => n.toFixed(d);
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)];
  const quartiles = (values) => {
    const sorted = [...values].sort((a, b) => a - b);
    return `${f(sorted[Math.floor(sorted.length / 4)])}–${f(sorted[Math.floor((3 * sorted.length) / 4)])}`;
  };
  const sum = (values) => values.reduce((a, b) => a + b, 0);
  process.stdout.write('\n| conn. | build | local CPU ms/read | cross-border CPU ms/read (AT + PT) | cross-border / local, per round: median | this build / this row, per round: median (quartiles) |\n|---|---|---|---|---|---|\n');
  for (const connections of CONCURRENCY) {
    const measured = builds.map(() => ({ local: [], 'cross-border': [] }));
    for (let r = 0; r < count; r++) {
      for (const kind of KINDS) {
        for (const b of r % 2 ? [...builds.keys()].reverse() : builds.keys()) {
          const [at, pt] = builds[b].ports;
          const { at: atNode, pt: ptNode } = builds[b].nodes;
          measured[b][kind].push(
            kind === 'local'
              ? await round({ url: `${url(at)}${query}`, aud: url(at) }, 'AT', connections, reads, [atNode])
              : await round({ url: `${url(pt)}${query}`, aud: url(pt) }, 'PT', connections, reads, [atNode, ptNode]),
          );
        }
      }
    }
    for (const [b, build] of builds.entries()) {
      const m = measured[b];
      const local = m.local.map(sum);
      const remote = m['cross-border'].map(sum);
      const ratio = remote.length && local.length ? `${f(median(remote.map((x, i) => x / local[i])))}×` : '';
      const split = remote.length ? `${f(median(remote))} (${f(median(m['cross-border'].map((x) => x[0])))} + ${f(median(m['cross-border'].map((x) => x[1])))})` : '';
      const vs =
        b === 0
          ? ''
          : KINDS.map((kind) => {
              const ours = measured[0][kind].map(sum);
              const per = m[kind].map(sum).map((x, i) => ours[i] / x);
              return `${kind} ${f(median(per), 3)}× (${quartiles(per)})`;
            }).join('; ');
      process.stdout.write(`| ${connections} | ${build.name} | ${local.length ? f(median(local)) : ''} | ${split} | ${ratio} | ${vs} |\n`);
    }
  }
  process.stdout.write(`\n${machine()}; ${count} rounds of ${reads} reads per kind and build; load average at the end ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}\n`);
}

async function main() {
  const children = [];
  const rows = [];
  try {
    for (const build of builds) {
      const [at, pt] = build.ports;
      const peerUrls = `AT=${url(at)},PT=${url(pt)}`;
      const atNode = await startNode(build.root, 'AT', at, peerUrls);
      const ptNode = await startNode(build.root, 'PT', pt, peerUrls);
      children.push(atNode, ptNode);
      build.nodes = { at: atNode, pt: ptNode };
    }
    const query = `/Patient/$summary?identifier=${encodeURIComponent(GRUBER)}`;
    // Warm-up, not reported: code optimised, pools and workers started, caches as in service.
    for (const build of builds) {
      const [at, pt] = build.ports;
      if (KINDS.includes('local')) await warmUp({ url: `${url(at)}${query}`, aud: url(at) }, 'AT');
      if (KINDS.includes('cross-border')) await warmUp({ url: `${url(pt)}${query}`, aud: url(pt) }, 'PT');
    }
    if (process.env.BENCH_ROUNDS) {
      await rounds(query);
      return;
    }
    const repeats = Number(process.env.BENCH_REPEAT ?? 1);
    for (let repeat = 0; repeat < repeats; repeat++) for (const connections of CONCURRENCY) {
      for (const build of builds) {
        const [at, pt] = build.ports;
        const { at: atNode, pt: ptNode } = build.nodes;
        if (KINDS.includes('local')) {
          const local = await read('local $summary at AT (AT clinician)', { url: `${url(at)}${query}`, aud: url(at) }, connections, 'AT', [atNode]);
          rows.push({ ...local, build: build.name, kind: 'local', repeat });
        }
        if (KINDS.includes('cross-border')) {
          const remote = await read('cross-border $summary: PT clinician → PT node → AT node', { url: `${url(pt)}${query}`, aud: url(pt) }, connections, 'PT', [atNode, ptNode]);
          rows.push({ ...remote, build: build.name, kind: 'cross-border', repeat });
        }
      }
    }
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    writeFileSync(join(ROOT, 'bench/results/exchange.json'), `${JSON.stringify({ date: new Date().toISOString(), machine: machine(), durationSeconds: DURATION, rows }, null, 2)}\n`);
    const f = (n, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : '');
    process.stdout.write(`\n${machine()}; ${DURATION} s per run; both nodes and the load generator on this machine; load average at the end ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}\n\n`);
    process.stdout.write('| what | build | conn. | req/s | p50 ms | p95 ms | p99 ms | CPU ms/req (AT + PT) | vs local: req/s, CPU | non-2xx | errors |\n|---|---|---|---|---|---|---|---|---|---|---|\n');
    for (const r of rows) {
      const local = rows.find((b) => b.build === r.build && b.connections === r.connections && b.repeat === r.repeat && b.kind === 'local');
      const cpu = r.kind === 'local' ? f(r.cpuMsPerRequest) : `${f(r.cpuMsPerRequest)} (${f(r.byNode[0])} + ${f(r.byNode[1])})`;
      const vs = !local || r === local ? '' : `${((r.rps / local.rps) * 100).toFixed(0)} %, ${f(r.cpuMsPerRequest / local.cpuMsPerRequest)}×`;
      process.stdout.write(`| ${r.name} | ${r.build} | ${r.connections} | ${r.rps} | ${f(r.p50)} | ${f(r.p95)} | ${f(r.p99)} | ${cpu} | ${vs} | ${r.non2xx} | ${r.errors} |\n`);
    }
    // Each build's ratio (both nodes' CPU per cross-border read over AT's per local read), per connection count.
    if (!KINDS.includes('local') || !KINDS.includes('cross-border')) return;
    process.stdout.write('\n| build | conn. | repeats | CPU ratio cross-border / local: median (min–max) | local CPU ms/req median | cross-border CPU ms/req median |\n|---|---|---|---|---|---|\n');
    const median = (values) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)];
    for (const connections of CONCURRENCY) {
      for (const build of builds) {
        const pairs = rows.filter((r) => r.build === build.name && r.connections === connections && r.kind === 'cross-border').map((r) => [rows.find((b) => b.build === r.build && b.connections === r.connections && b.repeat === r.repeat && b.kind === 'local'), r]);
        const ratios = pairs.map(([l, r]) => r.cpuMsPerRequest / l.cpuMsPerRequest);
        process.stdout.write(`| ${build.name} | ${connections} | ${pairs.length} | ${f(median(ratios))}× (${f(Math.min(...ratios))}–${f(Math.max(...ratios))}) | ${f(median(pairs.map(([l]) => l.cpuMsPerRequest)))} | ${f(median(pairs.map(([, r]) => r.cpuMsPerRequest)))} |\n`);
      }
    }
  } finally {
    for (const c of children) c.kill('SIGTERM');
  }
}

main().catch((error) => {
  process.stderr.write(`bench: ${error.stack ?? error}\n`);
  process.exit(1);
});
