#!/usr/bin/env node
// npm run bench (third part): cross-border $summary, a clinician at PT reading an Austrian
// patient's summary through the PT node (identification at AT, summary from AT, AT's signature
// and the IPS profile checked at PT, audit at both), against the local read of the same summary
// at AT by a clinician of AT, in the same run. Two node processes, embedded stores, seed data.
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mintDemoToken } from '../dist/src/auth/demo-tokens.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '1,10,100').split(',').map(Number);
const GRUBER = 'urn:oid:1.2.40.0.10.1.4.3.1|1238140358';
const url = (port) => `http://127.0.0.1:${port}/fhir`;

function startNode(country, port, peerUrls) {
  const child = spawn(process.execPath, [join(ROOT, 'dist/src/main.js')], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', PONTIS_COUNTRY: country, PONTIS_BASE_URL: url(port), PONTIS_PEER_URLS: peerUrls, PONTIS_SEED: '1', LOG_LEVEL: 'warn', MONGODB_URI: '', PONTIS_LIMIT_PER_REQUESTER: '1000000000', PONTIS_LIMIT_PER_PATIENT: '1000000000' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (d) => {
      output += d;
      if (/listening on/.test(output)) resolve(child);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`node exited (${code}): ${output}`)));
  });
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function load(name, target, connections, country) {
  const pool = [];
  // Single-use tokens, minted ahead: enough for the fastest rows (local reads at about 1,500/s).
  for (let i = 0; i < 2000 * DURATION; i++) pool.push(await mintDemoToken({ audience: target.aud, country, ttlSeconds: 3600 }));
  let next = 0;
  const latencies = [];
  const instance = autocannon({
    url: target.url,
    connections,
    duration: DURATION,
    requests: [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, authorization: `Bearer ${pool[next++ % pool.length]}` } }) }],
  });
  instance.on('response', (_c, _s, _b, ms) => latencies.push(ms));
  const result = await instance;
  latencies.sort((a, b) => a - b);
  const row = { name, connections, rps: Math.round(result.requests.total / DURATION), p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99), non2xx: result.non2xx, errors: result.errors + result.timeouts };
  process.stdout.write(`${JSON.stringify(row)}\n`);
  return row;
}

async function main() {
  const peerUrls = `AT=${url(18281)},PT=${url(18282)}`;
  const children = [];
  try {
    children.push(await startNode('AT', 18281, peerUrls), await startNode('PT', 18282, peerUrls));
    const query = `/Patient/$summary?identifier=${encodeURIComponent(GRUBER)}`;
    const rows = [];
    for (const connections of CONCURRENCY) {
      rows.push(await load('local $summary at AT (AT clinician)', { url: `${url(18281)}${query}`, aud: url(18281) }, connections, 'AT'));
      rows.push(await load('cross-border $summary: PT clinician → PT node → AT node', { url: `${url(18282)}${query}`, aud: url(18282) }, connections, 'PT'));
    }
    const machine = `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    writeFileSync(join(ROOT, 'bench/results/exchange.json'), `${JSON.stringify({ date: new Date().toISOString(), machine, durationSeconds: DURATION, rows }, null, 2)}\n`);
    process.stdout.write(`\n${machine}; ${DURATION} s per run; both nodes and the load generator on this machine\n\n| what | conn. | req/s | p50 ms | p95 ms | p99 ms | vs local | non-2xx | errors |\n|---|---|---|---|---|---|---|---|---|\n`);
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
