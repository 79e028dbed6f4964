import { isJsonObject, type ParsedObject } from '../fhir/resources.js';
import { canonicalUrl } from './definitions.js';
import type { ElementNode } from './element-tree.js';
import { BCP_47, LANGUAGE_VALUE_SETS, languageTagProblem } from './identifier-formats.js';
import { notInValueSet, oldIpsCodeSystem, systemIsValueSet, unexpandableValueSet, unknownCodeSystemVersion, valueProblem } from './messages.js';
import type { Expansion, Terminology } from './terminology.js';
import type { Run } from './validation-run.js';

/** An element's binding: strength and value set. */
export type Binding = NonNullable<ElementNode['binding']>;

const OLD_IPS_CODE_SYSTEMS = 'http://hl7.org/fhir/uv/ips/CodeSystem/';

/** What is known of a binding: whether its value set is one of the language ones, and its expansion (null: none here; undefined: not yet asked). */
interface BindingPlan {
  language: boolean;
  expansion: Expansion | null | undefined;
}

/** A Coding with a system and a code (what a value set can be asked about). */
function isKeyed(coding: unknown): coding is ParsedObject {
  return isJsonObject(coding) && typeof coding['system'] === 'string' && typeof coding['code'] === 'string';
}

/** Whether a Coding with a system and a code is in the expansion (`index`: its codings by system). */
function holds(expansion: Expansion, index: Map<string, Set<string>>, coding: ParsedObject): boolean {
  const system = coding['system'] as string;
  const code = coding['code'] as string;
  // A system with a `|` could split elsewhere in `system|code`: asked as the expansion holds it.
  return system.includes('|') ? expansion.codings.has(`${system}|${code}`) : index.get(system)?.has(code) === true;
}

/**
 * What is checked against the terminology loaded here (terminology.ts), without a terminology
 * server: codes against the value sets their elements are bound to, and every Coding's system
 * and version against the code systems known.
 */
export class BindingRules {
  /** Per binding: what is known of its value set, worked out on first use. */
  private readonly plans = new WeakMap<object, BindingPlan>();
  /** Per expansion: its codings by system, so that a Coding is looked up without building `system|code`. */
  private readonly bySystem = new WeakMap<Expansion, Map<string, Set<string>>>();

  constructor(private readonly terminology: Terminology | undefined) {}

  /**
   * Bindings, when the value set can be expanded from the packages: required ones are errors,
   * extensible and preferred ones warnings. A value set that cannot be expanded here (filters,
   * code systems not shipped) is said once per validation as information; nothing is fetched.
   */
  checkBinding(value: unknown, binding: Binding, type: string, path: string, run: Run): void {
    if (!this.terminology || !binding.valueSet || binding.strength === 'example') return;
    // A Coding is asked about as itself (no array built for it); a CodeableConcept by its codings.
    const single = type === 'Coding';
    const codings = type === 'CodeableConcept' && isJsonObject(value) && Array.isArray(value['coding']) ? (value['coding'] as unknown[]) : undefined;
    if (!(type === 'code' && typeof value === 'string') && !single && codings === undefined) return;
    if (type === 'code' && typeof value === 'string' && this.planOf(binding).language) {
      const problem = languageTagProblem(value);
      if (problem) {
        run.issues.push(valueProblem(path, problem));
        return;
      }
    }
    let keyed = 0;
    if (single || codings !== undefined) {
      if (single) keyed = isKeyed(value) ? 1 : 0;
      else for (const c of codings!) if (isKeyed(c)) keyed++;
      if (keyed === 0 && binding.strength !== 'required') return; // text only is allowed
    }
    const expansion = this.expansionOf(binding);
    if (!expansion) {
      const url = canonicalUrl(binding.valueSet);
      if (!run.unexpandable.has(url)) {
        run.unexpandable.add(url);
        run.issues.push(unexpandableValueSet(path, url));
      }
      return;
    }
    const inSet = single
      ? keyed > 0 && holds(expansion, this.indexOf(expansion), value as ParsedObject)
      : codings === undefined
        ? expansion.codes.has(value as string)
        : keyed > 0 && this.holdsAny(expansion, codings);
    if (!inSet) run.issues.push(notInValueSet(path, binding.strength, canonicalUrl(binding.valueSet)));
  }

