import { createRequire } from 'node:module';
import type { ParsedObject } from '../fhir/resources.js';
import { compileExistenceInvariant, type ExistenceCheck, type PathModel } from './existence-invariants.js';
import type { ElementNode, Invariant } from './element-tree.js';
import { invariantFails } from './messages.js';
import { NATIVE_INVARIANTS } from './native-invariants.js';
import { rememberedOf, type Run } from './validation-run.js';

type Evaluator = (value: unknown, env: Record<string, unknown>) => unknown[];

interface FhirPathEngine {
  compile(path: { base: string; expression: string }, model: unknown, options: { traceFn: () => undefined }): unknown;
}

const load = createRequire(import.meta.url);
let model: unknown;
let engine: FhirPathEngine | undefined;

/**
 * FHIRPath's R4 model (element types, choice paths), loaded on the first invariant compiled: the
 * member tests resolve paths with it (existence-invariants.ts) and FHIRPath evaluates with it.
 */
function r4Model(): PathModel {
  return (model ??= load('fhirpath/fhir-context/r4')) as PathModel;
}

/**
 * HL7's fhirpath, loaded on the first invariant that needs it: with its model, loading it was
 * about 40 % of the validator's construction, and a summary's invariants are nearly all answered
 * natively or by member tests (the all-sections example needs no FHIRPath at all).
 */
function fhirpath(): FhirPathEngine {
  return (engine ??= load('fhirpath') as FhirPathEngine);
}

/** One invariant of one node, with how it is answered: natively, by member tests, or by FHIRPath. */
interface InvariantPlan {
  invariant: Invariant;
  cacheKey: string;
  native: ((value: ParsedObject) => boolean | undefined) | undefined;
  /** Member tests; null when FHIRPath decides; undefined until first needed. */
  existence?: ExistenceCheck | null;
}

/**
 * Checks the invariants (constraints with a FHIRPath expression) of an element: the commonest
 * base ones natively (native-invariants.ts), those made of existence tests by member tests
 * (existence-invariants.ts), the others with HL7's fhirpath and the R4 model, each compiled once.
 */
export class InvariantChecker {
  private readonly invariants = new Map<string, Evaluator | null>();
  /** Invariants compiled to member tests (existence-invariants.ts), or null for FHIRPath's. */
  private readonly existenceChecks = new Map<string, ExistenceCheck | null>();

  /** @param crossCheckInvariants (tests) evaluate member-test answers with FHIRPath too; throw on a difference. */
  constructor(private readonly crossCheckInvariants = false) {}

  /**
   * How each invariant of a node is answered, worked out on the node's first visit: looking the
   * native answer up by expression and building the cache key on every visit cost a fifth of the walk.
   */
  private plansOf(node: ElementNode): InvariantPlan[] {
    let plans = node.plans as InvariantPlan[] | undefined;
    if (!plans) {
      plans = node.invariants
        .filter((invariant) => invariant.key !== 'ele-1') // checked natively: no element is an empty object
        .map((invariant) => ({ invariant, cacheKey: `${node.path}\u0000${invariant.expression}`, native: NATIVE_INVARIANTS[invariant.expression] }));
      node.plans = plans;
    }
    return plans;
  }

  /** Reports each invariant of `node` that `value` (at `path`) breaks. */
  check(value: ParsedObject, node: ElementNode, path: string, run: Run): void {
    const plans = node.invariants.length === 0 ? undefined : this.plansOf(node);
    if (!plans) return;
    for (const plan of plans) {
      const { invariant, cacheKey } = plan;
      const native = plan.native?.(value);
      if (native !== undefined) {
        if (!native) run.issues.push(invariantFails(path, invariant));
        continue;
      }
      if (plan.existence === undefined) plan.existence = this.existenceCheck(invariant, node, cacheKey);
      const answer = plan.existence?.(value);
      if (answer !== undefined) {
        if (this.crossCheckInvariants) this.crossCheck(invariant, node, cacheKey, value, run, answer);
        if (!answer) run.issues.push(invariantFails(path, invariant));
        continue;
      }
      // The same element meets the same invariant whichever profile asks: checked once per run.
      const verdicts = rememberedOf(run.verdicts, value);
      let holds = verdicts.get(cacheKey);
      if (holds === undefined) {
        const evaluate = this.compiled(invariant, node, cacheKey);
        if (!evaluate) continue;
        try {
          const result = evaluate(value, { resource: run.resource, rootResource: run.root });
          holds = !(result.length === 1 && result[0] === false);
        } catch {
          holds = true; // a FHIRPath function the engine lacks (e.g. conformsTo) is not the document's fault
        }
        verdicts.set(cacheKey, holds);
      }
      if (!holds) run.issues.push(invariantFails(path, invariant));
    }
  }

  private existenceCheck(invariant: Invariant, node: ElementNode, cacheKey: string): ExistenceCheck | null {
    let check = this.existenceChecks.get(cacheKey);
    if (check === undefined) {
      check = compileExistenceInvariant(invariant.expression, node.path, r4Model()) ?? null;
      this.existenceChecks.set(cacheKey, check);
    }
    return check;
  }

  private crossCheck(invariant: Invariant, node: ElementNode, cacheKey: string, value: ParsedObject, run: Run, holds: boolean): void {
    const evaluate = this.compiled(invariant, node, cacheKey);
    if (!evaluate) return;
    const result = evaluate(value, { resource: run.resource, rootResource: run.root });
    const expected = !(result.length === 1 && result[0] === false);
    if (expected !== holds) {
      throw new Error(`${invariant.key} (${invariant.expression}) at ${node.path}: FHIRPath says ${expected}, the member tests ${holds}, for ${JSON.stringify(value).slice(0, 300)}`);
    }
  }

  private compiled(invariant: Invariant, node: ElementNode, cacheKey: string): Evaluator | null {
    let evaluate = this.invariants.get(cacheKey);
    if (evaluate === undefined) {
      try {
        evaluate = fhirpath().compile({ base: node.path, expression: invariant.expression }, r4Model(), { traceFn: () => undefined }) as Evaluator;
      } catch {
        evaluate = null;
      }
      this.invariants.set(cacheKey, evaluate);
    }
    return evaluate;
  }
}
