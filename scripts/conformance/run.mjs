#!/usr/bin/env node
// npm run conformance: this node's validator and the HL7 FHIR validator (engine 6.9.4, offline,
// no terminology server) on the same files; agreement on valid/invalid per file, per corpus
// group and per rule class, with every disagreement listed.
//
//   node scripts/conformance/run.mjs [--only official,mutations,rules,generated] [--limit N]
//                                    [--every N] [--min-agreement PCT]
//
// --every N keeps every N-th file of the corpus (all groups and rule classes, in order): the
// bounded set CI runs. --min-agreement PCT exits 1 when the overall agreement is below PCT.
//
// Corpus (written to .cache/conformance/corpus/): the 44 official IPS 2.0.0 examples, every
// mutation of the test suite (test/validation/mutation-cases.ts), the rule-class cases
// (rule-cases.ts) and the generated documents (generated-cases.ts). A report is written to
// .cache/conformance/report.json. Document Bundles are validated against the IPS Bundle profile,
// other resources against the profiles they declare, by both validators.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { register } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hl7Validator, hl7Errors } from './hl7-validator.mjs';

register('./ts-hooks.mjs', import.meta.url);

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OUT = join(ROOT, '.cache', 'conformance');
const CORPUS = join(OUT, 'corpus');
const EXAMPLES = join(ROOT, 'profiles', 'hl7.fhir.uv.ips-2.0.0', 'package', 'example');
const IPS_BUNDLE = 'http://hl7.org/fhir/uv/ips/StructureDefinition/Bundle-uv-ips';

const arg = (name) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
};
const only = arg('only')?.split(',');
const limit = Number(arg('limit') ?? Infinity);
const every = Number(arg('every') ?? 1);
const minAgreement = arg('min-agreement') === undefined ? undefined : Number(arg('min-agreement'));
if (!Number.isInteger(every) || every < 1) throw new Error('--every takes a whole number of at least 1');
if (minAgreement !== undefined && !(minAgreement >= 0 && minAgreement <= 100)) throw new Error('--min-agreement takes a percentage');

const slug = (s) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 70);

/** Writes the corpus; returns its files with group, rule class and intended verdict. */
async function writeCorpus() {
  rmSync(CORPUS, { recursive: true, force: true });
  const files = [];
  const put = (group, name, resource, meta) => {
    mkdirSync(join(CORPUS, group), { recursive: true });
    const file = join(CORPUS, group, `${String(files.length).padStart(3, '0')}-${slug(name)}.json`);
    writeFileSync(file, JSON.stringify(resource, null, 1));
    const profile = resource.resourceType === 'Bundle' && resource.type === 'document' ? IPS_BUNDLE : '';
    files.push({ file, group, name, profile, ...meta });
  };
  const want = (group) => !only || only.includes(group);
  if (want('official')) {
    for (const f of readdirSync(EXAMPLES).filter((f) => f.endsWith('.json')).sort()) {
      const { readFileSync } = await import('node:fs');
      put('official', f.replace(/\.json$/, ''), JSON.parse(readFileSync(join(EXAMPLES, f), 'utf8')), { ruleClass: 'official example', intended: true });
    }
  }
  if (want('mutations')) {
    const { mutations } = await import('../../test/validation/mutation-cases.ts');
    for (const [name, base, mutate] of mutations) {
      const b = base();
      mutate(b);
      put('mutations', name, b, { ruleClass: 'mutation', intended: false });
    }
  }
  if (want('rules')) {
    const { ruleCases } = await import('../../test/validation/rule-cases.ts');
    for (const c of ruleCases) {
      const b = c.base();
      c.mutate(b);
      put('rules', c.name, b, { ruleClass: c.ruleClass, intended: c.valid });
    }
  }
  if (want('generated')) {
    const { generatedCases } = await import('../../test/validation/generated-cases.ts');
    for (const c of generatedCases()) put('generated', c.name, c.document, { ruleClass: c.ruleClass, intended: c.valid });
  }
  return files.filter((_, i) => i % every === 0).slice(0, limit);
}

const started = performance.now();
const corpus = await writeCorpus();
process.stderr.write(`conformance: ${corpus.length} files in the corpus\n`);

const { createValidator } = await import('../../dist/src/validation/index.js');
const ours = createValidator();
const hl7 = await Hl7Validator.start();
process.stderr.write(`conformance: HL7 validator ready in ${(hl7.startupMs / 1000).toFixed(1)} s\n`);

