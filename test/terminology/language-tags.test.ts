import { describe, expect, it } from '@jest/globals';
import Accept from '@hapi/accept';
import { chooseLanguage, isLanguageTag, lookupChain, primaryLanguage } from '../../src/terminology/language-tags.js';

const DEMO = new Map(['en', 'de', 'pt', 'fr', 'es', 'it'].map((l) => [l, l]));

/** The choice for an Accept-Language header, as the route makes it. */
const choose = (header: string, original: string | undefined, languages: ReadonlyMap<string, string> = DEMO) => chooseLanguage(Accept.languages(header), original, languages);

describe('BCP 47 language tags', () => {
  it('tells well-formed tags from others', () => {
    for (const tag of ['pt', 'pt-PT', 'de-AT', 'zh-Hant-TW', 'es-419', 'sr-Latn-RS', 'de-CH-1996', 'en-US-x-twain', 'x-klingon', 'gsw']) expect(isLanguageTag(tag)).toBe(true);
    for (const tag of ['', 'p', 'pt_PT', '12345', 'pt-', '-pt', 'pt--PT', 'x'.repeat(80), 'pt PT', 'de-AT\r\nX: y']) expect(isLanguageTag(tag)).toBe(false);
  });

  it('falls back by removing subtags from the end, with a dangling singleton (RFC 4647 lookup)', () => {
    expect(lookupChain('pt-PT')).toEqual(['pt-pt', 'pt']);
    expect(lookupChain('zh-Hant-TW-x-a')).toEqual(['zh-hant-tw-x-a', 'zh-hant-tw', 'zh-hant', 'zh']);
    expect(lookupChain('de')).toEqual(['de']);
    expect(primaryLanguage('de-AT')).toBe('de');
  });
});

describe('the language a summary reader gets', () => {
  it('follows q-values: the first range the catalogue can serve, falling back from pt-PT to pt', () => {
    expect(choose('ja, pt-PT;q=0.9, en;q=0.8', 'de-AT')).toEqual({ translate: true, language: 'pt', chain: ['pt'] });
    expect(choose('en;q=0.2, fr;q=0.7', 'de-AT')).toEqual({ translate: true, language: 'fr', chain: ['fr'] });
  });

  it('prefers the most specific catalogue language and keeps the general one as the fallback', () => {
    const languages = new Map([
      ['pt', 'pt'],
      ['pt-pt', 'pt-PT'],
    ]);
    expect(choose('pt-PT', 'de-AT', languages)).toEqual({ translate: true, language: 'pt-PT', chain: ['pt-pt', 'pt'] });
    expect(choose('pt-BR', 'de-AT', languages)).toEqual({ translate: true, language: 'pt', chain: ['pt'] });
  });

  it("gives the original to a reader of the document's own language, to *, and when nothing matches", () => {
    expect(choose('de', 'de-AT')).toEqual({ translate: false });
    expect(choose('de-DE, pt;q=0.5', 'de-AT')).toEqual({ translate: false });
    expect(choose('*', 'de-AT')).toEqual({ translate: false });
    expect(choose('ja, ko', 'de-AT')).toEqual({ translate: false });
    expect(choose('pt;q=0', 'de-AT')).toEqual({ translate: false });
    expect(chooseLanguage([], 'de-AT', DEMO)).toEqual({ translate: false });
  });

  it('passes over ranges that are not language tags', () => {
    expect(choose('pt_PT, 12345, it', 'de-AT')).toEqual({ translate: true, language: 'it', chain: ['it'] });
  });

  it('translates a document that names no language into any catalogue language asked for', () => {
    expect(choose('es-ES', undefined)).toEqual({ translate: true, language: 'es', chain: ['es'] });
  });
});
