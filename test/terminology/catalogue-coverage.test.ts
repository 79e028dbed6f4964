import { describe, expect, it } from '@jest/globals';
import type { Bundle } from 'fhir/r4.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { withholdSections } from '../../src/consent/summary-redaction.js';
import { projectRoot } from '../../src/project-root.js';
import { translateSummary } from '../../src/terminology/summary-translator.js';
import { demoTerminology, type Json } from '../support/test-node.js';

/**
 * The demo catalogue covers what readers meet: every code of seed/ and of the official examples
 * (test/terminology/summary-translator.test.ts translates each of them into every demo language
 * and finds no code left untranslated), the title of every IPS section, and the codes this node
 * writes itself when it withholds sections. `node scripts/list-codes.mjs --missing` lists gaps.
 */

const DEMO_LANGUAGES = ['en', 'de', 'pt', 'fr', 'es', 'it'];

/** The section codes of the IPS Composition profile (its section slices' patterns). */
function ipsSectionCodes(): { system: string; code: string }[] {
  const profile = JSON.parse(readFileSync(join(projectRoot(), 'profiles/hl7.fhir.uv.ips-2.0.0/package/StructureDefinition-Composition-uv-ips.json'), 'utf8')) as Json;
  return (profile['differential'].element as Json[])
    .filter((e) => /^Composition\.section:[^.]+\.code$/.test(e['id']) && e['patternCodeableConcept'])
    .map((e) => e['patternCodeableConcept'].coding[0]);
}

describe('the demo catalogue covers', () => {
  it('the title of every IPS section, in every demo language', () => {
    const sections = ipsSectionCodes();
    expect(sections).toHaveLength(16);
    for (const { system, code } of sections) {
      for (const language of DEMO_LANGUAGES) expect({ code, language, found: demoTerminology().title(system, code, [language]) !== undefined }).toEqual({ code, language, found: true });
    }
  });

  it('what this node writes when it withholds sections', () => {
    const seed = JSON.parse(readFileSync(join(projectRoot(), 'seed/AT/at-lukas-bauer.json'), 'utf8')) as Json;
    const withheld = withholdSections(seed, new Set(['11450-4', '10160-0'])) as Json;
    for (const language of DEMO_LANGUAGES) {
      const copy = structuredClone(withheld);
      const counts = translateSummary(copy as Bundle, { catalogue: demoTerminology(), language, chain: [language], translator: { baseUrl: 'http://pt.example/fhir', country: 'PT' } });
      expect({ language, ...counts.codes }).toEqual({ language, translated: counts.codes.total, total: counts.codes.total });
      expect(copy['meta'].security.find((s: Json) => s['code'] === 'REDACTED')._display).toBeDefined();
      // The withheld notice is English, and says so; the document's own narrative is German.
      const problems = (copy['entry'][0].resource.section as Json[]).find((s) => s['code'].coding[0].code === '11450-4')!;
      expect(problems['text'].div).toMatch(/^<div xmlns="http:\/\/www.w3.org\/1999\/xhtml" lang="en" xml:lang="en">/);
    }
  });
});
