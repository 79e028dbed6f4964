#!/usr/bin/env node
// Writes profiles/tho-code-system-versions.json: the version of each code system of
// HL7 Terminology (THO, hl7.terminology.r4 7.0.1, the package the HL7 validator loads for IPS
// 2.0.0), by canonical. The validator checks Coding.version against it: THO's versions replace
// the R4 core's (condition-clinical is 3.0.0 there, not 4.0.1). v2 tables are left out: the HL7
// validator only warns about their versions. Re-run after changing the THO version.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensurePackages } from './packages.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const home = ensurePackages();
const folder = join(home, '.fhir', 'packages', 'hl7.terminology.r4#7.0.1', 'package');
const versions = {};
for (const file of readdirSync(folder).filter((f) => f.startsWith('CodeSystem-') && f.endsWith('.json')).sort()) {
  const cs = JSON.parse(readFileSync(join(folder, file), 'utf8'));
  if (typeof cs.url !== 'string' || typeof cs.version !== 'string' || cs.url.includes('/CodeSystem/v2-')) continue;
  versions[cs.url] = cs.version;
}
const out = join(ROOT, 'profiles', 'tho-code-system-versions.json');
writeFileSync(out, `${JSON.stringify({ package: 'hl7.terminology.r4#7.0.1', versions }, null, 1)}\n`);
process.stdout.write(`wrote ${out} (${Object.keys(versions).length} code systems)\n`);
