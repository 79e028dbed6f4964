import type { Bundle, CodeableConcept, Coding, Element, Extension, Identifier, MedicationRequest, MedicationStatement, Period, Quantity, Resource } from 'fhir/r4.js';
import { isResourceOf } from '../fhir/resources.js';
import { sanitiseNarrative } from './narrative.js';

/**
 * An IPS document turned into what the summary page shows: sections in the order a clinician at
 * the point of care needs them (allergies and alerts first), each entry with its term in the
 * reader's language beside the original, its dates and status, and each section's narrative
 * sanitised, with the language it is written in. Nothing here is trusted HTML but the sanitised
 * narrative.
 */

/** The standard translation extension (on `_display`, `_title`, `_unit`) written by the translating node. */
const TRANSLATION = 'http://hl7.org/fhir/StructureDefinition/translation';
/** A display the translating node had no translation for. */
const UNTRANSLATED = 'https://pontis.example.eu/fhir/StructureDefinition/untranslated';
const LOINC = 'http://loinc.org';

/** Sections first, in this order (LOINC); every other section follows in document order. */
export const SECTION_ORDER = ['48765-2', '104605-1', '11450-4', '10160-0', '11369-6', '30954-2', '47519-4', '46264-8'];

/** A coded term as shown: in the reader's language when translated, with the original beside it. */
export interface TermView {
  /** What the reader reads first. */
  text: string;
  /** Language of `text` (BCP 47), when known. */
  lang: string | undefined;
  /** The original display (when `text` is a translation), its code and system. */
  original: string | undefined;
  originalLang: string | undefined;
  code: string | undefined;
  system: string | undefined;
  /** The translating node found no translation for this term. */
  untranslated: boolean;
}

export interface EntryView {
  resourceType: string;
  term: TermView | undefined;
  /** Further coded facts (reaction, dose form, value) and free text. */
  details: Array<{ term?: TermView; text?: string }>;
  date: string | undefined;
  status: string | undefined;
  /** Criticality or severity, when high: shown as an alert. */
  high: boolean;
}

export interface SectionView {
  code: string | undefined;
  /** The document's title of the section, translated when it was. */
  title: TermView;
  withheld: boolean;
  entries: EntryView[];
  /** Sanitised XHTML of the narrative, and its language. */
  narrative: string | undefined;
  narrativeLang: string | undefined;
  anchor: string;
}

export interface SummaryView {
  title: string | undefined;
  language: string | undefined;
  date: string | undefined;
  author: string | undefined;
  custodian: string | undefined;
  patient: { name: string; birthDate: string | undefined; gender: string | undefined; identifiers: Array<{ system: string; value: string }> };
  sections: SectionView[];
  /** The document says some sections were withheld (Bundle `meta.security` REDACTED). */
  redacted: boolean;
  withheldCount: number;
  /** A translated copy (meta.tag TRSLT), into which language, and with what. */
  translated: { into: string | undefined; catalogue: string | undefined } | undefined;
  untranslatedCount: number;
}

function translationOf(companion: Element | undefined, reader: string): { text: string; lang: string } | undefined {
  const extensions = companion?.extension ?? [];
  const primary = reader.split('-')[0]!.toLowerCase();
  let best: { text: string; lang: string } | undefined;
  for (const e of extensions) {
    if (e.url !== TRANSLATION) continue;
    const lang = e.extension?.find((x) => x.url === 'lang')?.valueCode;
    const content = e.extension?.find((x) => x.url === 'content')?.valueString;
    if (!lang || !content) continue;
    if (lang.toLowerCase() === reader.toLowerCase()) return { text: content, lang };
    if (lang.split('-')[0]!.toLowerCase() === primary) best ??= { text: content, lang };
  }
  return best;
}

function isUntranslated(companion: Element | undefined): boolean {
  return (companion?.extension ?? []).some((e) => e.url === UNTRANSLATED);
}

/** A string element (title, display) with its `_element` companion, as a term. */
function termFromString(value: string, companion: Element | undefined, reader: string, documentLang: string | undefined, coding?: Coding): TermView {
  const translated = translationOf(companion, reader);
  return {
    text: translated?.text ?? value,
    lang: translated?.lang ?? documentLang,
    original: translated ? value : undefined,
    originalLang: documentLang,
    code: coding?.code,
    system: coding?.system,
    untranslated: isUntranslated(companion),
  };
}

/** The term of a CodeableConcept: its first coding with a display (translated if it was), else its text. */
export function termOf(concept: CodeableConcept | undefined, reader: string, documentLang: string | undefined): TermView | undefined {
  if (!concept) return undefined;
  const codings = concept.coding ?? [];
  const coding = codings.find((c) => typeof c.display === 'string') ?? codings[0];
  if (coding && typeof coding.display === 'string') return termFromString(coding.display, coding._display, reader, documentLang, coding);
  if (typeof concept.text === 'string') return termFromString(concept.text, concept._text, reader, documentLang, coding);
  if (coding?.code) return { text: coding.code, lang: undefined, original: undefined, originalLang: undefined, code: coding.code, system: coding.system, untranslated: false };
  return undefined;
}

