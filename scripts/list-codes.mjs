#!/usr/bin/env node
// node scripts/list-codes.mjs [--missing]: every code a translated summary looks up, in the
// documents of seed/ and the official IPS 2.0.0 examples (and the codes this node adds when it
// withholds or redacts), as tab-separated system, code, kind (display, unit, title), the text the
// documents carry, and how many documents use it. With --missing (after `npm run build`), only
// those the catalogue of PONTIS_TERMINOLOGY (default terminology/) lacks in any of its languages.
// A code is what the translator sees: an object with a string `system` and `code` (a Coding, or
// a Quantity when it has a value or unit); a title is a Composition section's code with a title.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FOLDERS = ['seed/AT', 'seed/PT', 'profiles/hl7.fhir.uv.ips-2.0.0/package/example'];
/** Codes this node writes into documents it serves (src/consent/summary-redaction.ts). */
const ADDED = [
  ['http://terminology.hl7.org/CodeSystem/list-empty-reason', 'withheld', 'display', 'Information Withheld'],
  ['http://terminology.hl7.org/CodeSystem/v3-ObservationValue', 'REDACTED', 'display', 'redacted'],
];

function jsonFiles(folder) {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    if (statSync(path).isDirectory()) return jsonFiles(path);
    return name.endsWith('.json') ? [path] : [];
  });
}

/** Every code of the documents under the folders: `system\tcode\tkind` → { text, documents }. */
export function listCodes(root = ROOT) {
  const codes = new Map();
  const note = (system, code, kind, text, file) => {
    const key = `${system}\t${code}\t${kind}`;
    const entry = codes.get(key) ?? { text, documents: new Set() };
    entry.text ??= text;
    entry.documents.add(file);
    codes.set(key, entry);
  };
  const walk = (value, file) => {
    if (Array.isArray(value)) return value.forEach((v) => walk(v, file));
    if (value === null || typeof value !== 'object') return;
    for (const [k, v] of Object.entries(value)) if (!k.startsWith('_')) walk(v, file);
    if (typeof value.system === 'string' && typeof value.code === 'string') {
      const unit = 'value' in value || 'unit' in value;
      note(value.system, value.code, unit ? 'unit' : 'display', unit ? value.unit : value.display, file);
    }
    if (value.resourceType === 'Composition') {
      const sections = (list) =>
        (list ?? []).forEach((s) => {
          if (typeof s.title === 'string') for (const c of s.code?.coding ?? []) if (c.system && c.code) note(c.system, c.code, 'title', s.title, file);
          sections(s.section);
        });
      sections(value.section);
    }
  };
  for (const folder of FOLDERS) for (const file of jsonFiles(join(root, folder))) walk(JSON.parse(readFileSync(file, 'utf8')), file);
  for (const [system, code, kind, text] of ADDED) note(system, code, kind, text, '(added by this node)');
  return codes;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const codes = listCodes();
  let missing;
  if (process.argv.includes('--missing')) {
    const { loadTerminologyCatalogue } = await import('../dist/src/terminology/catalogue-loader.js');
    const catalogue = loadTerminologyCatalogue(process.env.PONTIS_TERMINOLOGY ?? join(ROOT, 'terminology'));
    const languages = [...catalogue.languages.keys()];
    missing = (system, code, kind) =>
      languages.filter((l) => !(kind === 'title' ? catalogue.title(system, code, [l]) : catalogue.display(system, code, [l])));
  }
  const rows = [...codes].sort(([a], [b]) => a.localeCompare(b));
  let shown = 0;
  for (const [key, { text, documents }] of rows) {
    const [system, code, kind] = key.split('\t');
    const lacking = missing?.(system, code, kind);
    if (lacking && lacking.length === 0) continue;
    shown++;
    process.stdout.write(`${key}\t${text ?? ''}\t${documents.size}${lacking ? `\tmissing: ${lacking.join(',')}` : ''}\n`);
  }
  process.stderr.write(`${shown} of ${rows.length} codes${missing ? ' lack a translation' : ''}\n`);
}
