import type { ElementDefinitionBinding, ElementDefinitionConstraint, ElementDefinitionSlicing, ElementDefinitionSlicingDiscriminator } from 'fhir/r4.js';
import type { CompactElementDefinition, CompactStructureDefinition } from './definitions.js';

/** A type an element may take. */
export interface TypeRef {
  /** FHIR type name (`string`, `HumanName`, `Resource`); FHIRPath system types mapped back. */
  code: string;
  profiles: string[];
  targetProfiles: string[];
}

/** An invariant to check (an element's constraint that has an expression), compiled lazily. */
export type Invariant = Required<Pick<ElementDefinitionConstraint, 'key' | 'severity' | 'human' | 'expression'>>;

/** One element of a profile, with its children and slices: a compiled snapshot. */
export interface ElementNode {
  id: string;
  path: string;
  /** JSON name: last path segment, without `[x]`. */
  name: string;
  /** `.name`, what the element adds to its parent's path (FHIRPath) in the validator's walk. */
  dottedName: string;
  isChoice: boolean;
  /** For a choice: each JSON name (`valueQuantity`) with its type (`Quantity`). */
  choiceKeys: Map<string, string>;
  min: number;
  max: number;
  /**
   * `max` as a small integer (`*`: 2^30 - 1, more items than a parsed array can hold) for the
   * walk's count check: a field that is sometimes Infinity is a boxed double, read at each member.
   */
  maxCount: number;
  /** Whether the element repeats in the base definition: decides JSON array or single value. */
  repeats: boolean;
  types: TypeRef[];
  fixed?: unknown;
  pattern?: unknown;
  invariants: Invariant[];
  binding?: Pick<ElementDefinitionBinding, 'strength' | 'valueSet'>;
  sliceName?: string;
  slicing?: {
    discriminators: Pick<ElementDefinitionSlicingDiscriminator, 'type' | 'path'>[];
    rules: ElementDefinitionSlicing['rules'];
    /** The discriminators other than by profile, and the first by type (not through resolve()): worked out once for slicing.ts. */
    structural: Pick<ElementDefinitionSlicingDiscriminator, 'type' | 'path'>[];
    byType: Pick<ElementDefinitionSlicingDiscriminator, 'type' | 'path'> | undefined;
  };
  slices: ElementNode[];
  children: ElementNode[];
  /** `#Path` of an element whose definition this one reuses (e.g. Composition.section.section). */
  contentReference?: string;
  /** Scratch of the validator: which object's members it was last found among, and where. */
  stamp: number;
  slot: number;
  /** The type of the element when it has exactly one (most elements), else undefined. */
  typeName: string | undefined;
  /**
   * Kept by the validator on the node (a property read is cheaper than a WeakMap lookup): how an
   * object of the node's own type is walked, the same for other types (choices), its invariant plans.
   */
  shape: ObjectShape | undefined;
  shapes: Map<string | undefined, ObjectShape> | undefined;
  plans: unknown[] | undefined;
  /** Kept by slicing on a slice's node: the element at each discriminator path (null: none). */
  atPath: Map<string, ElementNode | null> | undefined;
}

/** How the validator walks an object of one type at one element, worked out on its first visit. */
export interface ObjectShape {
  /** The type is a resource's: the object is validated as a resource of its own. */
  resource: boolean;
  /** The elements that define its members (the snapshot's, or its type's), and the tree they belong to. */
  children: ElementNode[];
  root: ElementNode;
  /** JSON member name → element; the children with a minimum cardinality. */
  members: Map<string, ElementNode>;
  required: ElementNode[];
}

/** The largest small integer (Smi): no JSON array parsed here has as many items. */
const UNBOUNDED_COUNT = 2 ** 30 - 1;

const FHIR_TYPE_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type';
const SYSTEM_TYPES: Record<string, string> = {
  'http://hl7.org/fhirpath/System.String': 'string',
  'http://hl7.org/fhirpath/System.Boolean': 'boolean',
  'http://hl7.org/fhirpath/System.Integer': 'integer',
  'http://hl7.org/fhirpath/System.Decimal': 'decimal',
  'http://hl7.org/fhirpath/System.Date': 'date',
  'http://hl7.org/fhirpath/System.DateTime': 'dateTime',
  'http://hl7.org/fhirpath/System.Time': 'time',
};

/**
 * The same string, internalized (V8 keeps one copy of each property name): names and types read
 * from the definitions' JSON are not, while a parsed document's member names are, so a lookup or
 * comparison of one against the other reads both strings instead of comparing two pointers.
 */
function interned(text: string): string {
  return Object.keys({ [text]: 0 })[0]!;
}

function typeCode(t: NonNullable<CompactElementDefinition['type']>[number]): string {
  const declared = t.extension?.find((e) => e.url === FHIR_TYPE_EXTENSION)?.valueUrl;
  return interned(declared ?? SYSTEM_TYPES[t.code] ?? t.code);
}

