import type { CodeSystem, CodeSystemConcept, CodeSystemConceptDesignation, ValueSet, ValueSetExpansionContains } from 'fhir/r4.js';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import Joi from 'joi';
import { isLanguageTag } from './language-tags.js';
import { TerminologyCatalogue, type CatalogueIdentity } from './terminology-catalogue.js';

/**
 * Loads a translation catalogue from a folder of FHIR resources (docs/translation.md): CodeSystem
 * supplements (or code systems) whose concepts carry `designation`s, and ValueSets whose
 * `compose.include.concept` or `expansion.contains` carry them, as an MTC export does. An
 * optional `package.json` (FHIR package manifest) names and versions the catalogue. Every file
 * is checked; a malformed one stops the start with the file and the FHIRPath named.
 */

/** `designation.use` of a section title (the IPS section titles are designations of their LOINC codes). */
export const SECTION_TITLE_USE = { system: 'https://pontis.example.eu/fhir/CodeSystem/designation-use', code: 'section-title' } as const;
/** `designation.use` that says "display" explicitly (FHIR designation-usage); no use says the same. */
const DISPLAY_USE = { system: 'http://terminology.hl7.org/CodeSystem/designation-usage', code: 'display' } as const;

/** Raised when a catalogue cannot be loaded; the message names each file and FHIRPath at fault. */
export class CatalogueError extends Error {
  override name = 'CatalogueError';
}

/** Problems listed in one error at most (the rest are counted). */
const MAX_PROBLEMS = 50;

const code = Joi.string()
  .max(256)
  .pattern(/^\S+( \S+)*$/)
  .messages({ 'string.pattern.base': 'must be a FHIR code (no leading, trailing or double white space)' });
const uri = Joi.string()
  .max(4096)
  .pattern(/^\S+$/)
  .messages({ 'string.pattern.base': 'must be a URI without white space' });
const language = Joi.string()
  .custom((value: string, helpers) => (isLanguageTag(value) ? value : helpers.error('any.invalid')))
  .messages({ 'any.invalid': 'must be a BCP 47 language tag such as pt or pt-PT' });
const text = Joi.string()
  .max(4096)
  .pattern(/\S/)
  .messages({ 'string.pattern.base': 'must not be blank' });
const coding = Joi.object({ system: uri, code, display: Joi.string() }).unknown(true);
const designation = Joi.object({ language: language.required(), use: coding, value: text.required() }).unknown(true);

/**
 * A concept with designations, nesting concepts of its own kind under `nested`: a CodeSystem's
 * `concept` and a ValueSet expansion's `contains` have this shape.
 */
function designatedConcept(id: string, nested: string, identity: Joi.PartialSchemaMap): Joi.ObjectSchema {
  return Joi.object({
    ...identity,
    display: text,
    designation: Joi.array().items(designation),
    [nested]: Joi.array().items(Joi.link(`#${id}`)),
  })
    .id(id)
    .unknown(true);
}

const concept = designatedConcept('codeSystemConcept', 'concept', { code: code.required() });

const codeSystem = Joi.object({
  resourceType: Joi.string().valid('CodeSystem').required(),
  url: uri.required(),
  version: Joi.string(),
  status: Joi.string().valid('draft', 'active', 'retired', 'unknown').required(),
  experimental: Joi.boolean(),
  language,
  content: Joi.string().valid('not-present', 'example', 'fragment', 'complete', 'supplement').required(),
  supplements: Joi.when('content', { is: 'supplement', then: uri.required(), otherwise: uri }),
  concept: Joi.array().items(concept),
}).unknown(true);

const contains = designatedConcept('expansionContains', 'contains', { system: uri, code });

