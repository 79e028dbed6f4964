#!/usr/bin/env node
// npm run bench: read and write throughput and latency of a Pontis node on MongoDB (FerretDB
// here), against bare hapi serving the same bytes, measured in the same run. Each server runs in
// its own process; the load generator (autocannon) runs in this one.
import { MongoClient } from 'mongodb';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMongoTestServer, stopMongoTestServer, NO_SERVER_HELP } from '../scripts/mongo-test-server.mjs';
import { mintDemoToken } from '../dist/src/auth/demo-tokens.js';
import { concurrency, DURATION, load, machine, startProcess, withTokens } from './lib.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CONCURRENCY = concurrency('1,10,100');
const EXAMPLE = join(ROOT, 'profiles/hl7.fhir.uv.ips-2.0.0/package/example/Bundle-bundle-ips-all-sections.json');

/** The demo hospital system's token for a node: single-use, so one per request. */
const hisToken = (port, scope) => mintDemoToken({ audience: `http://127.0.0.1:${port}/fhir`, scope, ttlSeconds: 3600 });

async function main() {
  const mongo = await startMongoTestServer();
  if (!mongo) throw new Error(NO_SERVER_HELP);
  const children = [];
  try {
    const client = new MongoClient(mongo.uri);
    const info = await client.db('admin').command({ buildInfo: 1 });
    await client.close();
    const server = info.ferretdbVersion ? `FerretDB ${info.ferretdbVersion} (SQLite backend)` : `MongoDB ${info.version}`;

    const node = (port, ttl, mongodbUri = mongo.uri) =>
      startProcess([join(ROOT, 'dist/src/main.js')], {
        PORT: String(port), HOST: '127.0.0.1', MONGODB_URI: mongodbUri, MONGODB_DATABASE: `pontis_bench_${randomUUID().slice(0, 8)}`,
        PONTIS_SEED: '0', LOG_LEVEL: 'warn', PONTIS_CURRENT_SUMMARY_TTL_MS: String(ttl), PONTIS_COUNTRY: 'AT',
        // Limits high enough never to refuse: their counting is part of what is measured.
        PONTIS_LIMIT_PER_REQUESTER: '1000000000', PONTIS_LIMIT_PER_PATIENT: '1000000000',
      }, /listening on/).then((started) => started.child);
    children.push(await node(18181, 1000), await node(18182, 0));

    const template = readFileSync(EXAMPLE, 'utf8');
    const headers = { 'content-type': 'application/fhir+json' };
    const auth = async (port, scope) => ({ ...headers, authorization: `Bearer ${await hisToken(port, scope)}` });
    const pushed = await fetch('http://127.0.0.1:18181/fhir/Bundle', { method: 'POST', headers: await auth(18181, 'system/Bundle.c'), body: template });
    await fetch('http://127.0.0.1:18182/fhir/Bundle', { method: 'POST', headers: await auth(18182, 'system/Bundle.c'), body: template });
    const stored = await pushed.text();
    const patient = JSON.parse(stored).entry.find((e) => e.resource.resourceType === 'Patient').resource;
    const identifier = `${patient.identifier[0].system}|${patient.identifier[0].value}`;
    const search = await (await fetch(`http://127.0.0.1:18181/fhir/Patient?identifier=${encodeURIComponent(identifier)}`, { headers: await auth(18181, 'system/Patient.rs') })).json();
    const patientId = search.entry[0].resource.id;
    const search2 = await (await fetch(`http://127.0.0.1:18182/fhir/Patient?identifier=${encodeURIComponent(identifier)}`, { headers: await auth(18182, 'system/Patient.rs') })).json();
    const patientId2 = search2.entry[0].resource.id;
    const bytesFile = join(tmpdir(), `pontis-bench-${process.pid}.json`);
    const summaryBytes = Buffer.from(await (await fetch(`http://127.0.0.1:18181/fhir/Patient/${patientId}/$summary`, { headers: await auth(18181, 'system/Bundle.r') })).arrayBuffer());
    writeFileSync(bytesFile, summaryBytes);
    children.push((await startProcess([join(ROOT, 'bench/bare-server.mjs'), bytesFile, '18183'], {}, /ready/)).child);

    const rows = [];
    for (const connections of CONCURRENCY) {
      rows.push(await load('bare hapi, same bytes (ceiling)', { url: 'http://127.0.0.1:18183/bare', connections }));
      // Reads are bound by the store's writes here (a few hundred per second): the pool covers that.
      const reads = 1000 * DURATION;
      rows.push(await load('GET $summary (token, budgets, audit: 4 writes per read)', await withTokens({ url: `http://127.0.0.1:18181/fhir/Patient/${patientId}/$summary`, connections }, reads, () => hisToken(18181, 'system/Bundle.r'))));
      rows.push(await load('GET $summary, TTL 0 (database every read)', await withTokens({ url: `http://127.0.0.1:18182/fhir/Patient/${patientId2}/$summary`, connections }, reads, () => hisToken(18182, 'system/Bundle.r'))));
    }
    // Writes last, on their own node and database, so they do not change what the reads measured.
    // Each push is a new document of a new patient, as when hospitals push summaries.
    // The same pushes on the embedded store separate the node's own cost from the database's.
    children.push(await node(18184, 1000), await node(18185, 1000, ''));
    const document = JSON.parse(template);
    const subject = document.entry.find((e) => e.resource.resourceType === 'Patient').resource;
    for (const [label, port] of [['POST /fhir/Bundle (new document, new patient)', 18184], ['POST /fhir/Bundle, embedded store', 18185]])
    for (const connections of CONCURRENCY) {
      rows.push(
        await load(label, await withTokens({
          url: `http://127.0.0.1:${port}/fhir/Bundle`,
          connections,
          method: 'POST',
          headers,
          requests: [
            {
              setupRequest: (req) => {
                document.identifier.value = randomUUID();
                subject.identifier[0].value = randomUUID();
                return { ...req, body: JSON.stringify(document) };
              },
            },
          ],
        }, 200 * DURATION, () => hisToken(port, 'system/Bundle.c'))),
      );
    }
    const report = { date: new Date().toISOString(), machine: machine(), server, durationSeconds: DURATION, documentBytes: summaryBytes.length, rows };
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    writeFileSync(join(ROOT, 'bench/results/latest.json'), `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`\n${machine()}; store: ${server}; ${DURATION} s per run; document ${summaryBytes.length} bytes\n\n`);
    process.stdout.write('| what | conn. | req/s | p50 ms | p95 ms | p99 ms | vs ceiling | non-2xx | errors |\n|---|---|---|---|---|---|---|---|---|\n');
    for (const r of rows) {
      const ceiling = rows.find((c) => c.connections === r.connections && c.name.startsWith('bare'));
      const ratio = r.name.startsWith('POST') ? '' : `${((r.rps / ceiling.rps) * 100).toFixed(0)} %`;
      process.stdout.write(`| ${r.name} | ${r.connections} | ${r.rps} | ${r.p50.toFixed(2)} | ${r.p95.toFixed(2)} | ${r.p99.toFixed(2)} | ${ratio} | ${r.non2xx} | ${r.errors} |\n`);
    }
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await stopMongoTestServer(mongo);
  }
}

main().catch((error) => {
  process.stderr.write(`bench: ${error.stack ?? error}\n`);
  process.exit(1);
});
