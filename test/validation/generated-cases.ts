import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadBaseDefinitions } from '../../src/validation/base-definitions.js';
import type { CompactElementDefinition, CompactStructureDefinition } from '../../src/validation/definitions.js';
import { allSections, minimal, type Json } from '../support/test-node.js';

/**
 * Documents derived from the official minimal and all-sections IPS documents by rule (every entry
 * of the first, the first entry of each resource type of the second), from the definitions
 * themselves (not by hand): for each entry, every element its definitions require is removed,
 * every primitive given the wrong JSON type, every code under a required binding replaced; plus
 * invariant breaks, and on the valid side unknown and national extensions on every resource and
 * resources that fall out of their optional IPS slices. Part of the conformance corpus
 * (npm run conformance); generated-cases.test.ts checks this validator's verdicts on them.
 */
export interface GeneratedCase {
  name: string;
  ruleClass: 'cardinality' | 'type' | 'binding' | 'invariant' | 'open slicing' | 'extensions';
  document: Json;
  valid: boolean;
  /** For an invalid document: where an error must be reported. */
  at?: string;
}

const IPS = join('profiles', 'hl7.fhir.uv.ips-2.0.0', 'package');
/** Slices of the IPS Bundle that a document must fill: their profiles decide validity. */
const REQUIRED_SLICE_TYPES = new Set(['Composition', 'Patient']);

