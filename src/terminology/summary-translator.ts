import { randomUUID } from 'node:crypto';
import type { Bundle, Coding, CompositionSection, Element, Extension, Provenance } from 'fhir/r4.js';
import { isLanguageTag } from './language-tags.js';
import { codeKey, type TerminologyCatalogue } from './terminology-catalogue.js';

/**
 * Translates a summary into a reader's language without hiding the original (docs/translation.md):
 * every coded display (and the unit of every coded quantity) keeps its value and gains the
 * standard translation extension on `_display` (`_unit`); section titles the same on `_title`.
 * A code the catalogue cannot translate keeps its original display, marked untranslated. Narrative
 * is never machine-translated: its `div` is given the language it was written in. The copy says
 * what was done: a `meta.tag` and a Provenance entry naming the catalogue and its version.
 */

/** The standard extension holding a translation of a string element. */
export const TRANSLATION_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/translation';
/** Marks a display the catalogue had no translation for (value: the language asked for). */
export const UNTRANSLATED_EXTENSION = 'https://pontis.example.eu/fhir/StructureDefinition/untranslated';
/** The tag of a translated copy: HL7 v3 integrity observation "translated". */
export const TRANSLATED_TAG: Coding = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'TRSLT', display: 'translated' };

/** Identifier system of translation catalogues (value: `name#version`, as FHIR packages are cited). */
export const CATALOGUE_IDENTIFIER_SYSTEM = 'https://pontis.example.eu/fhir/terminology-catalogue';

/** How much of a summary was translated. */
export interface TranslationCounts {
  /** The catalogue language served, as the catalogue writes it. */
  language: string;
  /** Codings and coded quantities: translated, and all of them. */
  codes: { translated: number; total: number };
  /** Composition section titles: translated, and all sections with a title. */
  titles: { translated: number; total: number };
}

/** What a translation is made with. */
export interface TranslationRequest {
  catalogue: TerminologyCatalogue;
  /** The catalogue language served and its lookup chain (lower case), from `chooseLanguage`. */
  language: string;
  chain: readonly string[];
  /** The node translating: named in the Provenance entry. */
  translator: { baseUrl: string; country: string };
  /** When (the Provenance's `recorded`); now by default. */
  now?: Date;
}

/** An element of any type as JSON: the walk visits every one, whatever its type. */
type JsonObject = Record<string, unknown>;
type Lookup = { language: string; map: Map<string, string> }[];

/** The language a document is written in: `Bundle.language`, else its Composition's. */
export function documentLanguage(bundle: Bundle): string | undefined {
  const own: unknown = bundle.language;
  if (typeof own === 'string') return own;
  const composition = bundle.entry?.[0]?.resource;
  const language: unknown = composition?.resourceType === 'Composition' ? composition.language : undefined;
  return typeof language === 'string' ? language : undefined;
}

function translation(language: string, content: string): Extension {
  return { url: TRANSLATION_EXTENSION, extension: [{ url: 'lang', valueCode: language }, { url: 'content', valueString: content }] };
}

/** Whether a primitive's `_element` already carries a translation into `language`. */
function hasTranslation(companion: Element | undefined, language: string): boolean {
  const extensions = companion?.extension;
  return extensions?.some((e) => e.url === TRANSLATION_EXTENSION && e.extension?.some((x) => x.url === 'lang' && x.valueCode === language)) ?? false;
}

/** Adds an extension to the `_name` companion of a primitive element. */
function extend(element: JsonObject, name: string, extension: Extension): void {
  const key = `_${name}`;
  const companion = element[key] as JsonObject | undefined;
  if (companion === undefined || companion === null || typeof companion !== 'object') {
    element[key] = { extension: [extension] };
    return;
  }
  const extensions = companion['extension'];
  if (Array.isArray(extensions)) extensions.push(extension);
  else companion['extension'] = [extension];
}

function find(maps: Lookup, key: string): { language: string; value: string } | undefined {
  for (const { language, map } of maps) {
    const value = map.get(key);
    if (value !== undefined) return { language, value };
  }
  return undefined;
}

/** The walk over one document: lookups of the chain, counts, the language narrative is in. */
class Walk {
  readonly counts: TranslationCounts;
  private readonly displays: Lookup;
  private readonly titles: Lookup;

  constructor(
    private readonly request: TranslationRequest,
    private readonly documentLanguage: string | undefined,
  ) {
    this.displays = request.catalogue.indexesOf(request.chain, 'display');
    this.titles = request.catalogue.indexesOf(request.chain, 'title');
    this.counts = { language: request.language, codes: { translated: 0, total: 0 }, titles: { translated: 0, total: 0 } };
  }

  visit(value: unknown, language: string | undefined): void {
    if (Array.isArray(value)) {
      for (const item of value) this.visit(item, language);
      return;
    }
    if (value === null || typeof value !== 'object') return;
    const element = value as JsonObject;
    const own = element['language'];
    // A resource's narrative is in its own language when it names one.
    const here = typeof element['resourceType'] === 'string' && typeof own === 'string' ? own : language;
    for (const key in element) {
      if (key.charCodeAt(0) !== 95 /* _ */) this.visit(element[key], here);
    }
    const system = element['system'];
    const code = element['code'];
    if (typeof system === 'string' && typeof code === 'string') {
      // A Quantity carries a code and a unit; a Coding a code and a display.
      this.code(element, 'value' in element || 'unit' in element ? 'unit' : 'display', codeKey(system, code));
    } else if (typeof element['div'] === 'string' && typeof element['status'] === 'string') {
      this.nameNarrativeLanguage(element, here);
    }
    if (element['resourceType'] === 'Composition') this.sections(element['section']);
  }