const valueSet = Joi.object({
  resourceType: Joi.string().valid('ValueSet').required(),
  url: uri,
  version: Joi.string(),
  status: Joi.string().valid('draft', 'active', 'retired', 'unknown').required(),
  experimental: Joi.boolean(),
  language,
  compose: Joi.object({
    include: Joi.array()
      .items(
        Joi.object({
          system: uri,
          concept: Joi.array().items(
            Joi.object({ code: code.required(), display: text, designation: Joi.array().items(designation) }).unknown(true),
          ),
        }).unknown(true),
      )
      .required(),
  }).unknown(true),
  expansion: Joi.object({ contains: Joi.array().items(contains) }).unknown(true),
}).unknown(true);

const manifest = Joi.object({
  name: Joi.string()
    .pattern(/^[a-z0-9][a-z0-9._-]*$/i)
    .max(214)
    .required()
    .messages({ 'string.pattern.base': 'must be a package name (letters, digits, ".", "_", "-")' }),
  version: Joi.string().max(64).pattern(/^\S+$/).required(),
  description: Joi.string(),
}).unknown(true);

/*
 * The schemas above, written out as plain checks that only say yes or no. Joi is most of a
 * catalogue's load time (about 100 ms of the node's start-up for the demo catalogue, 20 times
 * these checks), so a resource these checks accept is taken without it; one they refuse goes
 * through joi, which has the last word and names every problem. They are stricter than joi, never
 * laxer (a string joi would convert is refused here), so joi's verdict is the only one that refuses.
 */
type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);
const absentOr = (v: unknown, check: (v: unknown) => boolean) => v === undefined || check(v);
const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isCode = (v: unknown) => isString(v) && v.length <= 256 && /^\S+( \S+)*$/.test(v);
const isUri = (v: unknown) => isString(v) && v.length <= 4096 && /^\S+$/.test(v);
const isText = (v: unknown) => isString(v) && v.length <= 4096 && /\S/.test(v);
const isLanguage = (v: unknown) => isString(v) && isLanguageTag(v);
const isStatus = (v: unknown) => v === 'draft' || v === 'active' || v === 'retired' || v === 'unknown';
const arrayOf = (check: (v: unknown) => boolean) => (v: unknown) => Array.isArray(v) && v.every(check);
const isCoding = (v: unknown) => isPlain(v) && absentOr(v['system'], isUri) && absentOr(v['code'], isCode) && absentOr(v['display'], isString);
const isDesignation = (v: unknown) => isPlain(v) && isLanguage(v['language']) && absentOr(v['use'], isCoding) && isText(v['value']);
const designations = arrayOf(isDesignation);
const isConcept = (v: unknown): boolean =>
  isPlain(v) && isCode(v['code']) && absentOr(v['display'], isText) && absentOr(v['designation'], designations) && absentOr(v['concept'], arrayOf(isConcept));
const isContains = (v: unknown): boolean =>
  isPlain(v) &&
  absentOr(v['system'], isUri) &&
  absentOr(v['code'], isCode) &&
  absentOr(v['display'], isText) &&
  absentOr(v['designation'], designations) &&
  absentOr(v['contains'], arrayOf(isContains));
const isIncluded = (v: unknown) => isPlain(v) && isCode(v['code']) && absentOr(v['display'], isText) && absentOr(v['designation'], designations);
const isInclude = (v: unknown) => isPlain(v) && absentOr(v['system'], isUri) && absentOr(v['concept'], arrayOf(isIncluded));
const commonPlain = (v: Plain) =>
  absentOr(v['version'], isString) && isStatus(v['status']) && absentOr(v['experimental'], (e) => typeof e === 'boolean') && absentOr(v['language'], isLanguage);