const statusOf = (concept: CodeableConcept | undefined) => concept?.coding?.[0]?.code ?? concept?.text;

function quantityText(q: Quantity | undefined): string | undefined {
  if (!q || q.value === undefined) return undefined;
  return `${String(q.value)}${q.unit ? ` ${String(q.unit)}` : ''}`;
}

function periodStart(p: Period | undefined): string | undefined {
  return p?.start ?? p?.end;
}

/**
 * A coded element as the node sent it: the node validated the document, and {@link termOf} reads
 * every member defensively, so an object is enough.
 */
function isConcept(value: unknown): value is CodeableConcept {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The `code` of a resource whose code is coded (most clinical resources). */
function codeOf(resource: Resource | undefined): CodeableConcept | undefined {
  const code = resource && 'code' in resource ? resource.code : undefined;
  return isConcept(code) ? code : undefined;
}

/** The main term, details, date and status of the entry types a summary page knows. */
type EntryFacts = Pick<EntryView, 'details' | 'date' | 'status' | 'high'> & { term?: TermView | undefined };

function medicationFacts(resource: MedicationStatement | MedicationRequest, byUrl: Map<string, Resource>, reader: string, lang: string | undefined): EntryFacts {
  const details: EntryView['details'] = [];
  const reference = resource.medicationReference?.reference;
  const medication = reference ? byUrl.get(reference) : undefined;
  const term = termOf(codeOf(medication) ?? resource.medicationCodeableConcept, reader, lang);
  const form = termOf(isResourceOf(medication, 'Medication') ? medication.form : undefined, reader, lang);
  if (form) details.push({ term: form });
  const dosages = resource.resourceType === 'MedicationStatement' ? resource.dosage : resource.dosageInstruction;
  for (const d of dosages ?? []) if (typeof d.text === 'string') details.push({ text: d.text });
  const date = resource.resourceType === 'MedicationStatement' ? (resource.effectiveDateTime ?? periodStart(resource.effectivePeriod)) : resource.authoredOn;
  return { term, details, date, status: resource.status, high: false };
}

function knownFacts(resource: Resource, byUrl: Map<string, Resource>, reader: string, lang: string | undefined): EntryFacts | undefined {
  if (isResourceOf(resource, 'AllergyIntolerance')) {
    const details: EntryView['details'] = [];
    for (const reaction of resource.reaction ?? []) {
      for (const m of reaction.manifestation ?? []) {
        const t = termOf(m, reader, lang);
        if (t) details.push({ term: t });
      }
    }
    return { details, status: statusOf(resource.clinicalStatus), high: resource.criticality === 'high', date: resource.onsetDateTime ?? resource.recordedDate };
  }
  if (isResourceOf(resource, 'Condition')) {
    return { details: [], status: statusOf(resource.clinicalStatus), high: false, date: resource.onsetDateTime ?? periodStart(resource.onsetPeriod) ?? resource.recordedDate };
  }
  if (isResourceOf(resource, 'MedicationStatement', 'MedicationRequest')) return medicationFacts(resource, byUrl, reader, lang);
  if (isResourceOf(resource, 'Immunization')) {
    return { term: termOf(resource.vaccineCode, reader, lang), details: [], status: resource.status, high: false, date: resource.occurrenceDateTime };
  }
  if (isResourceOf(resource, 'Observation')) {
    const details: EntryView['details'] = [];
    const value = quantityText(resource.valueQuantity) ?? resource.valueString;
    if (value) details.push({ text: value });
    const coded = termOf(resource.valueCodeableConcept, reader, lang);
    if (coded) details.push({ term: coded });
    return { details, status: resource.status, high: false, date: resource.effectiveDateTime ?? periodStart(resource.effectivePeriod) };
  }
  if (isResourceOf(resource, 'Procedure')) {
    return { details: [], status: resource.status, high: false, date: resource.performedDateTime ?? periodStart(resource.performedPeriod) };
  }
  if (isResourceOf(resource, 'DeviceUseStatement')) {
    const reference = resource.device?.reference;
    const device = reference ? byUrl.get(reference) : undefined;
    const term = termOf(isResourceOf(device, 'Device') ? device.type : undefined, reader, lang);
    return { term, details: [], status: resource.status, high: false, date: resource.timingDateTime ?? periodStart(resource.timingPeriod) };
  }
  return undefined;
}

/** What one entry resource contributes: its main term, details, date and status. */
function entryOf(resource: Resource, byUrl: Map<string, Resource>, reader: string, lang: string | undefined): EntryView {
  const known = knownFacts(resource, byUrl, reader, lang);
  const term = known && 'term' in known ? known.term : termOf(codeOf(resource), reader, lang);
  if (known) return { resourceType: resource.resourceType, term, details: known.details, date: known.date, status: known.status, high: known.high };
  const status = 'status' in resource && typeof resource.status === 'string' ? resource.status : undefined;
  return { resourceType: resource.resourceType, term, details: [], date: undefined, status, high: false };
}

/** The name of an author, custodian or patient: an Organization's, or a person's first. */
function displayName(resource: Resource | undefined): string | undefined {
  if (!resource || !('name' in resource)) return undefined;
  if (typeof resource.name === 'string') return resource.name;
  if (!isResourceOf(resource, 'Patient', 'Practitioner', 'RelatedPerson', 'Person')) return undefined;
  const name = resource.name?.[0];
  if (!name) return undefined;
  if (typeof name.text === 'string') return name.text;
  return [...(name.prefix ?? []), ...(name.given ?? []), name.family].filter(Boolean).join(' ') || undefined;
}

function countUntranslated(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + countUntranslated(v), 0);
  if (value === null || typeof value !== 'object') return 0;
  let n = 0;
  for (const [k, v] of Object.entries(value)) {
    if (k === 'extension' && Array.isArray(v) && v.some((e: Extension | null) => e?.url === UNTRANSLATED)) n++;
    else n += countUntranslated(v);
  }
  return n;
}

