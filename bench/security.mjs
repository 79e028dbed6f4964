#!/usr/bin/env node
// npm run bench (second part): what the security path costs on a $summary read by a clinician. The node (token
// verification against the trust list, single-use jti, request budgets, consent decision, audit
// record written before the response) against the same read assembled without them
// (bench/unsecured-server.mjs), both on the embedded store so that the figure is the path's own
// cost, not the database's; then the node on FerretDB, where each read also writes its token use,
// budget counts and audit record to the database.
import { writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mintDemoToken } from '../dist/src/auth/demo-tokens.js';
import { concurrency, DURATION, load, machine, permitSharing, startProcess, withTokens } from './lib.mjs';
import { startMongoTestServer, stopMongoTestServer, NO_SERVER_HELP } from '../scripts/mongo-test-server.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CONCURRENCY = concurrency('1,10');
const EXAMPLE = join(ROOT, 'profiles/hl7.fhir.uv.ips-2.0.0/package/example/Bundle-bundle-ips-all-sections.json');
const AUD = (port) => `http://127.0.0.1:${port}/fhir`;

/**
 * A doctor of this country (ES256, through AT's identity provider), one token per request: a
 * peer node's request would add the summary's signature, which bench/exchange.mjs measures as
 * part of the exchange.
 */
const doctorToken = (aud) => mintDemoToken({ audience: aud, issuer: 'idp', country: 'AT', ttlSeconds: 3600 });

/** Starts a secured node with the document and a permitting Consent; resolves to its summary URL. */
async function securedNode(port, env) {
  const { child } = await startProcess([join(ROOT, 'dist/src/main.js')], {
    PORT: String(port), HOST: '127.0.0.1', PONTIS_SEED: '0', LOG_LEVEL: 'warn', PONTIS_COUNTRY: 'AT',
    // Budgets high enough never to refuse, so that their counting is measured.
    PONTIS_LIMIT_PER_REQUESTER: '1000000000', PONTIS_LIMIT_PER_PATIENT: '1000000000', ...env,
  }, /listening on/);
  const his = async (scope) => ({ authorization: `Bearer ${await mintDemoToken({ audience: AUD(port), scope })}`, 'content-type': 'application/fhir+json' });
  const pushed = await (await fetch(`${AUD(port)}/Bundle`, { method: 'POST', headers: await his('system/Bundle.c'), body: readFileSync(EXAMPLE) })).json();
  const patientId = await permitSharing(AUD(port), pushed, his);
  return { child, url: `${AUD(port)}/Patient/${patientId}/$summary` };
}

function secured(name, url, connections, aud) {
  return withTokens({ url, connections }, Math.max(3000, connections * 600) * DURATION, () => doctorToken(aud)).then((options) => load(name, options));
}

async function main() {
  const children = [];
  const mongo = await startMongoTestServer();
  if (!mongo) throw new Error(NO_SERVER_HELP);
  try {
    const baseline = await startProcess([join(ROOT, 'bench/unsecured-server.mjs'), EXAMPLE, '18191'], {}, /ready (\S+)/);
    children.push(baseline.child);
    const node = await securedNode(18192, {});
    children.push(node.child);
    const rows = [];
    for (const connections of CONCURRENCY) {
      rows.push(await load('$summary assembled without the security path (embedded store)', { url: `http://127.0.0.1:18191/fhir/Patient/${baseline.match[1]}/$summary`, connections }));
      rows.push(await secured('$summary through the node: token, budgets, consent, audit (embedded store)', node.url, connections, AUD(18192)));
    }
    const onMongo = await securedNode(18193, { MONGODB_URI: mongo.uri, MONGODB_DATABASE: `pontis_bench_sec_${process.pid}` });
    children.push(onMongo.child);
    for (const connections of CONCURRENCY) rows.push(await secured('$summary through the node on FerretDB (4 writes per read)', onMongo.url, connections, AUD(18193)));

    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    writeFileSync(join(ROOT, 'bench/results/security.json'), `${JSON.stringify({ date: new Date().toISOString(), machine: machine(), durationSeconds: DURATION, rows }, null, 2)}\n`);
    process.stdout.write(`\n${machine()}; ${DURATION} s per run\n\n| what | conn. | req/s | p50 ms | p99 ms | vs without | p50 added | non-2xx | errors |\n|---|---|---|---|---|---|---|---|---|\n`);
    for (const r of rows) {
      const base = rows.find((b) => b.connections === r.connections && b.name.includes('without'));
      const vs = r === base ? '' : `${((r.rps / base.rps) * 100).toFixed(0)} %`;
      const added = r === base ? '' : `${(r.p50 - base.p50).toFixed(2)} ms`;
      process.stdout.write(`| ${r.name} | ${r.connections} | ${r.rps} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${vs} | ${added} | ${r.non2xx} | ${r.errors} |\n`);
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