/** Whether a parsed catalogue resource certainly meets its schema (`false`: let joi decide and explain). */
export function plainlyConforms(resource: Plain): boolean {
  if (resource['resourceType'] === 'CodeSystem') {
    const content = resource['content'];
    return (
      isUri(resource['url']) &&
      commonPlain(resource) &&
      (content === 'not-present' || content === 'example' || content === 'fragment' || content === 'complete' || content === 'supplement') &&
      (content === 'supplement' ? isUri(resource['supplements']) : absentOr(resource['supplements'], isUri)) &&
      absentOr(resource['concept'], arrayOf(isConcept))
    );
  }
  if (resource['resourceType'] === 'ValueSet') {
    const compose = resource['compose'];
    const expansion = resource['expansion'];
    return (
      absentOr(resource['url'], isUri) &&
      commonPlain(resource) &&
      absentOr(compose, (c) => isPlain(c) && arrayOf(isInclude)(c['include'])) &&
      absentOr(expansion, (e) => isPlain(e) && absentOr(e['contains'], arrayOf(isContains)))
    );
  }
  return false;
}

/** Joi's verdict alone on a parsed catalogue resource (for the test that {@link plainlyConforms} is never laxer). */
export function meetsSchema(resource: unknown): boolean {
  const type = isPlain(resource) ? resource['resourceType'] : undefined;
  const schema = type === 'CodeSystem' ? codeSystem : type === 'ValueSet' ? valueSet : undefined;
  return schema !== undefined && schema.validate(resource).error === undefined;
}

/** What a CodeSystem concept, a ValueSet's included concept and an expansion's entry have in common here. */
type DesignatedConcept = Pick<CodeSystemConcept, 'display' | 'designation'> & { code?: string | undefined };

/** The FHIRPath of a joi error path within a resource: `CodeSystem.concept[3].designation[1].language`. */
function fhirPath(resourceType: string, path: readonly (string | number)[]): string {
  return resourceType + path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('');
}

/** What a designation is: a display, a section title, or something the translation does not use. */
function kindOf(d: CodeSystemConceptDesignation): 'display' | 'title' | undefined {
  if (d.use === undefined) return 'display';
  if (d.use.system === DISPLAY_USE.system && d.use.code === DISPLAY_USE.code) return 'display';
  if (d.use.system === SECTION_TITLE_USE.system && d.use.code === SECTION_TITLE_USE.code) return 'title';
  // Synonyms, fully specified names and other uses are not what a reader sees as a display.
  return undefined;
}

/** The system a canonical names, without its `|version`. */
function systemOf(canonical: string): string {
  const bar = canonical.indexOf('|');
  return bar < 0 ? canonical : canonical.slice(0, bar);
}

/**
 * Reads every `*.json` file of `folder` (`package.json` as the manifest) into a compiled
 * catalogue. Throws {@link CatalogueError} listing every file, FHIRPath and problem found.
 */
