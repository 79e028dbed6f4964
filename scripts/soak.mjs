#!/usr/bin/env node
// npm run soak: two nodes (AT, PT, peers of each other) on a MongoDB-wire server (FerretDB started
// here unless MONGODB_URI is set), driven for SOAK_SECONDS (default 600) at a fixed rate of
// SOAK_RATE requests/s (default 10: about half of 2 cores with FerretDB) of mixed requests: pushes, updates, reads, searches, $summary
// at home and across the border, Consent writes, access-log reads and refused requests. Every
// second it samples, from outside the node processes: RSS and CPU (/proc), the V8 heap after the
// last garbage collection (the nodes run with --trace-gc; its lines are read from their output),
// GC pauses, and the latency of a metadata probe (the event loop's responsiveness). Per minute:
// latency percentiles per kind of request, and errors. The report says whether anything grows
// (a straight line fitted over the last 80 % of the samples: RSS and heap in MB/min, p95 in
// ms/min) on stdout and in bench/results/soak.json (SOAK_REPORT to change).
/* global AbortSignal, Headers, clearTimeout */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine } from '../bench/lib.mjs';
import { startMongoTestServer, stopMongoTestServer } from './mongo-test-server.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SECONDS = Number(process.env.SOAK_SECONDS ?? 600);
const RATE = Number(process.env.SOAK_RATE ?? 10);
/** Weights replacing the mix's, `kind=weight` separated by commas (`access-log read=0`): to find what a growth comes from. */
const MIX = Object.fromEntries((process.env.SOAK_MIX ?? '').split(',').filter(Boolean).map((pair) => [pair.slice(0, pair.lastIndexOf('=')).trim(), Number(pair.slice(pair.lastIndexOf('=') + 1))]));
const REPORT = process.env.SOAK_REPORT ?? join(ROOT, 'bench', 'results', 'soak.json');
/** Requests under way beyond which new ones are dropped (counted): the generator must not pile up. */
const MAX_IN_FLIGHT = Math.max(50, RATE * 10);
/** Share of the run, from its start, left out of the growth fits (start-up, caches filling). */
const WARM_UP_SHARE = 0.2;

const AT_SYSTEM = 'urn:oid:1.2.40.0.10.1.4.3.1';
const GRUBER = `${AT_SYSTEM}|1238140358`;
const EXAMPLES = join(ROOT, 'profiles', 'hl7.fhir.uv.ips-2.0.0', 'package', 'example');
const MINIMAL = readFileSync(join(EXAMPLES, 'Bundle-bundle-minimal.json'), 'utf8');
const ALL_SECTIONS = readFileSync(join(EXAMPLES, 'Bundle-bundle-ips-all-sections.json'), 'utf8');
const HIS_SCOPES = 'system/Bundle.crus system/Patient.rs system/Consent.crus';

if (!existsSync(join(ROOT, 'dist', 'src', 'main.js'))) {
  process.stderr.write('soak: dist/ is missing; run `npm run soak` (it builds first)\n');
  process.exit(1);
}
const { mintDemoToken } = await import('../dist/src/auth/demo-tokens.js');

