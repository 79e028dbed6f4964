#!/usr/bin/env node
// npm run bench:scale: a node on FerretDB loaded with synthetic patients (documents made from the
// seed and the official minimal IPS document, each with its own identifiers, names, birth date
// and gender), pushed through the API as hospitals push them; at each size, $summary by
// identifier and a demographic Patient search for patients drawn at random (p50/p95, one request
// at a time), the load rate and the store's size on disk.
//
//   BENCH_SCALE_SIZES=1000,10000,100000   sizes to reach (default 1000,10000)
//   BENCH_SCALE_CONCURRENCY=32             pushes in flight while loading
//   BENCH_SCALE_REQUESTS=200               requests per latency measurement
//   BENCH_SCALE_PORT=18191                 the node's port
//   BENCH_BACKEND=sqlite | postgresql      FerretDB's backend (default sqlite, as the tests; or
//                                          MONGODB_URI's server). postgresql: a throw-away cluster
//                                          (scripts/ferretdb-postgres.mjs) with the GIN indexes of
//                                          scripts/ferretdb-postgres-indexes.sql; BENCH_PG_GIN=0
//                                          without them (FerretDB's own B-trees only)
//
// The latency requests of a size are measured after its load, with nothing else running; the
// patients asked for are drawn from all those loaded, so most are not in any cache.
import { MongoClient } from 'mongodb';
import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMongoTestServer, stopMongoTestServer, NO_SERVER_HELP } from '../scripts/mongo-test-server.mjs';
import { postgresDatabaseBytes, startFerretDbOnPostgres, stopFerretDbOnPostgres } from '../scripts/ferretdb-postgres.mjs';
import { mintDemoToken } from '../dist/src/auth/demo-tokens.js';
import { machine, startProcess } from './lib.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SIZES = (process.env.BENCH_SCALE_SIZES ?? '1000,10000').split(',').map(Number);
const CONCURRENCY = Number(process.env.BENCH_SCALE_CONCURRENCY ?? 32);
const BACKEND = process.env.BENCH_BACKEND ?? 'sqlite';
if (!['sqlite', 'postgresql'].includes(BACKEND)) throw new Error(`BENCH_BACKEND must be sqlite or postgresql, not ${BACKEND}`);
const GIN = process.env.BENCH_PG_GIN !== '0';
const REQUESTS = Number(process.env.BENCH_SCALE_REQUESTS ?? 200);
const PORT = Number(process.env.BENCH_SCALE_PORT ?? 18191); // two runs side by side need two ports
const BASE = `http://127.0.0.1:${PORT}/fhir`;
const SYSTEM = 'urn:oid:1.2.40.0.10.1.4.3.1'; // the Austrian social security number, as in the seed

const FAMILIES = ['Gruber', 'Huber', 'Bauer', 'Wagner', 'Müller', 'Pichler', 'Steiner', 'Moser', 'Mayer', 'Hofer', 'Leitner', 'Berger', 'Fuchs', 'Eder', 'Fischer', 'Schmid', 'Winkler', 'Weber', 'Schwarz', 'Maier', 'Silva', 'Santos', 'Ferreira', 'Pereira', 'Oliveira', 'Costa', 'Rodrigues', 'Martins', 'Jesus', 'Sousa', 'Fernandes', 'Gonçalves', 'Gomes', 'Lopes', 'Marques', 'Alves', 'Almeida', 'Ribeiro', 'Pinto', 'Carvalho'];
const GIVEN = { female: ['Anna', 'Maria', 'Sophie', 'Laura', 'Lena', 'Sara', 'Fatma', 'Beatriz', 'Inês', 'Mariana'], male: ['Lukas', 'David', 'Paul', 'Jakob', 'Felix', 'João', 'Tiago', 'Rodrigo', 'Miguel', 'Afonso'] };

