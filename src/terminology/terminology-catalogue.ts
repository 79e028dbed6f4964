/**
 * The compiled translation catalogue: (system, code, language) → display, and the same for
 * section titles, built once at start-up by the loader (`catalogue-loader.ts`) and read on every
 * translated summary. Languages are kept in lower case for lookup and as written for output.
 */

/** What the catalogue says about itself: its name and version (named in every translated copy). */
export interface CatalogueIdentity {
  /** Package name (`package.json`), or the folder's name. */
  name: string;
  /** Package version, or a fingerprint of the files' bytes. */
  version: string;
  /** The catalogue's own description (the demo catalogue says it is not clinically validated). */
  description: string | undefined;
  /** True when any of its resources is marked `experimental` (the demo catalogue is). */
  experimental: boolean;
}

/** Sizes of a catalogue, for the start-up log and the benchmark. */
export interface CatalogueCounts {
  files: number;
  /** Distinct (system, code) pairs with at least one designation. */
  concepts: number;
  /** Displays and titles, over all languages. */
  designations: number;
  languages: number;
}

/** Key of a code in the index maps. */
export function codeKey(system: string, code: string): string {
  return `${system}\u0000${code}`;
}

/** One language's part of the index. */
interface LanguageIndex {
  displays: Map<string, string>;
  titles: Map<string, string>;
}

/** The compiled catalogue: lookups by language chain, in constant time per code. */
export class TerminologyCatalogue {
  private readonly byLanguage = new Map<string, LanguageIndex>();
  /** Catalogue languages, lower case → as written in the catalogue. */
  readonly languages = new Map<string, string>();

  constructor(
    readonly identity: CatalogueIdentity,
    readonly files: number,
  ) {}

  /** The `name#version` form a FHIR package is cited by. */
  get citation(): string {
    return `${this.identity.name}#${this.identity.version}`;
  }

  /**
   * Adds a designation; answers the value already held for the same code, language and kind
   * when it differs (the loader reports the conflict), else undefined.
   */
  add(kind: 'display' | 'title', system: string, code: string, language: string, value: string): string | undefined {
    const lower = language.toLowerCase();
    if (!this.languages.has(lower)) this.languages.set(lower, language);
    let index = this.byLanguage.get(lower);
    if (!index) this.byLanguage.set(lower, (index = { displays: new Map(), titles: new Map() }));
    const map = kind === 'display' ? index.displays : index.titles;
    const key = codeKey(system, code);
    const held = map.get(key);
    if (held !== undefined) return held === value ? undefined : held;
    map.set(key, value);
    return undefined;
  }

  /**
   * The lookup maps of a language chain (lower case, most specific first), for a translator
   * that looks many codes up in the same languages.
   */
  indexesOf(chain: readonly string[], kind: 'display' | 'title'): { language: string; map: Map<string, string> }[] {
    const maps: { language: string; map: Map<string, string> }[] = [];
    for (const tag of chain) {
      const index = this.byLanguage.get(tag);
      if (index) maps.push({ language: this.languages.get(tag)!, map: kind === 'display' ? index.displays : index.titles });
    }
    return maps;
  }

  /** The display of a code in the first language of `chain` that has one, with that language. */
  display(system: string, code: string, chain: readonly string[]): { language: string; value: string } | undefined {
    return first(this.indexesOf(chain, 'display'), codeKey(system, code));
  }

  /** The section title of a section code in the first language of `chain` that has one. */
  title(system: string, code: string, chain: readonly string[]): { language: string; value: string } | undefined {
    return first(this.indexesOf(chain, 'title'), codeKey(system, code));
  }

  /** Sizes, for the start-up log. */
  counts(): CatalogueCounts {
    const concepts = new Set<string>();
    let designations = 0;
    for (const index of this.byLanguage.values()) {
      for (const map of [index.displays, index.titles]) {
        designations += map.size;
        for (const key of map.keys()) concepts.add(key);
      }
    }
    return { files: this.files, concepts: concepts.size, designations, languages: this.languages.size };
  }
}

function first(maps: { language: string; map: Map<string, string> }[], key: string): { language: string; value: string } | undefined {
  for (const { language, map } of maps) {
    const value = map.get(key);
    if (value !== undefined) return { language, value };
  }
  return undefined;
}