const { readFileSync } = await import('node:fs');
const results = [];
for (const [n, entry] of corpus.entries()) {
  const resource = JSON.parse(readFileSync(entry.file, 'utf8'));
  const ourErrors = ours.validate(resource, entry.profile || undefined).filter((i) => i.severity === 'error');
  const answer = await hl7.validate(entry.file, entry.profile);
  const theirs = hl7Errors(answer, { standalone: resource.resourceType !== 'Bundle' });
  const row = {
    ...entry,
    file: entry.file.slice(ROOT.length),
    ours: ourErrors.length === 0,
    hl7: theirs.own.length === 0 && !theirs.failure,
    hl7NoTerminologyOnly: theirs.own.length === 0 && theirs.noTerminology.length > 0,
    hl7UnfetchableOnly: theirs.own.length === 0 && theirs.noTerminology.length === 0 && theirs.unfetchable.length > 0,
    ourErrors: ourErrors.map((i) => `${i.expression}: ${i.message}`),
    hl7Errors: theirs.own.map((i) => `${i.location.replace(/\/\*[^*]*\*\//g, '')}: ${i.id}: ${i.message}`),
    hl7NoTerminology: theirs.noTerminology.map((i) => `${i.location.replace(/\/\*[^*]*\*\//g, '')}: ${i.id}`),
    hl7Unfetchable: theirs.unfetchable.length,
    hl7Ms: answer.ms?.[0],
    failure: theirs.failure,
  };
  row.agree = row.ours === row.hl7;
  results.push(row);
  process.stderr.write(`  [${n + 1}/${corpus.length}] ${row.agree ? 'agree   ' : 'DISAGREE'} ours ${row.ours ? 'valid' : 'invalid'}, HL7 ${row.hl7 ? 'valid' : 'invalid'}${row.hl7NoTerminologyOnly ? ' (no-terminology errors only)' : ''}  ${row.file}\n`);
}
await hl7.close();

const summarise = (rows) => ({ files: rows.length, agree: rows.filter((r) => r.agree).length, pct: rows.length ? (100 * rows.filter((r) => r.agree).length) / rows.length : 100 });
const byKey = (key) => {
  const groups = new Map();
  for (const r of results) groups.set(r[key], [...(groups.get(r[key]) ?? []), r]);
  return [...groups].map(([name, rows]) => ({ name, ...summarise(rows) }));
};
const report = {
  date: new Date().toISOString(),
  seconds: Math.round((performance.now() - started) / 1000),
  hl7StartupMs: hl7.startupMs,
  overall: summarise(results),
  setAside: {
    noTerminologyFiles: results.filter((r) => r.hl7NoTerminology.length > 0).length,
    unfetchableReferenceFiles: results.filter((r) => r.hl7Unfetchable > 0).length,
  },
  byGroup: byKey('group'),
  byRuleClass: byKey('ruleClass'),
  disagreements: results.filter((r) => !r.agree),
  results,
};
mkdirSync(OUT, { recursive: true });
writeFileSync(join(OUT, 'report.json'), JSON.stringify(report, null, 1));

const pct = (s) => `${s.agree}/${s.files} (${s.pct.toFixed(1)} %)`;
const lines = [
  `\nAgreement on valid/invalid, this validator vs the HL7 validator 6.9.4 (no terminology server): ${pct(report.overall)}`,
  `HL7 errors set aside: for want of a terminology server in ${report.setAside.noTerminologyFiles} files; references to other examples it cannot fetch in ${report.setAside.unfetchableReferenceFiles} standalone resources`,
  '',
  '| group | agreement |',
  '|---|---|',
  ...report.byGroup.map((g) => `| ${g.name} | ${pct(g)} |`),
  '',
  '| rule class | agreement |',
  '|---|---|',
  ...report.byRuleClass.map((g) => `| ${g.name} | ${pct(g)} |`),
  '',
  `Disagreements (${report.disagreements.length}):`,
  ...report.disagreements.map(
    (r) =>
      `- ${r.file} [${r.ruleClass}]: ours ${r.ours ? 'valid' : 'invalid'}, HL7 ${r.hl7 ? 'valid' : 'invalid'}${r.hl7NoTerminologyOnly ? ' (HL7 errors only for want of a terminology server)' : ''}` +
      `\n    ours: ${r.ourErrors.slice(0, 2).join(' | ') || '-'}\n    HL7:  ${r.hl7Errors.slice(0, 2).join(' | ') || r.failure || '-'}`,
  ),
  '',
  `Report: .cache/conformance/report.json (${report.seconds} s)`,
];
process.stdout.write(`${lines.join('\n')}\n`);
if (minAgreement !== undefined && report.overall.pct < minAgreement) {
  process.stderr.write(`conformance: agreement ${report.overall.pct.toFixed(1)} % is below the required ${minAgreement} %\n`);
  process.exit(1);
}