function fixedOrPattern(e: CompactElementDefinition, prefix: 'fixed' | 'pattern'): [string, unknown] | undefined {
  // Object.keys, not entries: this runs for every element of every compiled tree (no pair arrays).
  for (const key of Object.keys(e)) if (key.startsWith(prefix) && key.length > prefix.length) return [key.slice(prefix.length), e[key as keyof CompactElementDefinition]];
  return undefined;
}

function slicingOf(slicing: NonNullable<CompactElementDefinition['slicing']>): NonNullable<ElementNode['slicing']> {
  const discriminators = slicing.discriminator ?? [];
  return {
    discriminators,
    rules: slicing.rules ?? 'open',
    structural: discriminators.filter((d) => d.type !== 'profile'),
    byType: discriminators.find((d) => d.type === 'type' && !d.path.includes('resolve()')),
  };
}

function toNode(e: CompactElementDefinition): ElementNode {
  const last = e.path.slice(e.path.lastIndexOf('.') + 1);
  const isChoice = last.endsWith('[x]');
  const fixed = fixedOrPattern(e, 'fixed');
  const pattern = fixedOrPattern(e, 'pattern');
  const node: ElementNode = {
    id: e.id,
    path: e.path,
    name: interned(isChoice ? last.slice(0, -3) : last),
    dottedName: `.${isChoice ? last.slice(0, -3) : last}`,
    isChoice,
    choiceKeys: new Map(),
    min: e.min ?? 0,
    max: e.max === undefined || e.max === '*' ? Number.POSITIVE_INFINITY : Number(e.max),
    maxCount: e.max === undefined || e.max === '*' ? UNBOUNDED_COUNT : Math.min(Number(e.max), UNBOUNDED_COUNT),
    repeats: (e.base?.max ?? e.max) !== '1' && (e.base?.max ?? e.max) !== '0',
    types: (e.type ?? []).map((t) => ({ code: typeCode(t), profiles: t.profile ?? [], targetProfiles: t.targetProfile ?? [] })),
    invariants: (e.constraint ?? [])
      .filter((c) => c.expression !== undefined)
      .map((c) => ({ key: c.key, severity: c.severity, human: c.human, expression: c.expression! })),
    slices: [],
    children: [],
    // Every node has every member, in one order: one hidden class, so the validator's property
    // reads stay monomorphic (optional members added case by case made them megamorphic).
    fixed: fixed?.[1],
    pattern: pattern?.[1],
    binding: e.binding,
    sliceName: e.sliceName,
    contentReference: e.contentReference,
    slicing: e.slicing ? slicingOf(e.slicing) : undefined,
    stamp: 0,
    slot: 0,
    typeName: e.type?.length === 1 ? typeCode(e.type[0]!) : undefined,
    shape: undefined,
    shapes: undefined,
    plans: undefined,
    atPath: undefined,
  };
  if (isChoice) for (const t of node.types) node.choiceKeys.set(interned(node.name + t.code.charAt(0).toUpperCase() + t.code.slice(1)), t.code);
  return node;
}

/**
 * Builds the element tree of a StructureDefinition's snapshot. Element ids carry slice names
 * (`Bundle.entry:composition.resource`), so each element hangs under its parent id, and an
 * element whose last id segment names a slice hangs among the slices of the sliced element.
 */
export function compileElementTree(sd: CompactStructureDefinition): ElementNode {
  const elements = sd.snapshot?.element ?? [];
  const byId = new Map<string, ElementNode>();
  let root: ElementNode | undefined;
  for (const e of elements) {
    const node = toNode(e);
    byId.set(e.id, node);
    const dot = e.id.lastIndexOf('.');
    if (dot < 0) {
      root = node;
      continue;
    }
    const lastSegment = e.id.slice(dot + 1);
    const colon = lastSegment.indexOf(':');
    if (colon >= 0) {
      const sliced = byId.get(`${e.id.slice(0, dot + 1)}${lastSegment.slice(0, colon)}`);
      // a re-slice (`a:b/c`) or a slice whose base is missing is left out rather than guessed
      if (sliced && !lastSegment.includes('/')) sliced.slices.push(node);
      continue;
    }
    byId.get(e.id.slice(0, dot))?.children.push(node);
  }
  if (!root) throw new Error(`StructureDefinition ${sd.url} has no snapshot root`);
  return root;
}

/** The node with `path` (no slices) in a tree, for contentReference. */
export function findByPath(root: ElementNode, path: string): ElementNode | undefined {
  if (root.path === path) return root;
  for (const child of root.children) {
    if (path === child.path || path.startsWith(`${child.path}.`)) {
      const found = findByPath(child, path);
      if (found) return found;
    }
  }
  return undefined;
}

const typeProfiles = new WeakMap<ElementNode, [string[], string[]]>();

/** The profiles (or, with `targets`, the target profiles of references) of an element's types, computed once per element. */
export function profilesOf(element: ElementNode, targets: boolean): string[] {
  let both = typeProfiles.get(element);
  if (!both) {
    both = [element.types.flatMap((t) => t.profiles), element.types.flatMap((t) => t.targetProfiles)];
    typeProfiles.set(element, both);
  }
  return both[targets ? 1 : 0];
}
