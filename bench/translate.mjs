#!/usr/bin/env node
// npm run bench:translate: what translation costs, in one process on one core.
// 1. The demo catalogue: load time (first, then the median of further loads) and the heap it keeps.
// 2. Translating the official all-sections example (42 entries, 103 KB) into Portuguese: parse,
//    walk (extensions, tag, Provenance), serialise; against the parse and serialise alone.
// 3. GET $summary over HTTP on loopback (one node in this process, embedded store, a fresh
//    single-use token per request, the body read as bytes): the untranslated read against the
//    same read with Accept-Language: pt, alternating, in the same run. A stored version's copy is reused, so this is what a local read costs; the
//    first read of a version pays (2). Summaries from other nodes are found again by SHA-256.
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUTE_READS = Number(process.env.BENCH_READS ?? 1500);
const gc = () => globalThis.gc?.();

const { loadTerminologyCatalogue } = await import('../dist/src/terminology/catalogue-loader.js');
const { SummaryTranslation } = await import('../dist/src/terminology/summary-translation.js');
const { translateSummary } = await import('../dist/src/terminology/summary-translator.js');

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
function stats(times) {
  const sorted = [...times].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), runs: sorted.length };
}
/** Runs `run` for SECONDS after a warm-up; its p50 and p99 in ms. */
function measure(run) {
  for (let i = 0; i < 200; i++) run();
  const times = [];
  const until = performance.now() + SECONDS * 1000;
  while (performance.now() < until) {
    const t = performance.now();
    run();
    times.push(performance.now() - t);
  }
  return stats(times);
}

// 1. The catalogue.
const folder = join(ROOT, 'terminology');
gc();
const heapBefore = process.memoryUsage().heapUsed;
let started = performance.now();
const catalogue = loadTerminologyCatalogue(folder);
const firstLoadMs = performance.now() - started;
gc();
const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
const loads = [];
for (let i = 0; i < 10; i++) {
  started = performance.now();
  loadTerminologyCatalogue(folder);
  loads.push(performance.now() - started);
}
const counts = catalogue.counts();

// 2. Translating the all-sections example.
const example = JSON.parse(readFileSync(join(ROOT, 'profiles/hl7.fhir.uv.ips-2.0.0/package/example/Bundle-bundle-ips-all-sections.json'), 'utf8'));
const stored = Buffer.from(JSON.stringify(example), 'utf8');
const translator = { baseUrl: 'http://pt.example/fhir', country: 'PT' };
const request = { catalogue, language: 'pt', chain: ['pt'], translator };
const parseOnly = measure(() => JSON.parse(stored.toString('utf8')));
const roundTrip = measure(() => Buffer.from(JSON.stringify(JSON.parse(stored.toString('utf8'))), 'utf8'));
const walkOnly = (() => {
  const times = [];
  const until = performance.now() + SECONDS * 1000;
  while (performance.now() < until) {
    const bundle = JSON.parse(stored.toString('utf8'));
    const t = performance.now();
    translateSummary(bundle, request);
    times.push(performance.now() - t);
  }
  return stats(times);
})();
const translation = new SummaryTranslation(catalogue, translator);
const fresh = measure(() => translation.copyFor(Buffer.from(stored), ['pt']));
const sample = translation.copyFor(Buffer.from(stored), ['pt']);
const byContent = measure(() => translation.copyFor(Buffer.from(stored), ['pt'], { byContent: true }));

