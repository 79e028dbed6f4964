import type { ParsedObject } from '../fhir/resources.js';

/**
 * Invariants made of existence tests, such as obs-6 `dataAbsentReason.empty() or value.empty()` or
 * ait-1 `verificationStatus.coding.where(system = '…' and code = 'entered-in-error').exists() or
 * clinicalStatus.exists()`: a path, optionally filtered by `where()` on equalities with string
 * literals, then `exists()` or `empty()`, optionally `.not()`; joined by `and`, `or`, `implies`
 * and parentheses. They are most of the invariants a summary meets, and FHIRPath spends 10–25 µs
 * on each; compiled here into member tests they cost a small fraction of that. Anything else is
 * left to FHIRPath. Paths are resolved with the R4 model FHIRPath uses (choice types such as `value` →
 * `valueQuantity`, element types), so the answers are FHIRPath's; a test compares them on every
 * official example and every mutated one.
 */


/** What the FHIRPath R4 model says about element paths (`fhirpath/fhir-context/r4`). */
export interface PathModel {
  choiceTypePaths: Record<string, string[]>;
  path2Type: Record<string, string>;
  pathsDefinedElsewhere: Record<string, string>;
}

/**
 * A compiled invariant: whether it holds for the element's JSON value, or undefined when the data
 * takes a shape the member tests do not answer for (then FHIRPath does).
 */
export type ExistenceCheck = (value: ParsedObject) => boolean | undefined;

/** Whether an item passes a `where()`: true, false, or undefined (ask FHIRPath). */
type Criterion = Test;

/** Thrown inside the parser for anything outside the supported subset. */
class Unsupported extends Error {}

/** An existence check or a `where()` criterion: the same shape. */
type Test = ExistenceCheck;

/**
 * FHIRPath's `and` and `or` over tests whose undefined means "FHIRPath's to say": a false (for
 * `and`) or true (for `or`) side decides whatever the other is, as in FHIRPath's three-valued
 * logic; otherwise an undefined side leaves the answer to FHIRPath.
 */
const JOIN: Record<'and' | 'or', (l: Test, r: Test) => Test> = {
  and: (l, r) => (v) => {
    const a = l(v);
    if (a === false) return false;
    const b = r(v);
    return b === false ? false : a === undefined || b === undefined ? undefined : true;
  },
  or: (l, r) => (v) => {
    const a = l(v);
    if (a === true) return true;
    const b = r(v);
    return b === true ? true : a === undefined || b === undefined ? undefined : false;
  },
};

/** Element type context of a path: a type name (`HumanName`) or a backbone path (`Observation.component`). */
function contextOf(path: string, model: PathModel): string | undefined {
  const elsewhere = model.pathsDefinedElsewhere[path];
  if (elsewhere !== undefined) return elsewhere;
  const type = model.path2Type[path];
  if (type === undefined) return path.includes('.') ? undefined : path; // a resource or type name
  if (type === 'BackboneElement' || type === 'Element') return path;
  return /^[A-Z]/.test(type) && !type.startsWith('System.') ? type : undefined;
}

function isPrimitiveType(type: string | undefined): boolean {
  return type !== undefined && (/^[a-z]/.test(type) || type.startsWith('System.'));
}

class Parser {
  private at = 0;

  constructor(
    private readonly text: string,
    private readonly model: PathModel,
  ) {}

  /** The whole expression, evaluated at an element of type context `base`. */
  parse(base: string): ExistenceCheck {
    const check = this.implies(base);
    this.space();
    if (this.at !== this.text.length) throw new Unsupported();
    return check;
  }

  private space(): void {
    while (this.at < this.text.length && /\s/.test(this.text[this.at]!)) this.at++;
  }

  private keyword(word: string): boolean {
    this.space();
    if (!this.text.startsWith(word, this.at) || /[A-Za-z0-9]/.test(this.text[this.at + word.length] ?? '')) return false;
    this.at += word.length;
    return true;
  }

  private literal(s: string): boolean {
    this.space();
    if (!this.text.startsWith(s, this.at)) return false;
    this.at += s.length;
    return true;
  }

  private identifier(): string {
    this.space();
    const m = /^[a-z][A-Za-z0-9]*/.exec(this.text.slice(this.at));
    if (!m) throw new Unsupported();
    this.at += m[0].length;
    return m[0];
  }

  private implies(base: string): ExistenceCheck {
    const left = this.or(base);
    if (!this.keyword('implies')) return left;
    const right = this.or(base);
    return (v) => {
      const l = left(v);
      if (l === false) return true;
      const r = right(v);
      return l === undefined || r === undefined ? undefined : r;
    };
  }

  /** `operand (word operand)*`, joined left to right. */
  private chain(word: 'and' | 'or', operand: () => Test): Test {
    let test = operand();
    while (this.keyword(word)) test = JOIN[word](test, operand());
    return test;
  }

  /** `( inner )` when the next token opens a parenthesis; undefined otherwise. */
  private group(inner: () => Test): Test | undefined {
    if (!this.literal('(')) return undefined;
    const test = inner();
    if (!this.literal(')')) throw new Unsupported();
    return test;
  }

  private or(base: string): ExistenceCheck {
    return this.chain('or', () => this.chain('and', () => this.term(base)));
  }