/** The language a narrative `div` names on its root element, if any. */
function divLanguage(div: string): string | undefined {
  const open = /^<div\b[^>]*>/.exec(div)?.[0] ?? '';
  return /\slang="([A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*)"/.exec(open)?.[1];
}

/** The summary page's view of an IPS document, for a reader of language `reader`. */
export function summaryView(bundle: Bundle, reader: string): SummaryView {
  const entries = bundle.entry ?? [];
  const byUrl = new Map<string, Resource>();
  for (const e of entries) {
    const r = e.resource;
    if (!r) continue;
    if (e.fullUrl) byUrl.set(e.fullUrl, r);
    if (typeof r.id === 'string') byUrl.set(`${r.resourceType}/${r.id}`, r);
  }
  const composition = entries[0]?.resource;
  if (!isResourceOf(composition, 'Composition')) throw new Error('not an IPS document: the first entry is not a Composition');
  const lang = bundle.language ?? composition.language;
  const subject = byUrl.get(composition.subject?.reference ?? '');
  const sections = (composition.section ?? []).map((section, i): SectionView => {
    const code = section.code?.coding?.find((c) => c.system === LOINC)?.code ?? section.code?.coding?.[0]?.code;
    const withheld = section.emptyReason?.coding?.some((c) => c.code === 'withheld') ?? false;
    const div = section.text?.div;
    const resources = (section.entry ?? []).map((ref) => byUrl.get(ref.reference ?? '')).filter((r) => r !== undefined);
    return {
      code,
      title: termFromString(section.title ?? code ?? '', section._title, reader, lang),
      withheld,
      entries: withheld ? [] : resources.map((r) => entryOf(r, byUrl, reader, lang)),
      narrative: div ? sanitiseNarrative(div) : undefined,
      narrativeLang: (div ? divLanguage(div) : undefined) ?? lang,
      anchor: `section-${i + 1}`,
    };
  });
  const rank = (s: SectionView) => {
    const at = s.code ? SECTION_ORDER.indexOf(s.code) : -1;
    return at < 0 ? SECTION_ORDER.length : at;
  };
  // A stable sort: sections not named in SECTION_ORDER keep the document's order after the others.
  const ordered = sections.map((s, i) => ({ s, i })).sort((a, b) => rank(a.s) - rank(b.s) || a.i - b.i).map(({ s }) => s);
  const tags = bundle.meta?.tag ?? [];
  const translatedTag = tags.some((t) => t.code === 'TRSLT');
  const provenance = entries.map((e) => e.resource).find((r) => isResourceOf(r, 'Provenance'));
  const catalogue = isResourceOf(provenance, 'Provenance') ? provenance.entity?.find((e) => e.role === 'source')?.what.display : undefined;
  const patient = isResourceOf(subject, 'Patient') ? subject : undefined;
  return {
    title: composition.title,
    language: lang,
    date: composition.date,
    author: (composition.author ?? []).map((a) => displayName(byUrl.get(a.reference ?? '')) ?? a.display).filter(Boolean).join(', ') || undefined,
    custodian: displayName(byUrl.get(composition.custodian?.reference ?? '')) ?? composition.custodian?.display,
    patient: {
      name: displayName(patient) ?? '',
      birthDate: patient?.birthDate,
      gender: patient?.gender,
      identifiers: (patient?.identifier ?? []).filter((x): x is Identifier & { system: string; value: string } => !!x.system && !!x.value),
    },
    sections: ordered,
    redacted: (bundle.meta?.security ?? []).some((s) => s.code === 'REDACTED'),
    withheldCount: sections.filter((s) => s.withheld).length,
    translated: translatedTag ? { into: readerLanguageOf(bundle), catalogue } : undefined,
    untranslatedCount: countUntranslated(entries.map((e) => e.resource)),
  };
}

/** The language a translated copy was made for: the `lang` of its first translation extension. */
function readerLanguageOf(bundle: Bundle): string | undefined {
  const found = JSON.stringify(bundle).match(/"url":"http:\/\/hl7\.org\/fhir\/StructureDefinition\/translation","extension":\[\{"url":"lang","valueCode":"([^"]+)"/);
  return found?.[1];
}
