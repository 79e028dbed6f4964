#!/usr/bin/env node
// npm run bench (third part): cross-border $summary, a clinician at PT reading an Austrian
// patient's summary through the PT node (identification at AT, summary from AT, AT's signature
// and the IPS profile checked at PT, audit at both), against the local read of the same summary
// at AT by a clinician of AT, in the same run. Two node processes, embedded stores, seed data.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mintDemoToken } from '../dist/src/auth/demo-tokens.js';
import { concurrency, DURATION, load, machine, startProcess, withTokens } from './lib.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CONCURRENCY = concurrency('1,10,100');
const GRUBER = 'urn:oid:1.2.40.0.10.1.4.3.1|1238140358';
const url = (port) => `http://127.0.0.1:${port}/fhir`;

function startNode(country, port, peerUrls) {
  return startProcess([join(ROOT, 'dist/src/main.js')], {
    PORT: String(port), HOST: '127.0.0.1', PONTIS_COUNTRY: country, PONTIS_BASE_URL: url(port), PONTIS_PEER_URLS: peerUrls, PONTIS_SEED: '1', LOG_LEVEL: 'warn', MONGODB_URI: '',
    PONTIS_LIMIT_PER_REQUESTER: '1000000000', PONTIS_LIMIT_PER_PATIENT: '1000000000',
  }, /listening on/).then((started) => started.child);
}

/** A clinician of `country` reading `target`; single-use tokens, enough for the fastest rows (local reads at up to about 2,500/s). */
async function read(name, target, connections, country) {
  const options = await withTokens({ url: target.url, connections }, 3500 * DURATION, () => mintDemoToken({ audience: target.aud, country, ttlSeconds: 3600 }));
  return load(name, options);
}

async function main() {
  const peerUrls = `AT=${url(18281)},PT=${url(18282)}`;
  const children = [];
  try {
    children.push(await startNode('AT', 18281, peerUrls), await startNode('PT', 18282, peerUrls));
    const query = `/Patient/$summary?identifier=${encodeURIComponent(GRUBER)}`;
    const rows = [];
    for (const connections of CONCURRENCY) {
      rows.push(await read('local $summary at AT (AT clinician)', { url: `${url(18281)}${query}`, aud: url(18281) }, connections, 'AT'));
      rows.push(await read('cross-border $summary: PT clinician → PT node → AT node', { url: `${url(18282)}${query}`, aud: url(18282) }, connections, 'PT'));
    }
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    writeFileSync(join(ROOT, 'bench/results/exchange.json'), `${JSON.stringify({ date: new Date().toISOString(), machine: machine(), durationSeconds: DURATION, rows }, null, 2)}\n`);
    process.stdout.write(`\n${machine()}; ${DURATION} s per run; both nodes and the load generator on this machine\n\n| what | conn. | req/s | p50 ms | p95 ms | p99 ms | vs local | non-2xx | errors |\n|---|---|---|---|---|---|---|---|---|\n`);
    for (const r of rows) {
      const local = rows.find((b) => b.connections === r.connections && b.name.startsWith('local'));
      process.stdout.write(`| ${r.name} | ${r.connections} | ${r.rps} | ${r.p50.toFixed(2)} | ${r.p95.toFixed(2)} | ${r.p99.toFixed(2)} | ${r === local ? '' : `${((r.rps / local.rps) * 100).toFixed(0)} %`} | ${r.non2xx} | ${r.errors} |\n`);
    }
  } finally {
    for (const c of children) c.kill('SIGTERM');
  }
}

main().catch((error) => {
  process.stderr.write(`bench: ${error.stack ?? error}\n`);
  process.exit(1);
});
