import Accept from '@hapi/accept';
import { de } from './i18n/de.js';
import { en, type MessageKey, type Messages } from './i18n/en.js';
import { es } from './i18n/es.js';
import { fr } from './i18n/fr.js';
import { it } from './i18n/it.js';
import { pt } from './i18n/pt.js';

/** The portal's languages, with their own names (for the language switch). */
export const PORTAL_LANGUAGES = [
  { code: 'en', name: 'English' },
  { code: 'de', name: 'Deutsch' },
  { code: 'pt', name: 'Português' },
  { code: 'fr', name: 'Français' },
  { code: 'es', name: 'Español' },
  { code: 'it', name: 'Italiano' },
] as const;

export type PortalLanguage = (typeof PORTAL_LANGUAGES)[number]['code'];

const MESSAGES: Record<PortalLanguage, Messages> = { en, de, pt, fr, es, it };

/** Whether `code` is one of the portal's languages. */
export function isPortalLanguage(code: unknown): code is PortalLanguage {
  return typeof code === 'string' && code in MESSAGES;
}

/**
 * The language of a page: the one the person chose (cookie), else the first of the browser's
 * `Accept-Language` whose primary subtag the portal speaks (`pt-PT` → `pt`), else English.
 */
export function chooseLanguage(chosen: unknown, acceptLanguage: string | undefined): PortalLanguage {
  if (isPortalLanguage(chosen)) return chosen;
  if (acceptLanguage) {
    let ranges: string[] = [];
    try {
      ranges = Accept.languages(acceptLanguage);
    } catch {
      ranges = [];
    }
    for (const range of ranges) {
      const primary = range.split('-')[0]!.toLowerCase();
      if (isPortalLanguage(primary)) return primary;
    }
  }
  return 'en';
}

/** The text of `key` in `language`, with `{name}` placeholders filled. */
export function translate(language: PortalLanguage, key: MessageKey, values: Record<string, unknown> = {}): string {
  const template = MESSAGES[language][key] ?? en[key];
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole));
}

/** The messages of a language, for templates. */
export function messagesOf(language: PortalLanguage): Messages {
  return MESSAGES[language];
}

const formats = new Map<PortalLanguage, Formats>();

/** Dates, times and names of languages and countries, in the reader's language (`Intl`). */
export class Formats {
  private readonly day: Intl.DateTimeFormat;
  private readonly month: Intl.DateTimeFormat;
  private readonly moment: Intl.DateTimeFormat;
  private readonly languages: Intl.DisplayNames;
  private readonly regions: Intl.DisplayNames;

  /** The formats of `language`, built once (Intl formatters are costly to construct). */
  static of(language: PortalLanguage): Formats {
    let found = formats.get(language);
    if (!found) {
      found = new Formats(language);
      formats.set(language, found);
    }
    return found;
  }

  private constructor(readonly language: PortalLanguage) {
    this.day = new Intl.DateTimeFormat(language, { dateStyle: 'long', timeZone: 'UTC' });
    this.month = new Intl.DateTimeFormat(language, { year: 'numeric', month: 'long', timeZone: 'UTC' });
    this.moment = new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeStyle: 'short' });
    this.languages = new Intl.DisplayNames([language], { type: 'language' });
    this.regions = new Intl.DisplayNames([language], { type: 'region' });
  }

  /** A FHIR date or dateTime: year, year-month or full date; a dateTime with its time. */
  date(value: string | undefined): string {
    if (!value) return '';
    if (/^\d{4}$/.test(value)) return value;
    if (/^\d{4}-\d{2}$/.test(value)) return this.month.format(new Date(`${value}-01T00:00:00Z`));
    if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return this.day.format(new Date(`${value}T00:00:00Z`));
    const at = new Date(value);
    return Number.isNaN(at.getTime()) ? value : this.moment.format(at);
  }

  /** Name of a language tag (`de-AT` → "German (Austria)" in English). */
  languageName(tag: string | undefined): string {
    return displayName(this.languages, tag);
  }

  /** Name of a country by ISO 3166 code. */
  countryName(code: string | undefined): string {
    return displayName(this.regions, code);
  }
}

/** The name `names` gives `code`; the code itself when it has none or is not well-formed. */
function displayName(names: Intl.DisplayNames, code: string | undefined): string {
  if (!code) return '';
  try {
    return names.of(code) ?? code;
  } catch {
    return code;
  }
}
