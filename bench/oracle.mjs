#!/usr/bin/env node
// npm run bench:oracle: does the time of a refusal tell whether the patient exists? A clinician
// whose reads are refused (no consent, opt-in) asks for a known patient and for an unknown one,
// alternately, one request at a time over keep-alive HTTP, each with a fresh token; on the
// embedded store and on FerretDB. Reports both latency distributions and the difference of
// medians with a bootstrap 95 % interval: an interval containing 0 means indistinguishable here.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { mintDemoToken } from '../dist/src/auth/demo-tokens.js';
import { machine, startProcess } from './lib.mjs';
import { startMongoTestServer, stopMongoTestServer, NO_SERVER_HELP } from '../scripts/mongo-test-server.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLE = join(ROOT, 'profiles/hl7.fhir.uv.ips-2.0.0/package/example/Bundle-bundle-minimal.json');
const PAIRS = Number(process.env.ORACLE_PAIRS ?? 1000);
const WARM = 100;

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}
const median = (xs) => quantile([...xs].sort((a, b) => a - b), 0.5);

/** Bootstrap 95 % interval of median(a) - median(b). */
function bootstrap(a, b, rounds = 2000) {
  const diffs = [];
  const pick = (xs) => Array.from({ length: xs.length }, () => xs[Math.floor(Math.random() * xs.length)]);
  for (let i = 0; i < rounds; i++) diffs.push(median(pick(a)) - median(pick(b)));
  diffs.sort((x, y) => x - y);
  return [quantile(diffs, 0.025), quantile(diffs, 0.975)];
}

async function measure(name, port, env) {
  const base = `http://127.0.0.1:${port}/fhir`;
  const { child } = await startProcess([join(ROOT, 'dist/src/main.js')], {
    PORT: String(port), HOST: '127.0.0.1', PONTIS_SEED: '0', LOG_LEVEL: 'warn', PONTIS_COUNTRY: 'AT',
    PONTIS_CONSENT_DEFAULT: 'opt-in', PONTIS_LIMIT_PER_REQUESTER: '1000000000', PONTIS_LIMIT_PER_PATIENT: '1000000000', ...env,
  }, /listening on/);
  try {
    const his = await mintDemoToken({ audience: base, scope: 'system/Bundle.c' });
    const pushed = await (await fetch(`${base}/Bundle`, { method: 'POST', headers: { authorization: `Bearer ${his}`, 'content-type': 'application/fhir+json' }, body: readFileSync(EXAMPLE) })).json();
    const id = pushed.entry.find((e) => e.resource.resourceType === 'Patient').resource.identifier[0];
    const known = `${base}/Patient/$summary?identifier=${encodeURIComponent(`${id.system}|${id.value}`)}`;
    const unknown = `${base}/Patient/$summary?identifier=${encodeURIComponent(`${id.system}|${id.value}9`)}`;
    const dispatcher = new Agent({ connections: 1 });
    const tokens = await Promise.all(Array.from({ length: 2 * (PAIRS + WARM) }, () => mintDemoToken({ audience: base, issuer: 'ncp', country: 'PT', subject: 'oracle-probe', ttlSeconds: 3600 })));
    const times = { known: [], unknown: [] };
    const statuses = new Set();
    for (let i = 0; i < PAIRS + WARM; i++) {
      // Alternate which goes first, so that neither always follows the other.
      const order = i % 2 === 0 ? ['known', 'unknown'] : ['unknown', 'known'];
      for (const which of order) {
        const started = process.hrtime.bigint();
        const response = await request(which === 'known' ? known : unknown, { dispatcher, headers: { authorization: `Bearer ${tokens.pop()}` } });
        await response.body.text();
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        statuses.add(`${which}:${response.statusCode}`);
        if (i >= WARM) times[which].push(ms);
      }
    }
    await dispatcher.close();
    const [lo, hi] = bootstrap(times.known, times.unknown);
    const sorted = (xs) => [...xs].sort((a, b) => a - b);
    const row = {
      name, pairs: PAIRS, statuses: [...statuses].sort().join(' '),
      knownP50: quantile(sorted(times.known), 0.5), unknownP50: quantile(sorted(times.unknown), 0.5),
      knownP90: quantile(sorted(times.known), 0.9), unknownP90: quantile(sorted(times.unknown), 0.9),
      diffMedianCi95: [lo, hi],
    };
    process.stdout.write(`${JSON.stringify(row)}\n`);
    return row;
  } finally {
    child.kill('SIGTERM');
  }
}

async function main() {
  const mongo = await startMongoTestServer();
  if (!mongo) throw new Error(NO_SERVER_HELP);
  try {
    const rows = [await measure('embedded store', 18291, {}), await measure('FerretDB', 18292, { MONGODB_URI: mongo.uri, MONGODB_DATABASE: `pontis_oracle_${process.pid}` })];
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    writeFileSync(join(ROOT, 'bench/results/oracle.json'), `${JSON.stringify({ date: new Date().toISOString(), machine: machine(), rows }, null, 2)}\n`);
    const f = (x) => x.toFixed(3);
    process.stdout.write(`\n${machine()}; ${PAIRS} pairs, sequential, keep-alive\n\n| store | statuses | refused known p50 / p90 ms | unknown p50 / p90 ms | median difference, 95 % CI (ms) |\n|---|---|---|---|---|\n`);
    for (const r of rows) process.stdout.write(`| ${r.name} | ${r.statuses} | ${f(r.knownP50)} / ${f(r.knownP90)} | ${f(r.unknownP50)} / ${f(r.unknownP90)} | ${f(r.diffMedianCi95[0])} … ${f(r.diffMedianCi95[1])} |\n`);
  } finally {
    await stopMongoTestServer(mongo);
  }
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
