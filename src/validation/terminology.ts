import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BaseDefinitions } from './base-definitions.js';
import { loadBaseDefinitions } from './base-definitions.js';
import type { CompactCodeSystem, CompactConcept, CompactValueSet, PackageResource } from './definition-shapes.js';
import { canonicalUrl } from './definitions.js';

type ConceptSetComponent = NonNullable<CompactValueSet['compose']>['include'][number];

/** Codes of an expanded value set, as `system|code`, and codes alone for `code` elements. */
export interface Expansion {
  codings: Set<string>;
  codes: Set<string>;
}

/**
 * Value sets and code systems from the packages, expanded locally and never over the network. A
 * value set that uses filters, or a code system that is not shipped complete, cannot be expanded
 * here: bindings to it are not checked.
 */
export class Terminology {
  private readonly valueSets = new Map<string, CompactValueSet>();
  private readonly codeSystems = new Map<string, CompactCodeSystem>();
  private readonly expansions = new Map<string, Expansion | null>();
  private readonly versions = new Map<string, string>();

  /** Adds the ValueSets and CodeSystems among `resources` (others are ignored, as are those without a canonical). */
  add(resources: Iterable<PackageResource>): this {
    for (const r of resources) {
      if (r.resourceType === 'ValueSet' && r.url !== undefined) this.valueSets.set(r.url, r);
      else if (r.resourceType === 'CodeSystem' && r.url !== undefined) this.codeSystems.set(r.url, r);
    }
    return this;
  }

  /** The FHIR R4 base value sets and code systems (see base-definitions.ts). */
  static fhirR4(base: BaseDefinitions = loadBaseDefinitions()): Terminology {
    return new Terminology().add(base.terminology);
  }

  /** Adds the ValueSet and CodeSystem files of an unpacked package folder. */
  addPackage(folder: string): this {
    const files = readdirSync(folder).filter((f) => /^(ValueSet|CodeSystem)-.*\.json$/.test(f));
    return this.add(files.map((f) => JSON.parse(readFileSync(join(folder, f), 'utf8')) as PackageResource));
  }

  /** Whether `url` names a ValueSet known here (and no CodeSystem). */
  isValueSet(url: string): boolean {
    return this.valueSets.has(url) && !this.codeSystems.has(url);
  }

  /**
   * The version of a code system known here, if it is known and declares one: HL7 Terminology's
   * (see {@link withVersions}) before the R4 core's. None for v2 tables, whose versions the HL7
   * validator does not hold against a document.
   */
  codeSystemVersion(url: string): string | undefined {
    if (url.includes('/CodeSystem/v2-')) return undefined;
    return this.versions.get(url) ?? this.codeSystems.get(url)?.version;
  }

  /** Versions of code systems that replace the ones of the definitions (HL7 Terminology's). */
  withVersions(versions: Record<string, string>): this {
    for (const [url, version] of Object.entries(versions)) this.versions.set(url, version);
    return this;
  }

  /** Whether a CodeSystem with this canonical is known here. */
  knowsCodeSystem(url: string): boolean {
    return this.codeSystems.has(url);
  }

  /** The codes of a value set, or undefined when it cannot be expanded locally. */
  expand(canonical: string): Expansion | undefined {
    const url = canonicalUrl(canonical);
    if (!this.expansions.has(url)) {
      this.expansions.set(url, null); // guards against value sets that include themselves
      this.expansions.set(url, this.compute(url) ?? null);
    }
    return this.expansions.get(url) ?? undefined;
  }

  private compute(url: string): Expansion | undefined {
    const vs = this.valueSets.get(url);
    if (!vs) return undefined;
    const result: Expansion = { codings: new Set(), codes: new Set() };
    const add = (system: string, code: string): void => {
      result.codings.add(`${system}|${code}`);
      result.codes.add(code);
    };
    if (!vs.compose && vs.expansion?.contains) {
      for (const c of vs.expansion.contains) if (c.system && c.code) add(c.system, c.code);
      return result;
    }
    if (!vs.compose) return undefined;
    for (const include of vs.compose.include) {
      const part = this.component(include);
      if (!part) return undefined;
      for (const coding of part) add(coding.slice(0, coding.indexOf('|')), coding.slice(coding.indexOf('|') + 1));
    }
    for (const exclude of vs.compose.exclude ?? []) {
      const part = this.component(exclude);
      if (!part) return undefined;
      for (const coding of part) result.codings.delete(coding);
    }
    result.codes = new Set([...result.codings].map((c) => c.slice(c.indexOf('|') + 1)));
    return result;
  }

  /**
   * The codes of a complete local code system that meet hierarchy filters on `concept` (`is-a`,
   * `descendent-of`, `is-not-a`, `=`, `in`): the hierarchy is the nesting of concepts. Any other
   * filter, or a code system not shipped complete, cannot be expanded here.
   */
  private filtered(system: string, filters: NonNullable<ConceptSetComponent['filter']>): Set<string> | undefined {
    const cs = this.codeSystems.get(system);
    if (!cs || (cs.content !== undefined && cs.content !== 'complete') || !cs.concept) return undefined;
    const all: { code: string; ancestors: string[] }[] = [];
    const walk = (concepts: CompactConcept[], ancestors: string[]): void => {
      for (const c of concepts) {
        all.push({ code: c.code, ancestors });
        if (c.concept) walk(c.concept, [...ancestors, c.code]);
      }
    };
    walk(cs.concept, []);
    let codes = all;
    for (const f of filters) {
      if ((f.property !== 'concept' && f.property !== 'code') || typeof f.value !== 'string') return undefined;
      const value = f.value;
      const values = value.split(',');
      switch (f.op) {
        case 'is-a':
          codes = codes.filter((c) => c.code === value || c.ancestors.includes(value));
          break;
        case 'descendent-of':
          codes = codes.filter((c) => c.ancestors.includes(value));
          break;
        case 'is-not-a':
          codes = codes.filter((c) => c.code !== value && !c.ancestors.includes(value));
          break;
        case '=':
          codes = codes.filter((c) => c.code === value);
          break;
        case 'in':
          codes = codes.filter((c) => values.includes(c.code));
          break;
        default:
          return undefined;
      }
    }
    return new Set(codes.map((c) => `${system}|${c.code}`));
  }

  private component(part: ConceptSetComponent): Set<string> | undefined {
    let codings: Set<string> | undefined;
    if (part.filter && part.filter.length > 0) {
      if (!part.system) return undefined;
      codings = this.filtered(part.system, part.filter);
      if (!codings) return undefined;
    } else if (part.system) {
      codings = new Set();
      if (part.concept) {
        for (const c of part.concept) codings.add(`${part.system}|${c.code}`);
      } else {
        const cs = this.codeSystems.get(part.system);
        if (!cs || (cs.content !== undefined && cs.content !== 'complete') || !cs.concept) return undefined;
        const walk = (concepts: CompactConcept[]): void => {
          for (const c of concepts) {
            codings!.add(`${part.system}|${c.code}`);
            if (c.concept) walk(c.concept);
          }
        };
        walk(cs.concept);
      }
    }
    for (const imported of part.valueSet ?? []) {
      const other = this.expand(imported);
      if (!other) return undefined;
      codings = codings ? new Set([...codings].filter((c) => other.codings.has(c))) : new Set(other.codings);
    }
    return codings;
  }
}
