import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadBaseDefinitions, type BaseDefinitions } from './base-definitions.js';
import type { CompactElementDefinition, CompactStructureDefinition } from './definition-shapes.js';

export type { CompactElementDefinition, CompactStructureDefinition };

const BASE = 'http://hl7.org/fhir/StructureDefinition/';

/** `url|version` → `url`. */
export function canonicalUrl(canonical: string): string {
  const bar = canonical.indexOf('|');
  return bar < 0 ? canonical : canonical.slice(0, bar);
}

/**
 * Every StructureDefinition the node knows, by canonical URL: the FHIR R4 base (types and
 * resources) and the packages under `profiles/`. Loaded once at start-up.
 */
export class DefinitionRegistry {
  private readonly byUrl = new Map<string, CompactStructureDefinition>();
  private readonly bases = new Map<string, CompactStructureDefinition | undefined>();

  /**
   * Adds definitions; later ones with the same URL replace earlier ones. A definition with only a
   * differential gets its snapshot from its base (which must be known by then).
   */
  add(definitions: Iterable<CompactStructureDefinition>): this {
    this.bases.clear();
    const pending: CompactStructureDefinition[] = [];
    for (const sd of definitions) {
      if (sd.snapshot?.element?.length) this.byUrl.set(sd.url, sd);
      else if (sd.differential?.element?.length && sd.baseDefinition) pending.push(sd);
    }
    // Bases first: a differential may build on another one added in the same call.
    for (let round = 0; pending.length > 0; round++) {
      const ready = pending.filter((sd) => this.get(sd.baseDefinition!));
      if (ready.length === 0 || round > 20) {
        throw new Error(`cannot build snapshots: unknown base of ${pending.map((sd) => `${sd.url} (${sd.baseDefinition})`).join(', ')}`);
      }
      for (const sd of ready) {
        this.byUrl.set(sd.url, this.derive(sd));
        pending.splice(pending.indexOf(sd), 1);
      }
    }
    return this;
  }

  /**
   * A snapshot from the base snapshot and a differential that constrains existing elements
   * (cardinality, types and their profiles, fixed and pattern values, added constraints). New
   * slices or elements are refused at start-up rather than guessed.
   */
  private derive(sd: CompactStructureDefinition): CompactStructureDefinition {
    const base = this.get(sd.baseDefinition!)!;
    const elements = structuredClone(base.snapshot!.element);
    const byId = new Map(elements.map((e) => [e.id, e]));
    for (const change of sd.differential!.element) {
      const target = byId.get(change.id);
      if (!target) throw new Error(`${sd.url}: differential element ${change.id} is not in the snapshot of ${base.url}`);
      for (const [key, value] of Object.entries(change)) {
        if (key === 'id' || key === 'path') continue;
        if (key === 'constraint') target.constraint = [...(target.constraint ?? []), ...(value as NonNullable<CompactElementDefinition['constraint']>)];
        else Object.assign(target, { [key]: value });
      }
    }
    return { ...sd, snapshot: { element: elements } };
  }

  /** The definition of a canonical URL (any `|version` ignored), if known. */
  get(canonical: string): CompactStructureDefinition | undefined {
    return this.byUrl.get(canonicalUrl(canonical));
  }

  /** The base definition of a FHIR type or resource (`Patient`, `HumanName`, `string`). */
  base(type: string): CompactStructureDefinition | undefined {
    // Asked for nearly every element validated: remembered by type, without building the URL.
    if (this.bases.has(type)) return this.bases.get(type);
    const sd = this.byUrl.get(BASE + type);
    this.bases.set(type, sd);
    return sd;
  }

  get size(): number {
    return this.byUrl.size;
  }

  /** The FHIR R4 base definitions (see base-definitions.ts). */
  static fhirR4(base: BaseDefinitions = loadBaseDefinitions()): DefinitionRegistry {
    return new DefinitionRegistry().add(base.structureDefinitions);
  }

  /** Adds every `StructureDefinition-*.json` of an unpacked FHIR package folder. */
  addPackage(folder: string): this {
    const files = readdirSync(folder).filter((f) => f.startsWith('StructureDefinition-') && f.endsWith('.json'));
    return this.add(files.map((f) => JSON.parse(readFileSync(join(folder, f), 'utf8')) as CompactStructureDefinition));
  }
}
