#!/usr/bin/env node
// The storage side of a push on the MongoDB path, in this one process: the repository calls a push
// of a new patient's minimal document makes (token claim and identifier claim in one turn, the
// document's insert, the patient (listing the document, or with a change entry in builds before
// issue 16's fifth session), the audit record, batched as the node batches them), without HTTP,
// validation or crypto. Reports the CPU of this process (the driver, BSON, the repositories) and of
// FerretDB per push, each build beside the other in alternating chunks: the node-side cost of the
// MongoDB path on its own, steadier on a loaded machine than the HTTP benchmark.
//
// BENCH_BASELINE=<folder with an earlier build> measures it beside this build. BENCH_CONCURRENCY
// (1,10), BENCH_CHUNK (200 pushes), BENCH_ROUNDS (6), BENCH_STORES (ferretdb,embedded).
// BENCH_ENV / BENCH_BASELINE_ENV (`NAME=value,...`): environment while each build's store opens.
// BENCH_UNIX=1 starts FerretDB listening on a Unix domain socket too; a build whose environment
// has BENCH_TRANSPORT=unix connects through it (e.g. BENCH_BASELINE=. BENCH_ENV=BENCH_TRANSPORT=unix:
// the same build over both transports, in the same run).
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMongoTestServer, stopMongoTestServer, NO_SERVER_HELP } from '../scripts/mongo-test-server.mjs';
import { concurrency, machine } from './lib.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CONCURRENCY = concurrency('1,10');
const CHUNK = Number(process.env.BENCH_CHUNK ?? 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const STORES = (process.env.BENCH_STORES ?? 'ferretdb,embedded').split(',');
const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());
const environment = (list) => Object.fromEntries((list ?? '').split(',').filter(Boolean).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
const builds = [{ name: 'this version', root: ROOT, env: environment(process.env.BENCH_ENV) }];
if (process.env.BENCH_BASELINE) builds.push({ name: 'baseline', root: process.env.BENCH_BASELINE, env: environment(process.env.BENCH_BASELINE_ENV) });

const DOCUMENT = readFileSync(join(ROOT, 'profiles/hl7.fhir.uv.ips-2.0.0/package/example/Bundle-bundle-minimal.json'), 'utf8');
const PATIENT_JSON = JSON.stringify(JSON.parse(DOCUMENT).entry.find((e) => e.resource.resourceType === 'Patient').resource);
const AUDIT_JSON = JSON.stringify({ resourceType: 'AuditEvent', type: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110110' }, action: 'C', recorded: new Date().toISOString(), outcome: '0', agent: [{ who: { identifier: { system: 'urn:ietf:rfc:3986', value: 'urn:his:demo' } }, requestor: true }], source: { observer: { display: 'pontis' } }, entity: [{ what: { reference: 'Patient/x' } }, { what: { reference: 'Bundle/y' } }] });

function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** One build's repositories on `uri` ('' for the embedded store), and a push's storage calls on them. */
async function open(build, uri) {
  const at = (path) => import(join(build.root, 'dist/src', path));
  const [{ storeOn }, { GroupWriter }, { MemoryDatabase }] = await Promise.all(['repositories/store.js', 'repositories/group-writer.js', 'repositories/memory-database.js'].map(at));
  const saved = { ...process.env };
  Object.assign(process.env, build.env);
  const through = uri && build.env.BENCH_TRANSPORT === 'unix' ? unixUri : uri;
  const database = uri ? await (await at('repositories/mongo-database.js')).MongoDatabase.connect(through, `pontis_path_${randomUUID().slice(0, 8)}`) : new MemoryDatabase({});
  process.env = saved;
  const store = await storeOn(database, { currentSummaryTtlMs: 1000, documentCacheBytes: 64 * 2 ** 20 });
  const chain = `bench-${randomUUID().slice(0, 8)}`;
  let seq = 0;
  const audit = new GroupWriter(async (records) => {
    await store.audit.append(records);
    return records.map(() => true);
  });
  const push = async () => {
    const value = randomUUID();
    const key = `urn:oid:2.16.840.1.113883.2.4.6.3|${value}`;
    const [{ patientId, created }, firstUse] = await Promise.all([store.patients.resolve([key]), store.tokenUses.firstUse('bench', randomUUID(), new Date(Date.now() + 3_600_000))]);
    if (!firstUse) throw new Error('token replayed');
    if (created) store.summaries.patientMinted(patientId);
    const now = new Date();
    const record = { _id: randomUUID(), identifierKey: `urn:ietf:rfc:3986|${value}`, patientId, timestampMs: now.getTime(), versionId: 1, lastUpdated: now, contentHash: value };
    await store.summaries.create(record, DOCUMENT, 'bench');
    const facts = { family: ['deboer'], given: ['martha'], birthDate: '1972-05-01', gender: 'female', identifierKeys: [key], identifierSystems: ['urn:oid:2.16.840.1.113883.2.4.6.3'], identifierValues: [value] };
    if (created && store.summaries.listedWithPatient) {
      // Builds whose new patient's record lists its first document (no change entry of its own).
      const listed = await store.patients.recordDocument(patientId, record.timestampMs, facts, PATIENT_JSON, true, store.summaries.constructor.firstDocumentOf(record));
      if (listed) store.summaries.listedWithPatient(record);
      else await store.summaries.list(record);
    } else {
      await Promise.all([store.summaries.list(record), store.patients.recordDocument(patientId, record.timestampMs, facts, PATIENT_JSON, created)]);
    }
    seq += 1;
    await audit.submit({ _id: `${chain}:${String(seq).padStart(12, '0')}`, chain, seq, recordedMs: Date.now(), patientIds: [patientId], breakGlass: false, prevHash: value, hash: value, json: AUDIT_JSON });
  };
  return { build, store, push };
}

let unixUri = '';

/** FerretDB on a free loopback port and on a Unix domain socket (BENCH_UNIX=1). */
async function startFerretDbWithUnixSocket() {
  const port = await new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address();
      probe.close(() => resolve(free));
    });
  });
  const dataDir = mkdtempSync(join(tmpdir(), 'pontis-ferretdb-unix-'));
  const socket = join(dataDir, 'ferretdb.sock');
  const child = spawn(join(ROOT, '.cache/ferretdb/ferretdb'), ['--handler=sqlite', `--sqlite-url=file:${dataDir}/`, `--listen-addr=127.0.0.1:${port}`, `--listen-unix=${socket}`, '--debug-addr=-', '--telemetry=disable', '--log-level=error', `--state-dir=${dataDir}`], { stdio: ['ignore', 'ignore', 'inherit'] });
  await new Promise((resolve) => setTimeout(resolve, 1500));
  unixUri = `mongodb://${encodeURIComponent(socket)}/`;
  return {
    uri: `mongodb://127.0.0.1:${port}/`,
    process: child,
    stop: async () => {
      await new Promise((resolve) => {
        child.once('exit', resolve);
        child.kill('SIGTERM');
      });
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function main() {
  const mongo = STORES.includes('ferretdb') ? await (process.env.BENCH_UNIX === '1' ? startFerretDbWithUnixSocket() : startMongoTestServer()) : undefined;
  if (STORES.includes('ferretdb') && !mongo) throw new Error(NO_SERVER_HELP);
  const dbPid = mongo?.process?.pid;
  const rows = [];
  try {
    for (const store of STORES) {
      const nodes = [];
      for (const build of builds) nodes.push(await open(build, store === 'ferretdb' ? mongo.uri : ''));
      for (const connections of CONCURRENCY) {
        const sums = nodes.map(() => ({ cpu: 0, db: 0, wall: 0, pushes: 0 }));
        for (let round = -1; round < ROUNDS; round++) {
          for (const i of round % 2 ? nodes.keys() : [...nodes.keys()].reverse()) {
            const before = { cpu: process.cpuUsage(), db: dbPid ? cpuSeconds(dbPid) : 0, at: performance.now() };
            let left = CHUNK;
            await Promise.all(Array.from({ length: connections }, async () => {
              while (left-- > 0) await nodes[i].push();
            }));
            if (round < 0) continue;
            const used = process.cpuUsage(before.cpu);
            sums[i].cpu += (used.user + used.system) / 1e6;
            sums[i].db += dbPid ? cpuSeconds(dbPid) - before.db : NaN;
            sums[i].wall += performance.now() - before.at;
            sums[i].pushes += CHUNK;
          }
        }
        nodes.forEach((node, i) => rows.push({ store, build: node.build.name, connections, ...sums[i] }));
      }
      for (const node of nodes) await node.store.close();
    }
  } finally {
    if (mongo?.stop) await mongo.stop();
    else if (mongo) await stopMongoTestServer(mongo);
  }
  const f = (n) => (Number.isFinite(n) ? n.toFixed(3) : '');
  process.stdout.write(`\n${machine()}; ${CHUNK} pushes a chunk, ${ROUNDS} rounds; load average at the end ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}\n\n`);
  process.stdout.write('| store | conn. | build | pushes | node CPU ms/push | FerretDB CPU ms/push | pushes/s | vs baseline: node, FerretDB |\n|---|---|---|---|---|---|---|---|\n');
  for (const r of rows) {
    const previous = builds.length > 1 && r.build === builds[0].name ? rows.find((p) => p.build === builds[1].name && p.store === r.store && p.connections === r.connections) : undefined;
    const vs = previous ? `${(r.cpu / previous.cpu).toFixed(2)}×, ${(r.db / previous.db).toFixed(2)}×` : '';
    process.stdout.write(`| ${r.store} | ${r.connections} | ${r.build} | ${r.pushes} | ${f((r.cpu * 1000) / r.pushes)} | ${f((r.db * 1000) / r.pushes)} | ${Math.round((r.pushes * 1000) / r.wall)} | ${vs} |\n`);
  }
  process.exit(0);
}

main().catch((error) => {
  process.stderr.write(`bench:mongo-path: ${error.stack ?? error}\n`);
  process.exit(1);
});
