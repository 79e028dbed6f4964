// Start-up to the first answer (issue 16): starts the built node (`node dist/src/main.js`, as
// `npm start` does: embedded store, seed/AT loaded) BENCH_RUNS times and reports, per build, the
// time from spawn to the first 200 of `/fhir/metadata` and of `/health/ready`, and the node's CPU
// (all threads, /proc) at its first ready answer: p50, min, max.
//
// Baselines measured in the same run, alternating start by start with this build:
// - bare hapi serving a CapabilityStatement and a readiness answer (this file with `--bare PORT`):
//   what loading node and hapi alone costs on this machine;
// - BENCH_BASELINE=<folder with an earlier build (dist/, node_modules)>, named BENCH_BASELINE_NAME.
// BENCH_PROFILE=<folder>: one more start of this build under `node --cpu-prof`, and where its CPU
// went by phase (module loading by package, profiles, terminology, store, seed, server, GC).
// Usage: npm run bench:startup
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = resolve(HERE, '..');

/** A loopback port for one start: random in a range no other bench uses, so that starts never wait for a port to be freed. */
const portFor = () => 20000 + Math.floor(Math.random() * 20000);

const CLOCK_TICKS = 100;
/** CPU seconds of a process so far (user + system, all threads), from /proc. */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}

async function answers200(url) {
  try {
    const response = await fetch(url, { signal: globalThis.AbortSignal.timeout(2000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

/**
 * Starts one process and polls both endpoints every 5 ms until each has answered 200; resolves to
 * the milliseconds from spawn to each, and the process's CPU at its first ready answer.
 */
async function startOnce(build, extraArgs = []) {
  const port = portFor();
  const started = performance.now();
  const args = build.bare ? [join(HERE, 'startup.mjs'), '--bare', String(port)] : [...extraArgs, 'dist/src/main.js'];
  const child = spawn(process.execPath, args, {
    cwd: build.root,
    env: { ...process.env, PORT: String(port), PONTIS_COUNTRY: 'AT' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let listening;
  const collect = (d) => {
    output += d;
    if (listening === undefined && /listening on/.test(output)) listening = performance.now() - started;
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  let exited = false;
  const exit = new Promise((done) => child.once('exit', (code, signal) => {
    exited = true;
    done({ code, signal });
  }));
  const base = `http://127.0.0.1:${port}`;
  const result = { metadata: undefined, ready: undefined, cpuMetadata: undefined, cpu: undefined, listening: undefined };
  const deadline = started + 60_000;
  while ((result.metadata === undefined || result.ready === undefined) && !exited && performance.now() < deadline) {
    const [metadata, ready] = await Promise.all([
      result.metadata === undefined ? answers200(`${base}/fhir/metadata`) : true,
      result.ready === undefined ? answers200(`${base}/health/ready`) : true,
    ]);
    const now = performance.now() - started;
    if (metadata && result.metadata === undefined) {
      result.metadata = now;
      result.cpuMetadata = cpuSeconds(child.pid) * 1000;
    }
    if (ready && result.ready === undefined) {
      result.ready = now;
      result.cpu = cpuSeconds(child.pid) * 1000;
    }
    if (result.metadata === undefined || result.ready === undefined) await new Promise((done) => setTimeout(done, 5));
  }
  result.listening = listening;
  child.kill('SIGTERM');
  await exit;
  if (result.metadata === undefined || result.ready === undefined) throw new Error(`${build.name}: no answer (${exited ? 'exited' : 'timed out'}): ${output.slice(-2000)}`);
  return result;
}

function summary(values) {
  const sorted = values.filter((v) => v !== undefined && !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  return { p50: sorted[Math.floor((sorted.length - 1) / 2)], min: sorted[0], max: sorted.at(-1) };
}

const fmt = (s) => (s ? `${Math.round(s.p50)} (${Math.round(s.min)}–${Math.round(s.max)})` : '');

/** Where a profiled start's CPU went: the phase a sample's stack is in, outermost first. */
function phasesOf(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const phases = [
    ['seed (validating and storing seed documents)', /^loadSeed$/],
    ['profiles (validator construction)', /^createValidator$/],
    ['terminology catalogue', /^loadTerminologyCatalogue$/],
    ['trust list, peer directory, node key', /^(load|loadTrustList)$/],
    ['store and indexes', /^(openStore|storeOn)$/],
    ['server: routes, plugins, CapabilityStatement', /^createServer$/],
    ['portal', /^startPortal$/],
    ['config', /^loadConfig$/],
  ];
  const totals = new Map();
  const add = (k, d) => totals.set(k, (totals.get(k) ?? 0) + d);
  for (let i = 0; i < profile.samples.length; i++) {
    const d = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const stack = [];
    for (let x = profile.samples[i]; x !== undefined; x = parent.get(x)) stack.push(byId.get(x).callFrame);
    stack.reverse();
    const leaf = stack.at(-1).functionName;
    if (leaf === '(idle)' || leaf === '(program)') continue;
    if (leaf === '(garbage collector)') {
      add('garbage collection', d);
      continue;
    }
    const phase = phases.find(([, re]) => stack.some((f) => re.test(f.functionName)));
    if (phase) {
      add(phase[0], d);
      continue;
    }
    // Outside every phase above: loading modules (by the first package on the stack) or the rest.
    const pkg = stack.map((f) => /node_modules\/((@[^/]+\/)?[^/]+)/.exec(f.url)?.[1]).find(Boolean);
    const loading = stack.some((f) => /^(evaluate|Module\._load|loadAndTranslate|compileSourceTextModule)$/.test(f.functionName));
    add(loading ? `module loading: ${pkg ?? 'node and src/'}` : `other${pkg ? `: ${pkg}` : ''}`, d);
  }
  return [...totals].sort((a, b) => b[1] - a[1]);
}

async function main() {
  const runs = Number(process.env.BENCH_RUNS ?? 10);
  const builds = [{ name: 'this build', root: ROOT }];
  if (process.env.BENCH_BASELINE) builds.push({ name: process.env.BENCH_BASELINE_NAME ?? `previous (${process.env.BENCH_BASELINE})`, root: process.env.BENCH_BASELINE });
  builds.push({ name: 'bare hapi (metadata only)', root: ROOT, bare: true });
  const results = new Map(builds.map((b) => [b.name, []]));
  process.stdout.write(`start-up, ${runs} starts per build, alternating\n`);
  for (let i = 0; i < runs; i++) {
    for (const build of i % 2 === 0 ? builds : [...builds].reverse()) {
      const r = await startOnce(build);
      results.get(build.name).push(r);
      process.stdout.write(`${JSON.stringify({ build: build.name, run: i + 1, ...Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === undefined ? null : Math.round(v)])) })}\n`);
    }
  }
  const rows = builds.map((b) => {
    const rs = results.get(b.name);
    return { build: b.name, metadata: summary(rs.map((r) => r.metadata)), ready: summary(rs.map((r) => r.ready)), cpuMetadata: summary(rs.map((r) => r.cpuMetadata)), cpu: summary(rs.map((r) => r.cpu)), listening: summary(rs.map((r) => r.listening)) };
  });
  const reference = rows.find((r) => r.build !== 'this build' && !builds.find((b) => b.name === r.build).bare);
  process.stdout.write('\n| build | first 200 of /fhir/metadata, ms: p50 (min–max) | first 200 of /health/ready, ms | node CPU at first metadata, ms | node CPU at ready, ms | "listening on" printed, ms | vs previous: metadata, ready, CPU at ready (p50) |\n|---|---|---|---|---|---|---|\n');
  for (const r of rows) {
    const ratio = reference ? ['metadata', 'ready', 'cpu'].map((k) => `${(r[k].p50 / reference[k].p50).toFixed(2)}×`).join(', ') : '';
    process.stdout.write(`| ${r.build} | ${fmt(r.metadata)} | ${fmt(r.ready)} | ${fmt(r.cpuMetadata)} | ${fmt(r.cpu)} | ${fmt(r.listening)} | ${ratio} |\n`);
  }
  if (process.env.BENCH_PROFILE) {
    const dir = resolve(process.env.BENCH_PROFILE);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const r = await startOnce(builds[0], ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    const phases = phasesOf(profile);
    const total = phases.reduce((s, [, v]) => s + v, 0);
    process.stdout.write(`\nprofiled start (${join(dir, file)}): ready after ${Math.round(r.ready)} ms, ${Math.round(total)} ms of CPU on the main thread until exit\n`);
    for (const [phase, ms] of phases.filter(([, v]) => v >= 5)) process.stdout.write(`${String(Math.round(ms)).padStart(6)} ms  ${phase}\n`);
  }
}

if (process.argv[2] === '--bare') {
  // The floor: node, hapi and one route table, nothing of Pontis.
  const { default: Hapi } = await import('@hapi/hapi');
  const server = Hapi.server({ port: Number(process.argv[3]), host: '127.0.0.1' });
  const capability = { resourceType: 'CapabilityStatement', status: 'active', kind: 'instance', fhirVersion: '4.0.1', format: ['json'] };
  server.route([
    { method: 'GET', path: '/fhir/metadata', handler: (_r, h) => h.response(capability).type('application/fhir+json') },
    { method: 'GET', path: '/health/ready', handler: () => ({ status: 'ready', checks: {} }) },
  ]);
  await server.start();
  process.stdout.write(`bare hapi listening on ${server.info.uri}\n`);
} else {
  await main();
}