  private code(element: JsonObject, name: 'display' | 'unit', key: string): void {
    this.counts.codes.total++;
    const language = this.request.language;
    if (hasTranslation(element[`_${name}`] as Element | undefined, language)) {
      this.counts.codes.translated++;
      return;
    }
    const found = find(this.displays, key);
    if (found) {
      this.counts.codes.translated++;
      extend(element, name, translation(found.language, found.value));
    } else {
      extend(element, name, { url: UNTRANSLATED_EXTENSION, valueCode: language });
    }
  }

  private sections(sections: unknown): void {
    if (!Array.isArray(sections)) return;
    for (const section of sections as CompositionSection[]) {
      if (section === null || typeof section !== 'object') continue;
      if (typeof section.title === 'string') {
        this.counts.titles.total++;
        const codings = section.code?.coding ?? [];
        let found: { language: string; value: string } | undefined;
        for (const c of codings) {
          if (typeof c?.system === 'string' && typeof c.code === 'string') found ??= find(this.titles, codeKey(c.system, c.code));
        }
        if (hasTranslation(section._title, this.request.language)) this.counts.titles.translated++;
        else if (found) {
          this.counts.titles.translated++;
          extend(section as JsonObject, 'title', translation(found.language, found.value));
        } else {
          extend(section as JsonObject, 'title', { url: UNTRANSLATED_EXTENSION, valueCode: this.request.language });
        }
      }
      this.sections(section.section);
    }
  }

  /** Narrative is not translated: its `div` names the language it is written in, when it does not already. */
  private nameNarrativeLanguage(narrative: JsonObject, language: string | undefined): void {
    const tag = language ?? this.documentLanguage;
    const div = narrative['div'] as string;
    if (tag === undefined || !isLanguageTag(tag) || !div.startsWith('<div')) return;
    const end = div.indexOf('>');
    // `lang` or `xml:lang` already there: the narrative names its language itself.
    if (end < 0 || /[\s:]lang\s*=/.test(div.slice(0, end))) return;
    const selfClosing = div[end - 1] === '/';
    const at = selfClosing ? end - 1 : end;
    narrative['div'] = `${div.slice(0, at)} lang="${tag}" xml:lang="${tag}"${div.slice(at)}`;
  }
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * Translates `bundle` (a parsed IPS document, changed in place) into the requested language and
 * returns how much was translated. The home node's `signature` is removed: it signs the original,
 * which stays available untranslated, and would not verify over the translated copy.
 */
export function translateSummary(bundle: Bundle, request: TranslationRequest): TranslationCounts {
  const original = documentLanguage(bundle);
  const signature = bundle.signature;
  delete bundle.signature;
  const walk = new Walk(request, original);
  walk.visit(bundle, original);
  const counts = walk.counts;

  const meta = (bundle.meta ??= {});
  const tags = (meta.tag ??= []);
  if (!tags.some((t) => t.system === TRANSLATED_TAG.system && t.code === TRANSLATED_TAG.code)) tags.push({ ...TRANSLATED_TAG });

  const entries = (bundle.entry ??= []);
  const composition = entries[0];
  const target = composition?.fullUrl ?? (composition?.resource?.id ? `Composition/${composition.resource.id}` : undefined);
  const { catalogue, translator, language } = request;
  const id = randomUUID();
  const from = original ?? 'its original language';
  const signedBy = signature?.who?.display ?? signature?.who?.identifier?.value;
  const provenance: Provenance = {
    resourceType: 'Provenance',
    id,
    text: {
      status: 'generated',
      div:
        `<div xmlns="http://www.w3.org/1999/xhtml" lang="en" xml:lang="en">Coded displays and section titles translated from ${escapeXml(from)} into ${escapeXml(language)} ` +
        `(${counts.codes.translated} of ${counts.codes.total} codes, ${counts.titles.translated} of ${counts.titles.total} titles) by Pontis node ${escapeXml(translator.country)} ` +
        `with the terminology catalogue ${escapeXml(catalogue.citation)}. Every original display and title is kept; narrative is not translated.</div>`,
    },
    target: [{ reference: target ?? `Bundle/${bundle.id ?? ''}` }],
    recorded: (request.now ?? new Date()).toISOString(),
    activity: {
      coding: [
        { system: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation', code: 'APPEND', display: 'append' },
        { system: 'http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle', code: 'transform', display: 'Transform/Translate Record Lifecycle Event' },
      ],
    },
    agent: [
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'performer', display: 'Performer' }] },
        who: { identifier: { system: 'urn:ietf:rfc:3986', value: translator.baseUrl }, display: `Pontis node ${translator.country}` },
      },
    ],
    entity: [
      {
        role: 'derivation',
        what: {
          ...(bundle.identifier ? { identifier: bundle.identifier } : {}),
          display: `the original document (${from})${signedBy ? `, signed by ${signedBy}` : ''}`,
        },
      },
      {
        role: 'source',
        what: {
          identifier: { system: CATALOGUE_IDENTIFIER_SYSTEM, value: catalogue.citation },
          display: `terminology catalogue ${catalogue.citation}${catalogue.identity.experimental ? ' (for demonstration, not clinically validated)' : ''}`,
        },
      },
    ],
  };
  entries.push({ fullUrl: `urn:uuid:${id}`, resource: provenance });
  return counts;
}