// 3. $summary through hapi.
const pino = (await import('pino')).default;
const { loadConfig } = await import('../dist/src/config.js');
const { openStore } = await import('../dist/src/repositories/store.js');
const { createServer } = await import('../dist/src/server.js');
const { TrustList } = await import('../dist/src/auth/trust-list.js');
const { mintDemoToken } = await import('../dist/src/auth/demo-tokens.js');
const { createValidator } = await import('../dist/src/validation/index.js');
const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', PONTIS_COUNTRY: 'AT', PONTIS_BASE_URL: 'http://at.example/fhir', LOG_LEVEL: 'silent', PONTIS_LIMIT_PER_REQUESTER: '0', PONTIS_LIMIT_PER_PATIENT: '0' });
const store = await openStore(config);
const server = await createServer({ config, store, logger: pino({ level: 'silent' }), validator: createValidator(), trust: await TrustList.load(config.trustListPath), terminology: catalogue });
await server.start();
const { request: httpRequest } = await import('undici');
const his = () => mintDemoToken({ audience: config.baseUrl, country: 'AT', scope: 'system/Bundle.crus system/Patient.rs system/Consent.crus' });
const document = JSON.parse(JSON.stringify(example));
document.identifier = { system: 'urn:bench:documents', value: 'translate-1' };
document.entry.find((e) => e.resource.resourceType === 'Patient').resource.identifier = [{ system: 'urn:bench:national', value: 'B1' }];
const pushed = await server.inject({ method: 'POST', url: '/fhir/Bundle', payload: JSON.stringify(document), headers: { 'content-type': 'application/fhir+json', authorization: `Bearer ${await his()}` } });
if (pushed.statusCode !== 201) throw new Error(`push: ${pushed.statusCode} ${pushed.payload}`);
const tokens = [];
for (let i = 0; i < 2 * (ROUTE_READS + 100) + 10; i++) tokens.push(await his());
const read = async (language) => {
  const headers = { authorization: `Bearer ${tokens.pop()}`, ...(language ? { 'accept-language': language } : {}) };
  const t = performance.now();
  const response = await httpRequest(`${server.info.uri}/fhir/Patient/$summary?identifier=urn:bench:national|B1`, { headers });
  const body = Buffer.from(await response.body.arrayBuffer());
  const ms = performance.now() - t;
  if (response.statusCode !== 200) throw new Error(`$summary: ${response.statusCode} ${body.toString('utf8')}`);
  return { ms, response };
};
for (let i = 0; i < 100; i++) {
  await read();
  await read('pt');
}
const plainTimes = [];
const translatedTimes = [];
for (let i = 0; i < ROUTE_READS; i++) {
  // Alternating, so that both see the same machine.
  if (i % 2 === 0) {
    plainTimes.push((await read()).ms);
    translatedTimes.push((await read('pt')).ms);
  } else {
    translatedTimes.push((await read('pt')).ms);
    plainTimes.push((await read()).ms);
  }
}
const { response: translatedResponse } = await read('pt');
const plain = stats(plainTimes);
const translatedRead = stats(translatedTimes);
await server.stop();
await store.close();

const fmt = (n) => n.toFixed(3);
const out = (s) => process.stdout.write(`${s}\n`);
out(`\n${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, one core used, ${SECONDS} s per function measurement, ${ROUTE_READS} reads of each kind`);
out(`\nDemo catalogue: ${counts.files} files, ${counts.concepts} concepts, ${counts.designations} designations, ${counts.languages} languages`);
out(`  load: first ${firstLoadMs.toFixed(0)} ms, then median ${stats(loads).p50.toFixed(0)} ms; heap kept ${heapMb.toFixed(1)} MB`);
out(`\nAll-sections example (${(stored.length / 1024).toFixed(0)} KB, ${sample.translation.codes.total} codes, ${sample.translation.titles.total} titles) into pt; translated copy ${(sample.bytes.length / 1024).toFixed(0)} KB (X-Pontis-Translation: ${translatedResponse.headers['x-pontis-translation']})`);
out('| step | p50 ms | p99 ms |\n|---|---|---|');
out(`| JSON.parse alone | ${fmt(parseOnly.p50)} | ${fmt(parseOnly.p99)} |`);
out(`| parse + serialise, untranslated (baseline) | ${fmt(roundTrip.p50)} | ${fmt(roundTrip.p99)} |`);
out(`| the walk alone (extensions, tag, Provenance) | ${fmt(walkOnly.p50)} | ${fmt(walkOnly.p99)} |`);
out(`| translation of a version not seen before (parse, walk, serialise) | ${fmt(fresh.p50)} | ${fmt(fresh.p99)} |`);
out(`| copy of a summary from another node found again (SHA-256 of the bytes) | ${fmt(byContent.p50)} | ${fmt(byContent.p99)} |`);
out(`\nGET $summary over HTTP (loopback, body read as bytes), alternating in the same run`);
out('| read | p50 ms | p99 ms | vs untranslated p50 |\n|---|---|---|---|');
out(`| untranslated (no Accept-Language) | ${fmt(plain.p50)} | ${fmt(plain.p99)} | baseline |`);
out(`| Accept-Language: pt (copy of the stored version reused) | ${fmt(translatedRead.p50)} | ${fmt(translatedRead.p99)} | ${(translatedRead.p50 - plain.p50 >= 0 ? '+' : '') + fmt(translatedRead.p50 - plain.p50)} ms |`);