/** Deterministic pseudo-random numbers, so that runs load the same patients. */
function random(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const templates = [
  ...['AT', 'PT'].flatMap((c) => readdirSync(join(ROOT, 'seed', c)).filter((f) => f.endsWith('.json')).map((f) => readFileSync(join(ROOT, 'seed', c, f), 'utf8'))),
  readFileSync(join(ROOT, 'profiles/hl7.fhir.uv.ips-2.0.0/package/example/Bundle-bundle-minimal.json'), 'utf8'),
];

/** Patient `n`: who they are, and their document. */
function patient(n) {
  const next = random(n + 1);
  const gender = next() < 0.5 ? 'female' : 'male';
  const family = FAMILIES[Math.floor(next() * FAMILIES.length)];
  const given = GIVEN[gender][Math.floor(next() * 10)];
  const birthDate = `${1930 + Math.floor(next() * 90)}-${String(1 + Math.floor(next() * 12)).padStart(2, '0')}-${String(1 + Math.floor(next() * 28)).padStart(2, '0')}`;
  const value = String(1000000000 + n);
  const document = JSON.parse(templates[n % templates.length]);
  document.identifier = { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${randomUUID()}` };
  document.timestamp = new Date(Date.UTC(2025, 0, 1) + n * 60_000).toISOString();
  const subject = document.entry.find((e) => e.resource.resourceType === 'Patient').resource;
  subject.identifier = [{ system: SYSTEM, value }];
  subject.name = [{ family, given: [given] }];
  subject.gender = gender;
  subject.birthDate = birthDate;
  return { value, family, birthDate, document };
}

const token = (scope) => mintDemoToken({ audience: BASE, ...(scope ? { scope } : {}), ttlSeconds: 3600 });

async function push(n) {
  const { document } = patient(n);
  const response = await fetch(`${BASE}/Bundle`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await token('system/Bundle.c')}`, 'content-type': 'application/fhir+json' },
    body: JSON.stringify(document),
  });
  await response.arrayBuffer();
  if (response.status !== 201) throw new Error(`push of patient ${n} answered ${response.status}`);
}