// ---------------------------------------------------------------------------------------------
// Processes

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const GC_LINE = /^\[(\d+):(0x[0-9a-f]+)\]\s+\d+ ms: ([A-Za-z-]+(?: \([a-z]+\))?) ([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB, ([\d.]+) \/ ([\d.]+) ms/;

/**
 * A node process with --trace-gc; its output is read line by line (never kept whole): GC lines
 * give the heap, pino lines of level 50 and above are counted (their text is not kept: no patient
 * data in the soak's report, whatever a log line might hold).
 */
function startNode(name, env) {
  const child = spawn(process.execPath, ['--trace-gc', join(ROOT, 'dist', 'src', 'main.js')], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const node = {
    name,
    child,
    pid: child.pid,
    /** Per isolate: heap used after the last GC, after the last full GC, GC pause since the last sample. */
    isolates: new Map(),
    errorLines: 0,
    fatalLines: 0,
    lastCpuTicks: undefined,
  };
  let started = false;
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 60 s`)), 60_000);
    const onLine = (line) => {
      const gc = GC_LINE.exec(line);
      if (gc) {
        const isolate = node.isolates.get(gc[2]) ?? { gcs: 0, fullGcs: 0, heapAfterMb: 0, heapAfterFullGcMb: undefined, pauseMs: 0 };
        isolate.gcs += 1;
        isolate.heapAfterMb = Number(gc[6]);
        if (gc[3].startsWith('Mark-Compact')) {
          isolate.heapAfterFullGcMb = Number(gc[6]);
          isolate.fullGcs += 1;
        }
        isolate.pauseMs += Number(gc[8]);
        node.isolates.set(gc[2], isolate);
        return;
      }
      if (!started && /listening on/.test(line)) {
        started = true;
        clearTimeout(timer);
        resolve(node);
        return;
      }
      const level = /^\{"level":(\d+)/.exec(line)?.[1];
      if (level !== undefined && Number(level) >= 60) node.fatalLines += 1;
      else if (level !== undefined && Number(level) >= 50) node.errorLines += 1;
    };
    for (const stream of [child.stdout, child.stderr]) {
      let rest = '';
      stream.on('data', (chunk) => {
        const lines = (rest + chunk.toString('utf8')).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) onLine(line);
      });
    }
    child.once('exit', (code) => {
      node.exitCode = code;
      if (!started) reject(new Error(`${name} exited (${code}) before listening`));
    });
  });
  return ready;
}

function stop(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** RSS (MB) and CPU ticks (user + system) of a process, from /proc. */
function procFigures(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { rssMb: rssKb / 1024, cpuTicks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return { rssMb: NaN, cpuTicks: NaN };
  }
}

const CLOCK_TICKS = 100;

// ---------------------------------------------------------------------------------------------
// Requests

/** A valid document for AT patient `value`, as of `timestamp`: the minimal example (17 KB), or the all-sections one (100 KB) when `large`. */
function documentFor(value, timestamp, large, documentId = randomUUID()) {
  const bundle = JSON.parse(large ? ALL_SECTIONS : MINIMAL);
  bundle.identifier = { system: 'urn:oid:1.2.40.0.34.99.4613.1', value: documentId };
  bundle.timestamp = timestamp;
  bundle.entry.find((e) => e.resource.resourceType === 'Patient').resource.identifier = [{ system: AT_SYSTEM, value }];
  return bundle;
}

function privacyConsent(patientId) {
  return {
    resourceType: 'Consent',
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: `Patient/${patientId}` },
    dateTime: new Date().toISOString(),
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
    provision: { type: 'permit' },
  };
}

let nationalSerial = Math.floor(Math.random() * 1e6);
/** A fresh 10-digit AT identifier value. */
function newNationalValue() {
  nationalSerial += 1;
  return `9${String(nationalSerial).padStart(9, '0')}`.slice(-10);
}

/** What the load knows of the patients it pushed (the last 500). */
const patients = [];
const pick = (list) => list[Math.floor(Math.random() * list.length)];
const CLINICIANS = 100;

function rememberPatient(p) {
  patients.push(p);
  if (patients.length > 500) patients.shift();
}

// ---------------------------------------------------------------------------------------------
// Measurements

/** When the load began: minutes are counted from there. */
let started = Date.now();
const minutes = [];
function minuteBucket() {
  const index = Math.floor((Date.now() - started) / 60_000);
  while (minutes.length <= index) minutes.push({ minute: minutes.length + 1, latencies: {}, counts: {}, unexpected: {}, failures: 0 });
  return minutes[index];
}
let sent = 0;
let completed = 0;
let inFlight = 0;
let dropped = 0;
let unexpectedTotal = 0;
let failuresTotal = 0;

/**
 * Sends one request and records its latency under `kind`; a status outside `expected` is an
 * error (counted by kind and status), a network failure too.
 */
async function timed(kind, url, init, expected) {
  const t0 = performance.now();
  let status = 0;
  let response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
    status = response.status;
    const text = await response.text();
    const ms = performance.now() - t0;
    const bucket = minuteBucket();
    (bucket.latencies[kind] ??= []).push(ms);
    bucket.counts[kind] = (bucket.counts[kind] ?? 0) + 1;
    if (!expected.includes(status)) {
      bucket.unexpected[`${kind} ${status}`] = (bucket.unexpected[`${kind} ${status}`] ?? 0) + 1;
      unexpectedTotal += 1;
    }
    return { status, headers: response.headers, text };
  } catch (error) {
    const bucket = minuteBucket();
    bucket.failures += 1;
    bucket.unexpected[`${kind} ${error?.name ?? 'error'}`] = (bucket.unexpected[`${kind} ${error?.name ?? 'error'}`] ?? 0) + 1;
    failuresTotal += 1;
    return { status: 0, headers: new Headers(), text: '' };
  }
}

const json = (text) => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

// ---------------------------------------------------------------------------------------------
// The mix

function operations(at, pt) {
  const his = async () => ({ authorization: `Bearer ${await mintDemoToken({ audience: at, country: 'AT', scope: HIS_SCOPES, ttlSeconds: 120 })}`, 'content-type': 'application/fhir+json' });
  const clinician = (audience, country) => mintDemoToken({ audience, country, issuer: 'idp', subject: `soak-clinician-${country}-${Math.floor(Math.random() * CLINICIANS)}`, ttlSeconds: 120 });
  const consented = () => patients.filter((p) => p.consented);

  async function patientId(p) {
    if (p.id) return p.id;
    const found = await timed('patient search', `${at}/Patient?identifier=${encodeURIComponent(`${AT_SYSTEM}|${p.value}`)}`, { headers: await his() }, [200]);
    p.id = json(found.text)?.entry?.[0]?.resource?.id;
    return p.id;
  }

  async function push() {
    const value = newNationalValue();
    const large = Math.random() < 0.2;
    const timestamp = new Date().toISOString();
    const documentId = randomUUID();
    const r = await timed('push', `${at}/Bundle`, { method: 'POST', headers: await his(), body: JSON.stringify(documentFor(value, timestamp, large, documentId)) }, [201]);
    const id = /\/Bundle\/([^/]+)/.exec(r.headers.get('location') ?? '')?.[1];
    if (r.status === 201 && id) rememberPatient({ value, documentId, bundleId: id, version: 1, large, busy: false, consented: false });
  }

  // An operation with nothing to act on yet (no pushed patient) pushes instead.
  return [
    { kind: 'push', weight: 14, run: push },
    {
      kind: 'update',
      weight: 8,
      async run() {
        const p = pick(patients.filter((x) => !x.busy));
        if (!p) return push();
        p.busy = true;
        try {
          const bundle = { ...documentFor(p.value, new Date().toISOString(), p.large, p.documentId), id: p.bundleId };
          const r = await timed('update', `${at}/Bundle/${p.bundleId}`, { method: 'PUT', headers: { ...(await his()), 'if-match': `W/"${p.version}"` }, body: JSON.stringify(bundle) }, [200]);
          if (r.status === 200) p.version += 1;
        } finally {
          p.busy = false;
        }
      },
    },
    {
      kind: 'bundle read',
      weight: 12,
      async run() {
        const p = pick(patients);
        if (!p) return push();
        await timed('bundle read', `${at}/Bundle/${p.bundleId}`, { headers: await his() }, [200]);
      },
    },
    {
      kind: 'patient search',
      weight: 8,
      async run() {
        const p = pick(patients);
        if (!p) return push();
        p.id = json((await timed('patient search', `${at}/Patient?identifier=${encodeURIComponent(`${AT_SYSTEM}|${p.value}`)}`, { headers: await his() }, [200])).text)?.entry?.[0]?.resource?.id;
      },
    },
    {
      kind: '$summary at home',
      weight: 16,
      async run() {
        const p = Math.random() < 0.5 ? undefined : pick(consented());
        const identifier = p ? `${AT_SYSTEM}|${p.value}` : GRUBER;
        await timed('$summary at home', `${at}/Patient/$summary?identifier=${encodeURIComponent(identifier)}`, { headers: { authorization: `Bearer ${await clinician(at, 'AT')}` } }, [200]);
      },
    },
    {
      kind: '$summary cross-border',
      weight: 16,
      async run() {
        const p = Math.random() < 0.5 ? undefined : pick(consented());
        const identifier = p ? `${AT_SYSTEM}|${p.value}` : GRUBER;
        await timed('$summary cross-border', `${pt}/Patient/$summary?identifier=${encodeURIComponent(identifier)}`, { headers: { authorization: `Bearer ${await clinician(pt, 'PT')}` } }, [200]);
      },
    },
    {
      kind: 'consent write',
      weight: 6,
      async run() {
        const p = pick(patients.filter((x) => !x.consented));
        if (!p) return push();
        const id = await patientId(p);
        if (!id) return push();
        const r = await timed('consent write', `${at}/Consent`, { method: 'POST', headers: await his(), body: JSON.stringify(privacyConsent(id)) }, [201]);
        if (r.status === 201) p.consented = true;
      },
    },
    {
      kind: 'access-log read',
      weight: 6,
      async run() {
        const p = pick(patients.filter((x) => x.id));
        if (!p) return push();
        const operator = await mintDemoToken({ audience: at, issuer: 'ops', scope: 'system/AuditEvent.rs', ttlSeconds: 120 });
        await timed('access-log read', `${at}/AuditEvent?patient=${p.id}&_count=20`, { headers: { authorization: `Bearer ${operator}` } }, [200]);
      },
    },
    {
      kind: 'refused',
      weight: 14,
      async run() {
        const which = Math.floor(Math.random() * 5);
        if (which === 0) await timed('refused', `${at}/Patient/$summary?identifier=${encodeURIComponent(GRUBER)}`, {}, [401]);
        if (which === 1) await timed('refused', `${at}/Patient/$summary?identifier=${encodeURIComponent(GRUBER)}`, { headers: { authorization: `Bearer ${await clinician(pt, 'PT')}` } }, [401]);
        if (which === 2) await timed('refused', `${pt}/Patient/$summary?identifier=${encodeURIComponent('urn:oid:9.9.9|1')}`, { headers: { authorization: `Bearer ${await clinician(pt, 'PT')}` } }, [400]);
        if (which === 3) {
          const invalid = documentFor(newNationalValue(), new Date().toISOString(), false);
          delete invalid.entry[0].resource.status;
          await timed('refused', `${at}/Bundle`, { method: 'POST', headers: await his(), body: JSON.stringify(invalid) }, [422]);
        }
        if (which === 4) await timed('refused', `${at}/AuditEvent?patient=x`, { headers: await his() }, [403]);
      },
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// Statistics

function percentile(sorted, p) {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Least-squares slope (per unit of x) and intercept of y on x, ignoring NaNs. */
function fit(xs, ys) {
  const points = xs.map((x, i) => [x, ys[i]]).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const n = points.length;
  if (n < 2) return { slope: NaN, intercept: NaN, n };
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return { slope, intercept: my - slope * mx, n, mean: my };
}

const round = (x, digits = 2) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : null);

// ---------------------------------------------------------------------------------------------
// Run

async function main() {
  const database = await startMongoTestServer();
  if (!database) throw new Error('no MongoDB-wire server: set MONGODB_URI or build FerretDB with scripts/install-ferretdb.sh');
  const [atPort, ptPort] = await Promise.all([freePort(), freePort()]);
  const at = `http://127.0.0.1:${atPort}/fhir`;
  const pt = `http://127.0.0.1:${ptPort}/fhir`;
  const tag = randomUUID().slice(0, 8);
  const common = {
    MONGODB_URI: database.uri,
    PONTIS_SEED: '1',
    PONTIS_PEER_URLS: `AT=${at},PT=${pt}`,
    HOST: '127.0.0.1',
    // The budgets would refuse a steady load from one hospital system; the counting still runs.
    PONTIS_LIMIT_PER_REQUESTER: '1000000000',
    PONTIS_LIMIT_PER_PATIENT: '1000000000',
  };
  const nodes = [];
  const samples = [];
  let ticker;
  let sampler;
  try {
    nodes.push(
      ...(await Promise.all([
        startNode('AT', { ...common, PORT: String(atPort), PONTIS_COUNTRY: 'AT', PONTIS_BASE_URL: at, MONGODB_DATABASE: `pontis_soak_at_${tag}` }),
        startNode('PT', { ...common, PORT: String(ptPort), PONTIS_COUNTRY: 'PT', PONTIS_BASE_URL: pt, MONGODB_DATABASE: `pontis_soak_pt_${tag}` }),
      ])),
    );
    const ferretPid = database.process?.pid;
    process.stdout.write(`soak: ${SECONDS} s at ${RATE} req/s${process.env.SOAK_MIX ? ` (mix changed: ${process.env.SOAK_MIX})` : ''}; AT pid ${nodes[0].pid}, PT pid ${nodes[1].pid}${ferretPid ? `, FerretDB pid ${ferretPid}` : `, database ${database.uri}`}; ${machine()}\n`);

    const ops = operations(at, pt).map((o) => ({ ...o, weight: MIX[o.kind] ?? o.weight }));
    const totalWeight = ops.reduce((s, o) => s + o.weight, 0);
    const chooseOp = () => {
      let r = Math.random() * totalWeight;
      for (const o of ops) if ((r -= o.weight) < 0) return o;
      return ops[ops.length - 1];
    };
    const t0 = performance.now();
    started = Date.now();
    const deadline = t0 + SECONDS * 1000;
    const launch = () => {
      if (inFlight >= MAX_IN_FLIGHT) {
        dropped += 1;
        return;
      }
      sent += 1;
      inFlight += 1;
      chooseOp()
        .run()
        .catch(() => (failuresTotal += 1))
        .finally(() => {
          inFlight -= 1;
          completed += 1;
        });
    };
    // Open loop: requests are launched when due, whatever the answers take.
    let launched = 0;
    ticker = setInterval(() => {
      const now = Math.min(performance.now(), deadline);
      const due = Math.floor(((now - t0) / 1000) * RATE);
      while (launched < due) {
        launched += 1;
        launch();
      }
    }, 5);

    const ferret = ferretPid ? { pid: ferretPid, lastCpuTicks: undefined } : undefined;
    const cpuPct = (holder, ticks) => {
      const pct = holder.lastCpuTicks === undefined ? NaN : ((ticks - holder.lastCpuTicks) / CLOCK_TICKS) * 100;
      holder.lastCpuTicks = ticks;
      return pct;
    };
    const probe = async (base) => {
      const p0 = performance.now();
      try {
        await (await fetch(`${base}/metadata`, { signal: AbortSignal.timeout(10_000) })).arrayBuffer();
        return performance.now() - p0;
      } catch {
        return NaN;
      }
    };
    let lastCompleted = 0;
    let sampling = false;
    sampler = setInterval(async () => {
      if (sampling) return;
      sampling = true;
      try {
        const t = (performance.now() - t0) / 1000;
        const [probeAt, probePt] = await Promise.all([probe(at), probe(pt)]);
        const sample = { t: round(t, 1), completedPerS: completed - lastCompleted, inFlight, probeMs: { AT: round(probeAt), PT: round(probePt) } };
        lastCompleted = completed;
        for (const node of nodes) {
          const { rssMb, cpuTicks } = procFigures(node.pid);
          // The main isolate is the one collecting most often; worker threads have their own heaps.
          const isolates = [...node.isolates.values()].sort((a, b) => b.gcs - a.gcs);
          const main = isolates[0];
          sample[node.name] = {
            rssMb: round(rssMb),
            cpuPct: round(cpuPct(node, cpuTicks), 1),
            heapAfterGcMb: round(main?.heapAfterMb ?? NaN),
            heapAfterFullGcMb: round(main?.heapAfterFullGcMb ?? NaN),
            fullGcs: main?.fullGcs ?? 0,
            gcPauseMs: round(isolates.reduce((s, i) => s + i.pauseMs, 0)),
            isolates: isolates.length,
          };
          for (const i of isolates) i.pauseMs = 0;
        }
        if (ferret) {
          const { rssMb, cpuTicks } = procFigures(ferret.pid);
          sample.FerretDB = { rssMb: round(rssMb), cpuPct: round(cpuPct(ferret, cpuTicks), 1) };
        }
        samples.push(sample);
        if (samples.length % 60 === 0) {
          const m = minutes[minutes.length - 2] ?? minutes[minutes.length - 1];
          const all = Object.values(m?.latencies ?? {}).flat().sort((a, b) => a - b);
          process.stdout.write(
            `  ${Math.round(t)} s: ${sample.completedPerS} req/s, in flight ${inFlight}, AT ${sample.AT.rssMb} MB RSS / heap ${sample.AT.heapAfterGcMb} MB, PT ${sample.PT.rssMb} MB / ${sample.PT.heapAfterGcMb} MB, minute ${m?.minute} p95 ${round(percentile(all, 95))} ms, errors so far ${unexpectedTotal + failuresTotal}\n`,
          );
        }
      } finally {
        sampling = false;
      }
    }, 1000);

    await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
    clearInterval(ticker);
    clearInterval(sampler);
    const drainUntil = Date.now() + 30_000;
    while (inFlight > 0 && Date.now() < drainUntil) await new Promise((resolve) => setTimeout(resolve, 100));

    const report = summarise(samples, nodes, ferret !== undefined);
    mkdirSync(dirname(REPORT), { recursive: true });
    writeFileSync(REPORT, `${JSON.stringify({ date: new Date().toISOString(), machine: machine(), seconds: SECONDS, rate: RATE, mix: process.env.SOAK_MIX ?? 'default', ...report, samples }, null, 2)}\n`);
    print(report);
    process.stdout.write(`\nreport: ${REPORT}\n`);
  } finally {
    clearInterval(ticker);
    clearInterval(sampler);
    await Promise.all(nodes.map((n) => stop(n.child)));
    await stopMongoTestServer(database);
  }
}

/** Per-minute percentiles, totals, and the growth fits over the last 80 % of the run. */
function summarise(samples, nodes, withFerret) {
  const perMinute = minutes.map((m) => {
    const all = Object.values(m.latencies).flat().sort((a, b) => a - b);
    const byKind = Object.fromEntries(
      Object.entries(m.latencies)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([kind, list]) => {
          const sorted = [...list].sort((a, b) => a - b);
          return [kind, { n: sorted.length, p50: round(percentile(sorted, 50)), p95: round(percentile(sorted, 95)), p99: round(percentile(sorted, 99)) }];
        }),
    );
    // CPU of each process over the minute's samples, and per completed request (ms of CPU).
    const inMinute = samples.filter((x) => x.t >= (m.minute - 1) * 60 && x.t < m.minute * 60);
    const mean = (f) => {
      const values = inMinute.map(f).filter(Number.isFinite);
      return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
    };
    const perSecond = mean((x) => x.completedPerS);
    const cpu = Object.fromEntries(
      [...nodes.map((n) => n.name), ...(withFerret ? ['FerretDB'] : [])].map((name) => {
        const pct = mean((x) => x[name]?.cpuPct);
        return [name, { pct: round(pct, 1), msPerRequest: round((pct * 10) / perSecond, 1) }];
      }),
    );
    return { minute: m.minute, n: all.length, completedPerS: round(perSecond, 1), cpu, p50: round(percentile(all, 50)), p95: round(percentile(all, 95)), p99: round(percentile(all, 99)), max: round(all[all.length - 1]), errors: Object.values(m.unexpected).reduce((s, n) => s + n, 0), unexpected: m.unexpected, byKind };
  });
  const from = SECONDS * WARM_UP_SHARE;
  const window = samples.filter((s) => s.t >= from);
  const minutesOf = (list) => list.map((s) => s.t / 60);
  const growth = {};
  const series = [
    ...nodes.flatMap((n) => [
      [`${n.name} RSS (MB/min)`, (s) => s[n.name]?.rssMb],
      [`${n.name} heap after GC (MB/min)`, (s) => s[n.name]?.heapAfterGcMb],
      [`${n.name} heap after full GC (MB/min)`, (s) => s[n.name]?.heapAfterFullGcMb, (s) => s[n.name]?.fullGcs],
      [`${n.name} metadata probe (ms/min)`, (s) => s.probeMs?.[n.name]],
    ]),
    ...(withFerret ? [['FerretDB RSS (MB/min)', (s) => s.FerretDB?.rssMb]] : []),
  ];
  for (const [name, value, onlyChanges] of series) {
    // Heap after a full GC: one point per full GC (the samples in between repeat it).
    const points = onlyChanges ? window.filter((s, i) => i > 0 && onlyChanges(s) !== onlyChanges(window[i - 1])) : window;
    const { slope, mean, n } = fit(minutesOf(points), points.map(value));
    const windowMin = (SECONDS - from) / 60;
    // Growing: the fitted rise over the window exceeds 5 % of the mean and a floor (5 MB, 5 ms).
    const rise = slope * windowMin;
    growth[name] = { slope: round(slope, 3), mean: round(mean), points: n, grows: n < 3 ? 'too few points' : Number.isFinite(rise) && rise > Math.max(5, 0.05 * Math.abs(mean)) };
  }
  // p95 drift: per-minute p95 fitted over the minutes after the warm-up share (whole minutes only).
  const fullMinutes = perMinute.filter((m) => m.minute * 60 <= SECONDS + 1);
  const lateMinutes = fullMinutes.filter((m) => m.minute > Math.floor((SECONDS / 60) * WARM_UP_SHARE));
  const drift = {};
  const kinds = [...new Set(perMinute.flatMap((m) => Object.keys(m.byKind)))];
  for (const kind of ['all', ...kinds]) {
    const ys = lateMinutes.map((m) => (kind === 'all' ? m.p95 : m.byKind[kind]?.p95));
    const { slope, mean } = fit(lateMinutes.map((m) => m.minute), ys);
    const rise = slope * Math.max(1, lateMinutes.length - 1);
    drift[kind] = { p95SlopeMsPerMin: round(slope, 3), meanP95: round(mean), drifts: Number.isFinite(rise) && rise > Math.max(5, 0.2 * Math.abs(mean)) };
  }
  const all = minutes.flatMap((m) => Object.values(m.latencies).flat()).sort((a, b) => a - b);
  return {
    totals: {
      sent,
      completed,
      dropped,
      unexpectedStatuses: unexpectedTotal,
      networkFailures: failuresTotal,
      achievedRate: round(completed / SECONDS),
      p50: round(percentile(all, 50)),
      p95: round(percentile(all, 95)),
      p99: round(percentile(all, 99)),
      nodeErrorLogLines: Object.fromEntries(nodes.map((n) => [n.name, n.errorLines])),
      nodeFatalLogLines: Object.fromEntries(nodes.map((n) => [n.name, n.fatalLines])),
      nodesAlive: Object.fromEntries(nodes.map((n) => [n.name, n.child.exitCode === null])),
      first: samples[0] ? { AT: samples[0].AT, PT: samples[0].PT, FerretDB: samples[0].FerretDB } : undefined,
      last: samples.at(-1) ? { AT: samples.at(-1).AT, PT: samples.at(-1).PT, FerretDB: samples.at(-1).FerretDB } : undefined,
    },
    perMinute,
    growth,
    drift,
    grows: Object.entries(growth).filter(([, g]) => g.grows === true).map(([name]) => name),
    drifts: Object.entries(drift).filter(([, d]) => d.drifts).map(([kind]) => kind),
  };
}

function print(report) {
  const t = report.totals;
  const out = [];
  out.push('', `${machine()}; ${SECONDS} s at ${RATE} req/s; nodes and load generator on this machine`, '');
  out.push(`requests: ${t.sent} sent, ${t.completed} completed (${t.achievedRate}/s), ${t.dropped} dropped at the in-flight cap; ${t.unexpectedStatuses} unexpected statuses, ${t.networkFailures} network failures`);
  out.push(`latency overall: p50 ${t.p50} ms, p95 ${t.p95} ms, p99 ${t.p99} ms; node error log lines ${JSON.stringify(t.nodeErrorLogLines)}, fatal ${JSON.stringify(t.nodeFatalLogLines)}; alive ${JSON.stringify(t.nodesAlive)}`);
  const processes = Object.keys(report.perMinute[0]?.cpu ?? {});
  out.push(
    '',
    `| minute | requests | done/s | p50 ms | p95 ms | p99 ms | max ms | errors | ${processes.map((p) => `${p} CPU % (ms/req)`).join(' | ')} |`,
    `|---|---|---|---|---|---|---|---|${processes.map(() => '---|').join('')}`,
  );
  for (const m of report.perMinute) {
    out.push(`| ${m.minute} | ${m.n} | ${m.completedPerS} | ${m.p50} | ${m.p95} | ${m.p99} | ${m.max} | ${m.errors} | ${processes.map((p) => `${m.cpu[p].pct} (${m.cpu[p].msPerRequest})`).join(' | ')} |`);
  }
  const kinds = Object.keys(report.drift).filter((k) => k !== 'all');
  out.push('', `p95 per kind and minute (ms):`, '', `| kind | ${report.perMinute.map((m) => m.minute).join(' | ')} | slope ms/min | drifts |`, `|---|${report.perMinute.map(() => '---|').join('')}---|---|`);
  for (const kind of ['all', ...kinds]) {
    const row = report.perMinute.map((m) => (kind === 'all' ? m.p95 : (m.byKind[kind]?.p95 ?? '')));
    out.push(`| ${kind} | ${row.join(' | ')} | ${report.drift[kind].p95SlopeMsPerMin} | ${report.drift[kind].drifts ? 'yes' : 'no'} |`);
  }
  out.push('', `growth over the last ${Math.round((1 - WARM_UP_SHARE) * 100)} % of the samples (least squares):`, '', '| series | slope | mean | grows |', '|---|---|---|---|');
  for (const [name, g] of Object.entries(report.growth)) out.push(`| ${name} | ${g.slope} | ${g.mean} | ${g.grows === true ? 'yes' : g.grows === false ? 'no' : g.grows} |`);
  const first = t.first;
  const last = t.last;
  if (first && last) {
    out.push('', `first → last sample: AT RSS ${first.AT.rssMb} → ${last.AT.rssMb} MB, heap ${first.AT.heapAfterGcMb} → ${last.AT.heapAfterGcMb} MB; PT RSS ${first.PT.rssMb} → ${last.PT.rssMb} MB, heap ${first.PT.heapAfterGcMb} → ${last.PT.heapAfterGcMb} MB${first.FerretDB ? `; FerretDB RSS ${first.FerretDB.rssMb} → ${last.FerretDB.rssMb} MB` : ''}`);
  }
  out.push('', `verdict: ${report.grows.length === 0 ? 'nothing grows' : `grows: ${report.grows.join(', ')}`}; ${report.drifts.length === 0 ? 'no p95 drift' : `p95 drifts: ${report.drifts.join(', ')}`}`);
  process.stdout.write(`${out.join('\n')}\n`);
}

main().catch((error) => {
  process.stderr.write(`soak: ${error.stack ?? error}\n`);
  process.exit(1);
});