  /**
   * Whether a CodeableConcept can meet a required binding: false only when the value set expands
   * here and the concept has codings, none of them in it (what checkBinding reports as an error).
   */
  mayBeIn(concept: unknown, binding: Binding): boolean {
    if (!this.terminology || !binding.valueSet || !isJsonObject(concept) || !Array.isArray(concept['coding'])) return true;
    const codings = concept['coding'] as unknown[];
    if (!codings.some(isKeyed)) return true;
    const expansion = this.expansionOf(binding);
    return !expansion || this.holdsAny(expansion, codings);
  }

  /** Whether one of the Codings (with a system and a code) is in the expansion. */
  private holdsAny(expansion: Expansion, codings: readonly unknown[]): boolean {
    const index = this.indexOf(expansion);
    for (const c of codings) if (isKeyed(c) && holds(expansion, index, c)) return true;
    return false;
  }

  /** An expansion's codings by system, made on first use. */
  private indexOf(expansion: Expansion): Map<string, Set<string>> {
    let index = this.bySystem.get(expansion);
    if (!index) {
      index = new Map();
      for (const coding of expansion.codings) {
        const bar = coding.indexOf('|');
        const system = coding.slice(0, bar);
        let codes = index.get(system);
        if (!codes) {
          codes = new Set();
          index.set(system, codes);
        }
        codes.add(coding.slice(bar + 1));
      }
      this.bySystem.set(expansion, index);
    }
    return index;
  }

  /**
   * What the HL7 validator checks of every Coding without a terminology server: its system is a
   * code system (not a ValueSet), of a version that exists when the code system is known here,
   * not one of the IPS 1.x code systems that 2.0.0 no longer has, and a BCP-47 code in urn:ietf:bcp:47.
   */
  checkCoding(coding: ParsedObject, path: string, run: Run): void {
    const system = coding['system'];
    if (typeof system !== 'string') return;
    if (this.terminology?.isValueSet(system) || (system.includes('/ValueSet/') && !this.terminology?.knowsCodeSystem(system))) {
      run.issues.push(systemIsValueSet(`${path}.system`, system));
      return;
    }
    if (system.startsWith(OLD_IPS_CODE_SYSTEMS) && !this.terminology?.knowsCodeSystem(system)) {
      run.issues.push(oldIpsCodeSystem(`${path}.system`, system));
      return;
    }
    const version = coding['version'];
    if (typeof version === 'string') {
      const known = this.terminology?.codeSystemVersion(system);
      if (known !== undefined && known !== version) run.issues.push(unknownCodeSystemVersion(`${path}.version`, system, version, known));
    }
    if (system === BCP_47 && typeof coding['code'] === 'string') {
      const problem = languageTagProblem(coding['code']);
      if (problem) run.issues.push(valueProblem(`${path}.code`, problem));
    }
  }

  /** The expansion of a binding's value set (undefined when it cannot be expanded), per binding. */
  private expansionOf(binding: Binding): Expansion | undefined {
    const plan = this.planOf(binding);
    if (plan.expansion === undefined) plan.expansion = (binding.valueSet ? this.terminology?.expand(binding.valueSet) : undefined) ?? null;
    return plan.expansion ?? undefined;
  }

  /** What is known of a binding's value set (one lookup per element checked). */
  private planOf(binding: Binding): BindingPlan {
    let plan = this.plans.get(binding);
    if (plan === undefined) {
      const valueSet = binding.valueSet ?? '';
      plan = { language: valueSet.includes('languages') && LANGUAGE_VALUE_SETS.has(canonicalUrl(valueSet)), expansion: undefined };
      this.plans.set(binding, plan);
    }
    return plan;
  }

}