/** Loads patients [from, to) with CONCURRENCY pushes in flight; resolves to pushes per second. */
async function loadRange(from, to) {
  const started = performance.now();
  let next = from;
  const worker = async () => {
    while (next < to) await push(next++);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return ((to - from) / (performance.now() - started)) * 1000;
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

/** p50/p95 of `REQUESTS` GETs, one at a time, each for a patient drawn at random. */
async function latency(loaded, url, scope, expect) {
  const next = random(loaded * 7 + url.length);
  const tokens = await Promise.all(Array.from({ length: REQUESTS }, () => token(scope)));
  const times = [];
  for (let i = 0; i < REQUESTS; i++) {
    const p = patient(Math.floor(next() * loaded));
    const started = performance.now();
    const response = await fetch(url(p), { headers: { authorization: `Bearer ${tokens[i]}` } });
    const body = await response.text();
    times.push(performance.now() - started);
    if (response.status !== 200 || !expect(body)) throw new Error(`${url(p)} answered ${response.status}`);
  }
  times.sort((a, b) => a - b);
  return { p50: quantile(times, 0.5), p95: quantile(times, 0.95) };
}

function folderBytes(folder) {
  let total = 0;
  for (const f of readdirSync(folder, { withFileTypes: true })) total += f.isDirectory() ? folderBytes(join(folder, f.name)) : statSync(join(folder, f.name)).size;
  return total;
}

async function main() {
  const postgres = BACKEND === 'postgresql' && !process.env.MONGODB_URI ? await startFerretDbOnPostgres({ ginIndexes: GIN }) : undefined;
  const mongo = postgres ?? (await startMongoTestServer());
  if (!mongo) throw new Error(NO_SERVER_HELP);
  let child;
  try {
    const client = new MongoClient(mongo.uri);
    const info = await client.db('admin').command({ buildInfo: 1 });
    const backend = postgres ? `PostgreSQL ${postgres.version.split(' ')[0]} backend, ${GIN ? 'GIN indexes beside FerretDB\'s' : 'FerretDB\'s B-tree indexes only'}` : mongo.dataDir ? 'SQLite backend' : 'backend as given';
    const server = info.ferretdbVersion ? `FerretDB ${info.ferretdbVersion} (${backend})` : `MongoDB ${info.version}`;
    const database = `pontis_scale_${randomUUID().slice(0, 8)}`;
    ({ child } = await startProcess([join(ROOT, 'dist/src/main.js')], {
      PORT: String(PORT), HOST: '127.0.0.1', MONGODB_URI: mongo.uri, MONGODB_DATABASE: database, PONTIS_SEED: '0', LOG_LEVEL: 'warn',
      PONTIS_COUNTRY: 'AT', PONTIS_CONSENT_DEFAULT: 'opt-out', PONTIS_LIMIT_PER_REQUESTER: '1000000000', PONTIS_LIMIT_PER_PATIENT: '1000000000',
    }, /listening on/));
    const rows = [];
    let loaded = 0;
    for (const size of SIZES) {
      const loadStarted = performance.now();
      const rate = await loadRange(loaded, size);
      const loadSeconds = (performance.now() - loadStarted) / 1000;
      loaded = size;
      const summary = await latency(loaded, (p) => `${BASE}/Patient/$summary?identifier=${encodeURIComponent(`${SYSTEM}|${p.value}`)}`, undefined, (b) => b.includes('"Composition"'));
      const search = await latency(loaded, (p) => `${BASE}/Patient?family=${encodeURIComponent(p.family)}&birthdate=${p.birthDate}`, 'system/Patient.rs', (b) => b.includes('"searchset"'));
      const stats = await client.db(database).command({ dbStats: 1 }).catch(() => undefined);
      const storeBytes = postgres ? postgresDatabaseBytes(postgres, database) : mongo.dataDir ? folderBytes(mongo.dataDir) : stats?.storageSize;
      const row = { patients: loaded, pushesPerSecond: rate, loadSeconds, summary, search, storeBytes };
      process.stdout.write(`${JSON.stringify(row)}\n`);
      rows.push(row);
    }
    await client.close();
    const mb = (b) => (b === undefined ? '?' : `${(b / 2 ** 20).toFixed(0)} MB`);
    process.stdout.write(`\n${machine()}; store: ${server}; ${CONCURRENCY} pushes in flight while loading; ${REQUESTS} requests per latency, one at a time\n\n`);
    process.stdout.write('| patients | load rate (pushes/s) | load time | $summary by identifier p50 / p95 ms | Patient?family&birthdate p50 / p95 ms | store on disk |\n|---|---|---|---|---|---|\n');
    for (const r of rows) {
      process.stdout.write(`| ${r.patients} | ${r.pushesPerSecond.toFixed(0)} | ${(r.loadSeconds / 60).toFixed(1)} min | ${r.summary.p50.toFixed(1)} / ${r.summary.p95.toFixed(1)} | ${r.search.p50.toFixed(1)} / ${r.search.p95.toFixed(1)} | ${mb(r.storeBytes)} |\n`);
    }
    if (rows.length > 1) {
      // Flat means the largest store answers as fast as the smallest: the ratio of their p50s.
      const [first, last] = [rows[0], rows.at(-1)];
      const ratio = (a, b) => (b / a).toFixed(2);
      process.stdout.write(`\n${last.patients} against ${first.patients} patients (p50 ratio): $summary ${ratio(first.summary.p50, last.summary.p50)}×, search ${ratio(first.search.p50, last.search.p50)}×; load rate ${ratio(first.pushesPerSecond, last.pushesPerSecond)}×\n`);
    }
  } finally {
    child?.kill('SIGTERM');
    if (postgres) await stopFerretDbOnPostgres(postgres);
    else await stopMongoTestServer(mongo);
  }
}

main().catch((error) => {
  process.stderr.write(`bench:scale: ${error.stack ?? error}\n`);
  process.exit(1);
});
