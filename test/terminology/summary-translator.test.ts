import { describe, expect, it } from '@jest/globals';
import type { Bundle } from 'fhir/r4.js';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../src/project-root.js';
import { chooseLanguage } from '../../src/terminology/language-tags.js';
import {
  CATALOGUE_IDENTIFIER_SYSTEM,
  TRANSLATED_TAG,
  TRANSLATION_EXTENSION,
  translateSummary,
  UNTRANSLATED_EXTENSION,
  type TranslationCounts,
} from '../../src/terminology/summary-translator.js';
import { IPS_BUNDLE_PROFILE } from '../../src/validation/index.js';
import { allSections, demoTerminology, ipsExample, ipsExampleBundles, minimal, sharedValidator, type Json } from '../support/test-node.js';

const DEMO_LANGUAGES = ['en', 'de', 'pt', 'fr', 'es', 'it'];
const TRANSLATOR = { baseUrl: 'http://pt.example/fhir', country: 'PT' };

/** Translates a copy of `bundle` for a reader of `range`; the copy and the counts. */
function translated(bundle: Json, range: string): { copy: Json; counts: TranslationCounts } {
  const copy = structuredClone(bundle);
  const choice = chooseLanguage([range], undefined, demoTerminology().languages);
  if (!choice.translate) throw new Error(`the demo catalogue has no ${range}`);
  return { copy, counts: translateSummary(copy as Bundle, { catalogue: demoTerminology(), language: choice.language, chain: choice.chain, translator: TRANSLATOR }) };
}

/** The seed documents of every country. */
function seedDocuments(): [string, Json][] {
  return ['AT', 'PT'].flatMap((country) =>
    readdirSync(join(projectRoot(), 'seed', country))
      .filter((f) => f.endsWith('.json'))
      .map((f): [string, Json] => [`seed/${country}/${f}`, JSON.parse(readFileSync(join(projectRoot(), 'seed', country, f), 'utf8')) as Json]),
  );
}