function ipsProfile(type: string): CompactStructureDefinition | undefined {
  const file = join(IPS, `StructureDefinition-${type}-uv-ips.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as CompactStructureDefinition) : undefined;
}

/** Top-level elements of a resource definition (`Patient.name`, not `Patient.name.given`), no slices. */
function topLevel(sd: CompactStructureDefinition): CompactElementDefinition[] {
  return (sd.snapshot?.element ?? []).filter((e) => e.id.split('.').length === 2 && !e.id.includes(':'));
}

/** The JSON names an element may take in a resource (`onset[x]` → `onsetDateTime`, ...). */
function presentKeys(resource: Json, e: CompactElementDefinition): string[] {
  const name = e.path.split('.')[1]!;
  if (!name.endsWith('[x]')) return resource[name] === undefined ? [] : [name];
  const stem = name.slice(0, -3);
  return Object.keys(resource).filter((k) => k.startsWith(stem) && /^[A-Z]/.test(k.slice(stem.length)));
}

const PRIMITIVE_BREAKS: Record<string, unknown> = { string: 42, code: 42, boolean: 'yes', dateTime: 20240501, date: true, id: 7, uri: 3, markdown: false };

export function generatedCases(): GeneratedCase[] {
  const base = loadBaseDefinitions();
  // The base definitions only (the vital-signs profiles have type Observation too).
  const baseOf = new Map(base.structureDefinitions.filter((sd) => sd.url === `http://hl7.org/fhir/StructureDefinition/${sd.type}`).map((sd) => [sd.type, sd] as const));
  const cases: GeneratedCase[] = [];
  for (const [label, make, firstOfType] of [['minimal', minimal, false], ['all-sections', allSections, true]] as const) {
    derive(label, make, firstOfType, baseOf, cases);
  }
  invariants(cases);
  return cases;
}

/** The cases derived from the entries of one official document. */
function derive(label: string, make: () => Json, firstOfType: boolean, baseOf: Map<string, CompactStructureDefinition>, cases: GeneratedCase[]): void {
  const entries = make()['entry'] as Json[];
  const seenTypes = new Set<string>();

  entries.forEach((entry, index) => {
    const resource = entry['resource'] as Json;
    if (firstOfType) {
      if (seenTypes.has(resource['resourceType'] as string)) return;
      seenTypes.add(resource['resourceType'] as string);
    }
    const type = resource['resourceType'] as string;
    const core = baseOf.get(type);
    if (!core || core.kind !== 'resource') return;
    const profile = ipsProfile(type);
    const at = `Bundle.entry[${index}].resource`;
    const variant = (change: (r: Json) => void): Json => {
      const document = make();
      change((document['entry'] as Json[])[index]!['resource'] as Json);
      return document;
    };

    // Cardinality: what R4 requires is required everywhere; what only IPS requires decides
    // validity only for the Composition, the Patient and resources that claim the IPS profile
    // (others leave their optional slice and stay allowed: open slicing).
    const claimsIps = JSON.stringify((resource['meta'] as Json | undefined)?.['profile'] ?? []).includes('/uv/ips/');
    const coreMin = new Map(topLevel(core).map((e) => [e.path, e.min ?? 0] as const));
    for (const e of profile ? topLevel(profile) : topLevel(core)) {
      if ((e.min ?? 0) < 1) continue;
      const keys = presentKeys(resource, e);
      if (keys.length === 0) continue;
      const requiredByR4 = (coreMin.get(e.path) ?? 0) >= 1;
      const valid = !requiredByR4 && !REQUIRED_SLICE_TYPES.has(type) && !claimsIps;
      const document = variant((r) => {
        for (const k of keys) delete r[k];
      });
      cases.push({
        name: `${label}: ${type} without ${e.path.split('.')[1]} (${requiredByR4 ? 'R4' : 'IPS'} requires it)`,
        ruleClass: valid ? 'open slicing' : 'cardinality',
        document,
        valid,
        ...(valid ? {} : { at }),
      });
    }

    // Types: each top-level primitive present, given the wrong JSON type.
    for (const e of topLevel(core)) {
      const code = e.type?.length === 1 ? e.type[0]!.code : undefined;
      const name = e.path.split('.')[1]!;
      if (!code || !(code in PRIMITIVE_BREAKS) || resource[name] === undefined || Array.isArray(resource[name]) || name === 'id') continue;
      cases.push({ name: `${label}: ${type}.${name} of the wrong JSON type`, ruleClass: 'type', document: variant((r) => (r[name] = PRIMITIVE_BREAKS[code])), valid: false, at: `${at}.${name}` });
    }

    // Bindings: each code under a required binding, replaced by one from no value set.
    for (const e of topLevel(core)) {
      const name = e.path.split('.')[1]!;
      if (e.binding?.strength !== 'required' || e.type?.[0]?.code !== 'code' || typeof resource[name] !== 'string' || name === 'language') continue;
      cases.push({ name: `${label}: ${type}.${name} outside its required value set`, ruleClass: 'binding', document: variant((r) => (r[name] = 'not-a-code')), valid: false, at: `${at}.${name}` });
    }

    // Extensions: unknown and national ones on every resource are allowed (reported only).
    cases.push({
      name: `${label}: ${type} with an unknown extension`,
      ruleClass: 'extensions',
      document: variant((r) => (r['extension'] = [...((r['extension'] as Json[] | undefined) ?? []), { url: 'https://fhir.example.eu/StructureDefinition/unknown-note', valueString: 'note' }])),
      valid: true,
    });
    cases.push({
      name: `${label}: ${type} with a national complex extension`,
      ruleClass: 'extensions',
      document: variant((r) => (r['extension'] = [
        ...((r['extension'] as Json[] | undefined) ?? []),
        { url: 'https://fhir.example.pt/StructureDefinition/registo', extension: [{ url: 'sistema', valueUri: 'urn:oid:2.16.620.1' }, { url: 'data', valueDate: '2024-05-01' }] },
      ])),
      valid: true,
    });
    cases.push({
      name: `${label}: ${type} with an extension that has neither value nor extensions (ext-1)`,
      ruleClass: 'invariant',
      document: variant((r) => (r['extension'] = [{ url: 'https://fhir.example.eu/StructureDefinition/empty' }])),
      valid: false,
      at: `${at}.extension[0]`,
    });
  });
}

/** Invariant breaks in the minimal document. */
function invariants(cases: GeneratedCase[]): void {
  const entries = minimal()['entry'] as Json[];
  // Invariants of the resources in the document.
  const condition = entries.findIndex((e) => e['resource'].resourceType === 'Condition');
  const allergy = entries.findIndex((e) => e['resource'].resourceType === 'AllergyIntolerance');
  const patient = entries.findIndex((e) => e['resource'].resourceType === 'Patient');
  const invariant = (name: string, index: number, change: (r: Json) => void, at: string): void => {
    const document = minimal();
    change((document['entry'] as Json[])[index]!['resource'] as Json);
    cases.push({ name, ruleClass: 'invariant', document, valid: false, at: `Bundle.entry[${index}].resource${at}` });
  };
  invariant('Condition abated while active (con-4)', condition, (r) => (r['abatementString'] = 'gone'), '');
  invariant('AllergyIntolerance entered in error with a clinical status (ait-2)', allergy, (r) => {
    r['verificationStatus'] = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', code: 'entered-in-error' }] };
  }, '');
  invariant('Patient contact with only a relationship (pat-1)', patient, (r) => (r['contact'] = [{ relationship: [{ text: 'friend' }] }]), '.contact[0]');
  invariant('Patient name without family, given or text (ips name rule)', patient, (r) => (r['name'] = [{ use: 'official' }]), '.name[0]');
}
