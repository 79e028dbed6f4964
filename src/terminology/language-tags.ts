/**
 * BCP 47 language tags (RFC 5646) as the translation needs them: is a tag well formed, what does
 * a reader's language range fall back to (RFC 4647 lookup), and which language does a reader get.
 */

// Well-formed language tags (RFC 5646 §2.1, without the irregular grandfathered tags), and
// private-use tags alone. Matched on lower case.
const LANGTAG =
  /^(?:(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4}|[a-z]{5,8})(?:-[a-z]{4})?(?:-(?:[a-z]{2}|\d{3}))?(?:-(?:[a-z\d]{5,8}|\d[a-z\d]{3}))*(?:-[\da-wy-z](?:-[a-z\d]{2,8})+)*(?:-x(?:-[a-z\d]{1,8})+)?|x(?:-[a-z\d]{1,8})+)$/;

/** Longest tag considered (anything longer is not a language a catalogue can hold). */
const MAX_TAG_LENGTH = 64;

/** Whether `tag` is a well-formed BCP 47 language tag (case-insensitive). */
export function isLanguageTag(tag: string): boolean {
  return tag.length <= MAX_TAG_LENGTH && LANGTAG.test(tag.toLowerCase());
}

/**
 * The tags a reader's language range falls back to, most specific first (RFC 4647 §3.4 lookup):
 * `pt-PT` → `pt-pt`, `pt`; `zh-Hant-TW-x-a` → `zh-hant-tw-x-a`, `zh-hant-tw`, `zh-hant`, `zh`.
 * A subtag left dangling after a singleton is removed with it. Lower case.
 */
export function lookupChain(range: string): string[] {
  const chain: string[] = [];
  const subtags = range.toLowerCase().split('-');
  while (subtags.length > 0) {
    chain.push(subtags.join('-'));
    subtags.pop();
    if (subtags.length > 0 && subtags[subtags.length - 1]!.length === 1) subtags.pop();
  }
  return chain;
}

/** The primary language subtag (`de` of `de-AT`), lower case. */
export function primaryLanguage(tag: string): string {
  const dash = tag.indexOf('-');
  return (dash < 0 ? tag : tag.slice(0, dash)).toLowerCase();
}

/** What a reader gets: the document as written, or a translation into `language`. */
export type LanguageChoice =
  | { translate: false }
  | {
      translate: true;
      /** The catalogue language served, as the catalogue writes it (`pt`, `pt-PT`). */
      language: string;
      /** Catalogue languages to look each code up in, most specific first (lower case). */
      chain: string[];
    };

/**
 * Chooses the language of a summary for a reader, from their language ranges in order of
 * preference (Accept-Language, q-values applied), the document's own language and the languages
 * the catalogue holds (lower case → as written). The first range that names the document's
 * language (same primary language: a `de-DE` reader reads a `de-AT` document as written) or `*`
 * gets the original; the first one the catalogue can serve through lookup (`pt-PT`, then `pt`)
 * gets a translation. Ranges that are not language tags are passed over; when nothing matches,
 * the reader gets the original.
 */
export function chooseLanguage(ranges: readonly string[], original: string | undefined, catalogueLanguages: ReadonlyMap<string, string>): LanguageChoice {
  const originalPrimary = original === undefined ? undefined : primaryLanguage(original);
  for (const range of ranges) {
    if (range === '*') return { translate: false };
    if (!isLanguageTag(range)) continue;
    if (primaryLanguage(range) === originalPrimary) return { translate: false };
    const chain = lookupChain(range).filter((tag) => catalogueLanguages.has(tag));
    if (chain.length > 0) return { translate: true, language: catalogueLanguages.get(chain[0]!)!, chain };
  }
  return { translate: false };
}