const NARRATIVE_LANGUAGE = / lang="[^"]+" xml:lang="[^"]+"/;

/**
 * Every member of the original is in the translated copy with the same value: nothing replaced
 * or dropped. Arrays may have grown (extensions, the Provenance entry); a narrative may have been
 * given its language, and nothing else.
 */
function expectOriginalKept(original: unknown, copy: unknown, path: string): void {
  if (Array.isArray(original)) {
    expect(Array.isArray(copy)).toBe(true);
    expect((copy as unknown[]).length).toBeGreaterThanOrEqual(original.length);
    original.forEach((item, i) => expectOriginalKept(item, (copy as unknown[])[i], `${path}[${i}]`));
    return;
  }
  if (original !== null && typeof original === 'object') {
    for (const [key, value] of Object.entries(original)) {
      const kept = (copy as Json)[key];
      if (key === 'div' && typeof value === 'string' && kept !== value) {
        expect({ path, div: String(kept).replace(NARRATIVE_LANGUAGE, '') }).toEqual({ path, div: value });
      } else {
        expectOriginalKept(value, kept, `${path}.${key}`);
      }
    }
    return;
  }
  expect({ path, value: copy }).toEqual({ path, value: original });
}

/** Every Coding and coded Quantity of a document, with the member its text is in. */
function codedElements(value: unknown, found: { element: Json; name: string }[] = []): { element: Json; name: string }[] {
  if (Array.isArray(value)) value.forEach((v) => codedElements(v, found));
  else if (value !== null && typeof value === 'object') {
    const element = value as Json;
    for (const [k, v] of Object.entries(element)) if (!k.startsWith('_')) codedElements(v, found);
    if (typeof element['system'] === 'string' && typeof element['code'] === 'string') found.push({ element, name: 'value' in element || 'unit' in element ? 'unit' : 'display' });
  }
  return found;
}

const translationsOf = (companion: Json | undefined, lang: string): string[] =>
  ((companion?.['extension'] as Json[] | undefined) ?? [])
    .filter((e) => e['url'] === TRANSLATION_EXTENSION && e['extension'].some((x: Json) => x['url'] === 'lang' && x['valueCode'] === lang))
    .map((e) => e['extension'].find((x: Json) => x['url'] === 'content').valueString as string);

const errorsAndWarnings = (bundle: Json) =>
  sharedValidator()
    .validate(bundle, IPS_BUNDLE_PROFILE)
    .filter((i) => i.severity === 'error' || i.severity === 'warning')
    .map((i) => `${i.severity} ${i.expression} ${i.message}`);

describe('every official IPS example and seed document, in every demo language', () => {
  const documents: [string, Json][] = [...ipsExampleBundles().map((f): [string, Json] => [f, ipsExample(f)]), ...seedDocuments()];

  it.each(documents)('%s: every code and section title translated, originals intact, still valid', (_name, original) => {
    // (That the originals themselves are valid is test/validation/official-examples.test.ts's.)
    const before = errorsAndWarnings(original);
    for (const language of DEMO_LANGUAGES) {
      const { copy, counts } = translated(original, language);
      expect(counts.codes.total).toBeGreaterThan(0);
      expect({ language, ...counts.codes }).toEqual({ language, translated: counts.codes.total, total: counts.codes.total });
      expect({ language, ...counts.titles }).toEqual({ language, translated: counts.titles.total, total: counts.titles.total });
      // Each coded element carries exactly one translation into the language, and its original text.
      // (Not counting what the translation itself adds: its tag and its Provenance entry.)
      const coded = codedElements({ ...copy, entry: copy['entry'].slice(0, -1) }).filter(({ element }) => element['code'] !== TRANSLATED_TAG.code);
      expect(coded.length).toBe(counts.codes.total);
      for (const { element, name } of coded) expect(translationsOf(element[`_${name}`] as Json, language)).toHaveLength(1);
      expectOriginalKept(original, copy, 'Bundle');
      // The node's own validator: no error, and no warning the original did not have.
      expect(errorsAndWarnings(copy).filter((i) => !before.includes(i))).toEqual([]);
    }
  });
});

describe('translating a summary', () => {
  it('adds the standard translation extension beside the display and the section title', () => {
    const { copy } = translated(allSections(), 'pt-PT');
    const composition = copy['entry'][0].resource as Json;
    const allergies = (composition['section'] as Json[]).find((s) => s['code'].coding[0].code === '48765-2')!;
    expect(allergies['title']).toBe('Allergies and Intolerances');
    expect(allergies['_title']).toEqual({ extension: [{ url: TRANSLATION_EXTENSION, extension: [{ url: 'lang', valueCode: 'pt' }, { url: 'content', valueString: 'Alergias e intolerâncias' }] }] });
    const coding = allergies['code'].coding[0] as Json;
    expect(coding['display']).toBe('Allergies and adverse reactions Document');
    expect(translationsOf(coding['_display'] as Json, 'pt')).toEqual(['Alergias e reações adversas (documento)']);
  });

  it('translates the unit of a coded quantity on _unit', () => {
    const { copy } = translated(allSections(), 'de');
    const quantities = codedElements(copy).filter(({ name }) => name === 'unit');
    const kg = quantities.find(({ element }) => element['code'] === 'kg')!.element;
    expect(kg['unit']).toBe('kg');
    expect(translationsOf(kg['_unit'] as Json, 'de')).toEqual(['Kilogramm']);
  });

  it('keeps a code the catalogue lacks in its original language, marked untranslated, and counts it', () => {
    const bundle = minimal();
    const condition = (bundle['entry'] as Json[]).find((e) => e['resource'].resourceType === 'Condition')!.resource as Json;
    condition['code'] = { coding: [{ system: 'urn:example:local-codes', code: 'X-1', display: 'Hausarztbefund' }] };
    const { copy, counts } = translated(bundle, 'fr');
    const coding = (copy['entry'] as Json[]).find((e) => e['resource'].resourceType === 'Condition')!.resource.code.coding[0] as Json;
    expect(coding['display']).toBe('Hausarztbefund');
    expect(coding['_display']).toEqual({ extension: [{ url: UNTRANSLATED_EXTENSION, valueCode: 'fr' }] });
    expect(counts.codes.translated).toBe(counts.codes.total - 1);
  });

  it('keeps what a display already carries, and does not repeat a translation the author gave', () => {
    const bundle = minimal();
    const condition = (bundle['entry'] as Json[]).find((e) => e['resource'].resourceType === 'Condition')!.resource as Json;
    const coding = condition['code'].coding[0] as Json;
    const own = { url: TRANSLATION_EXTENSION, extension: [{ url: 'lang', valueCode: 'it' }, { url: 'content', valueString: "traduzione dell'autore" }] };
    coding['_display'] = { id: 'd1', extension: [own] };
    const type = (bundle['entry'][0].resource as Json)['type'].coding[0] as Json;
    type['_display'] = { id: 'd2' };
    const { copy, counts } = translated(bundle, 'it');
    const entries = copy['entry'] as Json[];
    const translatedCoding = entries.find((e) => e['resource'].resourceType === 'Condition')!.resource.code.coding[0] as Json;
    expect(translatedCoding['_display']).toEqual({ id: 'd1', extension: [own] });
    expect(entries[0]!['resource'].type.coding[0]._display).toEqual({
      id: 'd2',
      extension: [{ url: TRANSLATION_EXTENSION, extension: [{ url: 'lang', valueCode: 'it' }, { url: 'content', valueString: 'Profilo sanitario sintetico (documento)' }] }],
    });
    expect(counts.codes.translated).toBe(counts.codes.total);
  });

  it('does not translate narrative, and names the language it is written in where it does not say', () => {
    const bundle = minimal();
    bundle['language'] = 'de-AT';
    const composition = bundle['entry'][0].resource as Json;
    composition['text'] = { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Zusammenfassung</div>' };
    const patient = (bundle['entry'] as Json[]).find((e) => e['resource'].resourceType === 'Patient')!.resource as Json;
    patient['language'] = 'fr-LU';
    patient['text'] = { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml"><p>Résumé</p></div>' };
    const section = (composition['section'] as Json[])[0]!;
    section['text'] = { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml" lang="en">as written</div>' };
    const second = (composition['section'] as Json[])[1]!;
    second['text'] = { status: 'generated', div: '<div xml:lang="en" xmlns="http://www.w3.org/1999/xhtml">as written</div>' };
    const { copy } = translated(bundle, 'pt');
    const entries = copy['entry'] as Json[];
    expect(entries[0]!['resource'].text.div).toBe('<div xmlns="http://www.w3.org/1999/xhtml" lang="de-AT" xml:lang="de-AT">Zusammenfassung</div>');
    expect(entries.find((e) => e['resource'].resourceType === 'Patient')!.resource.text.div).toBe('<div xmlns="http://www.w3.org/1999/xhtml" lang="fr-LU" xml:lang="fr-LU"><p>Résumé</p></div>');
    expect(entries[0]!['resource'].section[0].text.div).toBe('<div xmlns="http://www.w3.org/1999/xhtml" lang="en">as written</div>');
    expect(entries[0]!['resource'].section[1].text.div).toBe('<div xml:lang="en" xmlns="http://www.w3.org/1999/xhtml">as written</div>');
  });

  it('says what was done: a TRSLT tag and a Provenance entry naming the original, the node and the catalogue', () => {
    const bundle = allSections();
    const { copy, counts } = translated(bundle, 'es');
    expect(copy['meta'].tag).toContainEqual(TRANSLATED_TAG);
    const entries = copy['entry'] as Json[];
    expect(entries).toHaveLength((bundle['entry'] as Json[]).length + 1);
    const last = entries[entries.length - 1]!;
    expect(last['fullUrl']).toBe(`urn:uuid:${last['resource'].id}`);
    const provenance = last['resource'] as Json;
    expect(provenance['resourceType']).toBe('Provenance');
    expect(provenance['target']).toEqual([{ reference: entries[0]!['fullUrl'] }]);
    expect(provenance['agent'][0].who).toEqual({ identifier: { system: 'urn:ietf:rfc:3986', value: TRANSLATOR.baseUrl }, display: 'Pontis node PT' });
    expect(provenance['entity']).toEqual([
      { role: 'derivation', what: { identifier: bundle['identifier'], display: 'the original document (en-NZ)' } },
      {
        role: 'source',
        what: {
          identifier: { system: CATALOGUE_IDENTIFIER_SYSTEM, value: 'pontis.demo.terminology#0.1.0' },
          display: 'terminology catalogue pontis.demo.terminology#0.1.0 (for demonstration, not clinically validated)',
        },
      },
    ]);
    expect(provenance['text'].div).toContain(`(${counts.codes.translated} of ${counts.codes.total} codes, ${counts.titles.translated} of ${counts.titles.total} titles)`);
  });

  it("drops the home node's signature, which signs the original, and names the signer in the Provenance", () => {
    const bundle = minimal();
    bundle['signature'] = { type: [{ system: 'urn:iso-astm:E1762-95:2013', code: '1.2.840.10065.1.12.1.5' }], when: '2026-01-01T00:00:00Z', who: { display: 'Pontis node AT' }, sigFormat: 'application/jose', data: 'AAAA' };
    const { copy } = translated(bundle, 'pt');
    expect(copy['signature']).toBeUndefined();
    const provenance = (copy['entry'] as Json[]).at(-1)!['resource'] as Json;
    expect(provenance['entity'][0].what.display).toBe('the original document (en-US), signed by Pontis node AT');
  });
});