export function loadTerminologyCatalogue(folder: string): TerminologyCatalogue {
  let names: string[];
  try {
    if (!statSync(folder).isDirectory()) throw new CatalogueError(`${folder}: is not a folder`);
    names = readdirSync(folder)
      .filter((f) => f.endsWith('.json'))
      .sort();
  } catch (error) {
    if (error instanceof CatalogueError) throw error;
    throw new CatalogueError(`${folder}: cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const problems: string[] = [];
  const report = (problem: string) => problems.push(problem);
  const fingerprint = createHash('sha256');
  let identity: Pick<CatalogueIdentity, 'name' | 'version' | 'description'> | undefined;
  const resources: { file: string; resource: CodeSystem | ValueSet }[] = [];

  for (const name of names) {
    const file = join(folder, name);
    const bytes = readFileSync(file);
    fingerprint.update(`${name}\u0000`).update(bytes);
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch (error) {
      report(`${file}: is not JSON (${(error as Error).message})`);
      continue;
    }
    if (name === 'package.json') {
      const { error, value } = manifest.validate(json, { abortEarly: false, errors: { label: false } });
      if (error) for (const d of error.details) report(`${file}: ${d.path.join('.') || '(root)'}: ${d.message}`);
      else identity = { name: value.name as string, version: value.version as string, description: value.description as string | undefined };
      continue;
    }
    const resourceType = json !== null && typeof json === 'object' ? (json as { resourceType?: unknown }).resourceType : undefined;
    const schema = resourceType === 'CodeSystem' ? codeSystem : resourceType === 'ValueSet' ? valueSet : undefined;
    if (!schema) {
      report(`${file}: resourceType: must be CodeSystem or ValueSet, is ${JSON.stringify(resourceType ?? null)}`);
      continue;
    }
    const { error } = plainlyConforms(json as Plain) ? { error: undefined } : schema.validate(json, { abortEarly: false, errors: { label: false } });
    if (error) {
      for (const d of error.details) report(`${file}: ${fhirPath(resourceType as string, d.path)}: ${d.message}`);
      continue;
    }
    // Checked by the schema above: what the catalogue reads is there, with the types it reads.
    resources.push({ file, resource: json as CodeSystem | ValueSet });
  }

  const catalogue = new TerminologyCatalogue(
    {
      name: identity?.name ?? basename(folder),
      version: identity?.version ?? `sha256:${fingerprint.digest('base64url').slice(0, 16)}`,
      description: identity?.description,
      experimental: resources.some(({ resource }) => resource.experimental === true),
    },
    resources.length,
  );
  /** Where each designation was first read, to name both places of a conflict. */
  const origins = new Map<string, string>();
  const add = (kind: 'display' | 'title', system: string, codeValue: string, lang: string, value: string, where: string) => {
    const key = `${kind}\u0000${system}\u0000${codeValue}\u0000${lang.toLowerCase()}`;
    const held = catalogue.add(kind, system, codeValue, lang, value);
    if (held !== undefined) {
      report(`${where}: ${kind} of ${system}|${codeValue} in ${lang} is ${JSON.stringify(value)}, but ${origins.get(key)} says ${JSON.stringify(held)}; give synonyms a designation.use`);
    } else if (!origins.has(key)) {
      origins.set(key, where);
    }
  };
  const addConcept = (c: DesignatedConcept, system: string, resourceLanguage: string | undefined, where: string) => {
    if (c.code === undefined) return;
    if (c.display !== undefined && resourceLanguage !== undefined) add('display', system, c.code, resourceLanguage, c.display, `${where}.display`);
    c.designation?.forEach((d, i) => {
      const kind = kindOf(d);
      // The schema requires a designation's language.
      if (kind) add(kind, system, c.code!, d.language!, d.value, `${where}.designation[${i}]`);
    });
  };

  for (const { file, resource } of resources) {
    const resourceLanguage = resource.language;
    if (resource.resourceType === 'CodeSystem') {
      // The schema requires `url`.
      const system = systemOf(resource.supplements ?? resource.url!);
      const walk = (concepts: CodeSystemConcept[] | undefined, path: string) =>
        concepts?.forEach((c, i) => {
          addConcept(c, system, resourceLanguage, `${file}: ${path}[${i}]`);
          walk(c.concept, `${path}[${i}].concept`);
        });
      walk(resource.concept, 'CodeSystem.concept');
    } else {
      const include = resource.compose?.include ?? [];
      include.forEach((inc, i) => {
        if (inc.system === undefined) return;
        const system = systemOf(inc.system);
        inc.concept?.forEach((c, j) => addConcept(c, system, resourceLanguage, `${file}: ValueSet.compose.include[${i}].concept[${j}]`));
      });
      const walk = (items: ValueSetExpansionContains[] | undefined, path: string) =>
        items?.forEach((c, i) => {
          if (c.system !== undefined) addConcept(c, systemOf(c.system), resourceLanguage, `${file}: ${path}[${i}]`);
          walk(c.contains, `${path}[${i}].contains`);
        });
      walk(resource.expansion?.contains, 'ValueSet.expansion.contains');
    }
  }

  if (problems.length > 0) {
    const shown = problems.slice(0, MAX_PROBLEMS);
    const more = problems.length > MAX_PROBLEMS ? `\n  ... and ${problems.length - MAX_PROBLEMS} more` : '';
    throw new CatalogueError(`terminology catalogue refused:\n  ${shown.join('\n  ')}${more}`);
  }
  return catalogue;
}