  private term(base: string): ExistenceCheck {
    const grouped = this.group(() => this.implies(base));
    if (grouped) return grouped;
    // path ('.' segment)* ['.where(' criteria ')'] '.exists()' | '.empty()' ['.not()']
    const steps: string[][] = [];
    let context: string | undefined = base;
    let filter: Criterion | undefined;
    let test: 'exists' | 'empty' | undefined;
    for (let first = true; test === undefined; first = false) {
      if (!first && !this.literal('.')) throw new Unsupported();
      if (!first && this.keyword('exists')) test = 'exists';
      else if (!first && this.keyword('empty')) test = 'empty';
      else if (!first && this.keyword('where')) {
        if (filter || !context || !this.literal('(')) throw new Unsupported();
        filter = this.criteria(context);
        if (!this.literal(')')) throw new Unsupported();
        continue;
      } else {
        if (filter || !context) throw new Unsupported(); // nothing after where(), nor inside a choice or primitive
        const segment = this.identifier();
        const full = `${context}.${segment}`;
        const choices = this.model.choiceTypePaths[full];
        if (choices) {
          steps.push(choices.map((t) => segment + t));
          context = undefined; // what follows depends on the type taken
        } else {
          if (this.model.path2Type[full] === undefined && this.model.pathsDefinedElsewhere[full] === undefined) throw new Unsupported();
          steps.push([segment]);
          context = contextOf(full, this.model);
        }
        continue;
      }
      if (!this.literal('()')) throw new Unsupported();
    }
    if (steps.length === 0) throw new Unsupported();
    const negated = this.literal('.not()');
    const wanted = (test === 'exists') !== negated;
    const last = steps[steps.length - 1]!;
    const lastCompanions = last.map(companion);
    return (value) => {
      // One step without where() (`dataAbsentReason.empty()`, `value.exists()`: most terms): the
      // members are read directly, no list of nodes built.
      const found = steps.length === 1 && !filter ? holdsAny(value, last, lastCompanions) : exists(value, steps, filter);
      return found === undefined ? undefined : found === wanted;
    };
  }

  /** `member = 'literal'` joined by and/or and parentheses, on items of type context `context`. */
  private criteria(context: string): Criterion {
    return this.chain('or', () => this.chain('and', () => this.criterion(context)));
  }

  private criterion(context: string): Criterion {
    const grouped = this.group(() => this.criteria(context));
    if (grouped) return grouped;
    const member = this.identifier();
    if (!isPrimitiveType(this.model.path2Type[`${context}.${member}`])) throw new Unsupported();
    if (!this.literal('=')) throw new Unsupported();
    this.space();
    const m = /^'([^'\\]*)'/.exec(this.text.slice(this.at));
    if (!m) throw new Unsupported();
    this.at += m[0].length;
    const expected = m[1];
    // A missing member makes `=` empty, which where() takes as false; and/or here never negate,
    // so false stands for empty exactly. A repeated member is FHIRPath's to judge (undefined).
    return (item) => {
      const actual = item[member];
      if (Array.isArray(actual)) return undefined;
      return actual === expected;
    };
  }
}

const companions = new Map<string, string>();

/** `_name`, the member holding a primitive's id and extensions, built once per name. */
function companion(key: string): string {
  let c = companions.get(key);
  if (c === undefined) {
    c = `_${key}`;
    companions.set(key, c);
  }
  return c;
}

/** Adds the present items of `member` to `out`. */
function collect(member: unknown, out: unknown[]): void {
  if (member === undefined) return;
  if (Array.isArray(member)) {
    for (const item of member) if (item !== null && item !== undefined) out.push(item);
  } else if (member !== null) {
    out.push(member);
  }
}

/** Whether `member` holds anything (a value, or an array with a non-null item). */
function holds(member: unknown): boolean {
  if (member === undefined || member === null) return false;
  if (!Array.isArray(member)) return true;
  for (const item of member) if (item !== null && item !== undefined) return true;
  return false;
}

/** Whether `value` holds anything under one of `keys` or their `_` companions (given in the same order). */
function holdsAny(value: ParsedObject, keys: string[], companions: string[]): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  for (let i = 0; i < keys.length; i++) if (holds(value[keys[i]!]) || holds(value[companions[i]!])) return true;
  return false;
}

/**
 * Whether anything is found along `steps` (a primitive given only by its `_name` extension
 * counts). Called for nearly every element validated: loops without iterators or temporary arrays.
 */
function exists(value: ParsedObject, steps: string[][], filter: Criterion | undefined): boolean | undefined {
  let nodes: unknown[] = [value];
  const lastStep = steps.length - 1;
  for (let i = 0; i <= lastStep; i++) {
    const keys = steps[i]!;
    const answerHere = i === lastStep && !filter;
    const next: unknown[] = [];
    for (const node of nodes) {
      if (node === null || typeof node !== 'object' || Array.isArray(node)) continue;
      const object = node as ParsedObject;
      for (const key of keys) {
        if (answerHere) {
          // Only whether something is there matters: stop at the first.
          if (holds(object[key]) || holds(object[companion(key)])) return true;
          continue;
        }
        collect(object[key], next);
      }
    }
    if (answerHere) return false;
    nodes = next;
  }
  if (!filter) return nodes.length > 0;
  let unsure = false;
  for (const node of nodes) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
    const passes = filter(node as ParsedObject);
    if (passes === true) return true;
    if (passes === undefined) unsure = true;
  }
  return unsure ? undefined : false;
}

/** The invariant compiled to member tests, or undefined when it is not of this kind. */
export function compileExistenceInvariant(expression: string, basePath: string, model: PathModel): ExistenceCheck | undefined {
  const base = contextOf(basePath, model);
  if (base === undefined) return undefined;
  try {
    return new Parser(expression, model).parse(base);
  } catch (error) {
    if (error instanceof Unsupported) return undefined;
    throw error;
  }
}
