#!/usr/bin/env node
// npm run bench:audit-anchoring: what anchoring the audit trail costs. Signing and verifying one
// checkpoint (the node's demo key, EdDSA); the audit trail's write path on the embedded store
// without a checkpointer, with the default one (every 1000 records) and with the worst setting
// (every record), the witnesses being instant fakes so that the figure is the node's own cost;
// and `audit verify`'s comparison with the witnessed heads. Run after `npm run build`.
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { localSystemAccess } from '../dist/src/access/system-access.js';
import { auditEventOf } from '../dist/src/audit/audit-event.js';
import { signCheckpoint, verifyCheckpoint } from '../dist/src/audit/audit-checkpoint.js';
import { AuditCheckpointer } from '../dist/src/audit/audit-checkpointer.js';
import { AuditTrail } from '../dist/src/audit/audit-trail.js';
import { CheckpointGossip } from '../dist/src/audit/checkpoint-gossip.js';
import { verifyAgainstWitnesses, verifyAuditTrail } from '../dist/src/audit/audit-verification.js';
import { TrustList } from '../dist/src/auth/trust-list.js';
import { DEMO_TRUST_LIST } from '../dist/src/config.js';
import { NodeIdentity } from '../dist/src/exchange/node-identity.js';
import { projectRoot } from '../dist/src/project-root.js';
import { MemoryDatabase } from '../dist/src/repositories/memory-database.js';
import { storeOn } from '../dist/src/repositories/store.js';
import { machine } from './lib.mjs';

const RECORDS = Number(process.env.BENCH_AUDIT_RECORDS ?? 5000);
const silent = pino({ level: 'silent' });
const identity = await NodeIdentity.load(`${projectRoot()}/seed/trust/demo-keys/ncp-at.json`);
const trust = await TrustList.load(DEMO_TRUST_LIST);

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const us = (ms) => `${(ms * 1000).toFixed(0)} µs`;

async function perOp(n, fn) {
  for (let i = 0; i < 50; i++) await fn(i);
  const started = performance.now();
  for (let i = 0; i < n; i++) await fn(i);
  return (performance.now() - started) / n;
}

const signed = await signCheckpoint(identity, { chain: 'bench-1-abcd', seq: 1, hash: 'a'.repeat(64) });
const signMs = await perOp(2000, (i) => signCheckpoint(identity, { chain: 'bench-1-abcd', seq: i + 1, hash: 'a'.repeat(64) }));
const verifyMs = await perOp(2000, () => verifyCheckpoint(signed.jws, trust));

/** Writes RECORDS audit records one after the other; per-record latency percentiles. */
async function trailRun(every) {
  const store = await storeOn(new MemoryDatabase(), { currentSummaryTtlMs: 0, documentCacheBytes: 0 });
  const peers = ['PT', 'FR'].map((country) => ({ country, baseUrl: `http://${country}.example/fhir`, issuer: `https://ncp.${country.toLowerCase()}.example`, identifierSystems: [] }));
  const gossip = new CheckpointGossip(peers, { submit: async () => 'witnessed' }, silent);
  const checkpointer = every === undefined ? undefined : new AuditCheckpointer(identity, store.checkpoints, gossip, { records: every, intervalMs: 60_000 }, silent);
  const trail = new AuditTrail(store.audit, checkpointer);
  const access = localSystemAccess('AT', 'bench');
  const latencies = [];
  const started = performance.now();
  for (let i = 0; i < RECORDS; i++) {
    const event = auditEventOf({ access, interaction: 'read', action: 'R', resourceType: 'Bundle', status: 200, nodeCountry: 'AT', nodeBaseUrl: 'http://at.example/fhir' }, randomUUID(), new Date());
    const t = performance.now();
    await trail.record({ event, patientIds: [`p${i % 100}`], breakGlass: false });
    latencies.push(performance.now() - t);
  }
  await checkpointer?.close();
  const total = performance.now() - started;
  await gossip.close(100);
  latencies.sort((a, b) => a - b);
  return { store, gossip, p50: percentile(latencies, 50), p95: percentile(latencies, 95), perSecond: RECORDS / (total / 1000) };
}

const runs = [];
for (const [label, every] of [['no checkpointer', undefined], ['checkpoint every 1000 records (default)', 1000], ['checkpoint every record (worst)', 1]]) {
  runs.push({ label, ...(await trailRun(every)) });
}

// audit verify: the chains, then against the heads of the "every record" run (RECORDS positions).
const worst = runs[2];
const heads = [];
for (let after = ''; ; ) {
  const page = await worst.store.checkpoints.page(after, 1000);
  for (const c of page) heads.push({ issuer: identity.issuer, chain: c.chain, seq: c.seq, hash: c.hash, issuedAt: c.issuedAt, jws: c.jws });
  if (page.length < 1000) break;
  after = page[page.length - 1]._id;
}
let t = performance.now();
const local = await verifyAuditTrail(worst.store.audit);
const localMs = performance.now() - t;
t = performance.now();
const anchored = await verifyAgainstWitnesses(worst.store.audit, [{ witness: 'PT', heads, equivocations: [] }]);
const anchoredMs = performance.now() - t;
t = performance.now();
for (const h of heads) await verifyCheckpoint(h.jws, trust);
const headsVerifyMs = performance.now() - t;

const lines = [
  `audit anchoring, ${machine()}; ${RECORDS} records per run (BENCH_AUDIT_RECORDS), embedded store`,
  `checkpoint: sign ${us(signMs)}, verify ${us(verifyMs)} (EdDSA demo key)`,
  ...runs.map((r) => `trail write, ${r.label}: p50 ${us(r.p50)}, p95 ${us(r.p95)}, ${Math.round(r.perSecond)} records/s; checkpoints delivered ${r.gossip.counts.delivered}`),
  `audit verify: chains ${local.records} records in ${localMs.toFixed(0)} ms; ${heads.length} witnessed heads: signatures ${headsVerifyMs.toFixed(0)} ms, comparison ${anchoredMs.toFixed(1)} ms (${anchored.broken ? 'BROKEN' : 'intact'})`,
];
process.stdout.write(`${lines.join('\n')}\n`);
