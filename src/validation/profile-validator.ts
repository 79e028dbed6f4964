import { isJsonObject, type ParsedObject } from '../fhir/resources.js';
import { BindingRules } from './bindings.js';
import { canonicalUrl, type CompactStructureDefinition, type DefinitionRegistry } from './definitions.js';
import { anchorTarget, checkDocumentLinks } from './document-links.js';
import { compileElementTree, findByPath, profilesOf, type ElementNode, type ObjectShape } from './element-tree.js';
import { ExtensionRules } from './extensions.js';
import { rfc3986ValueProblem, urnProblem } from './identifier-formats.js';
import { InvariantChecker } from './invariants.js';
import { companionKey, deepEqual, matchesPattern } from './json-values.js';
import * as messages from './messages.js';
import { narrativeFindings } from './narrative.js';
import { primitiveRule, ruleProblem } from './primitives.js';
import { SliceMatcher } from './slicing.js';
import type { Terminology } from './terminology.js';
import { ROOT, startRun, type Run } from './validation-run.js';
import { vitalSignsProfile } from './vital-signs.js';
import type { ValidationIssue } from './validation-issue.js';

export type { ValidationIssue } from './validation-issue.js';

const RESOURCE_TYPES = new Set(['Resource', 'DomainResource']);

const DOTTED = new Map<string, string>();
/** `.name`, made once per member name: a path is its parent's path and this (a choice's; other elements keep theirs). */
function dotted(name: string): string {
  let text = DOTTED.get(name);
  if (text === undefined) {
    text = `.${name}`;
    DOTTED.set(name, text);
  }
  return text;
}

/** `[i]` for the indexes arrays of a document commonly reach, made once. */
const INDEXED = Array.from({ length: 256 }, (_, i) => `[${i}]`);
function indexed(i: number): string {
  return i < INDEXED.length ? INDEXED[i]! : `[${i}]`;
}

/** Options of a {@link ProfileValidator}. */
export interface ValidatorOptions {
  /** (tests) evaluate invariants answered without FHIRPath with FHIRPath too; throw on a difference. */
  crossCheckInvariants?: boolean;
  /** How an extension whose definition is not loaded is reported: `warning` (default) or `error`. */
  unknownExtensions?: 'warning' | 'error';
  /** Canonicals of extensions known without their definitions loaded (the R4 core ones). */
  knownExtensions?: ReadonlySet<string>;
}

/**
 * Validates resources against StructureDefinitions: each profile's snapshot is compiled once into
 * an element tree (element-tree.ts), which this class walks: cardinality, JSON shape, unknown
 * elements, choice types, primitive formats and identifier formats, fixed and pattern values,
 * contained and Bundle entry resources with the profiles they declare (`meta.profile`) and the
 * vital-signs profiles their codes imply, narrative XHTML. It hands each concern to its own
 * module: slicing (slicing.ts), bindings and Codings (bindings.ts), invariants (invariants.ts),
 * unknown extensions (extensions.ts), the wording of findings (messages.ts), and, for a whole
 * document, references, reachability and narrative links (document-links.ts), from what the walk
 * collected. docs/validation.md lists the rules and how they compare with the HL7 validator's.
 */
export class ProfileValidator {
  private readonly trees = new Map<string, ElementNode>();
  private readonly members = new WeakMap<ElementNode[], Map<string, ElementNode>>();
  private readonly required = new WeakMap<ElementNode[], ElementNode[]>();
  private readonly resourceTypes = new Map<string, boolean>();
  /** Stamp of the current validateChildren call (see there). */
  private stamp = 0;
  /**
   * The walk's stack of present members, shared by the nested validateChildren calls (each uses
   * the slots from `top` on, and gives them back): its element, JSON name (or names, for a choice
   * given twice) and value. Three arrays per object walked were a good part of the walk's garbage.
   */
  private readonly foundStack: ElementNode[] = [];
  private readonly keysStack: (string | string[])[] = [];
  private readonly rawStack: unknown[] = [];
  private top = 0;
  private readonly bindings: BindingRules;
  private readonly extensions: ExtensionRules;
  private readonly invariants: InvariantChecker;
  private readonly slicing: SliceMatcher;

  /**
   * @param profileSet fingerprint of the definitions loaded: documents validated under another
   * set are validated again before they leave the node.
   * @param options.crossCheckInvariants (tests) evaluate invariants answered without FHIRPath with
   *   FHIRPath too, and throw if the answers differ.
   */
  constructor(
    private readonly registry: DefinitionRegistry,
    terminology?: Terminology,
    readonly profileSet = 'unversioned',
    options: ValidatorOptions = {},
  ) {
    this.bindings = new BindingRules(terminology);
    this.extensions = new ExtensionRules(registry, options.unknownExtensions ?? 'warning', options.knownExtensions);
    this.invariants = new InvariantChecker(options.crossCheckInvariants ?? false);
    this.slicing = new SliceMatcher(registry, { tree: (sd) => this.tree(sd), issuesAgainst: (resource, sd, run) => this.issuesAgainst(resource, sd, run) }, this.bindings, this.extensions);
  }

  /**
   * Validates a resource, as parsed from JSON, against its base definition and `profile` (or the
   * profiles it declares).
   */
  validate(resource: unknown, profile?: string): ValidationIssue[] {
    if (!isJsonObject(resource)) return [messages.notAnObject('', 'Resource')];
    const run = startRun(resource);
    const type = typeof resource['resourceType'] === 'string' ? resource['resourceType'] : 'Resource';
    this.top = 0;
    try {
      this.validateResource(resource, type, profile ? [profile] : [], run);
    } finally {
      // The stack keeps no part of the document once its validation is over.
      this.rawStack.fill(undefined);
    }
    if (this.isResourceType(type)) for (const issue of checkDocumentLinks(resource, type, run.links, ROOT)) run.issues.push(issue);
    return run.issues;
  }

  /** Whether `type` names a resource (or Resource itself), remembered per type. */
  private isResourceType(type: string): boolean {
    let answer = this.resourceTypes.get(type);
    if (answer === undefined) {
      answer = RESOURCE_TYPES.has(type) || this.registry.base(type)?.kind === 'resource';
      this.resourceTypes.set(type, answer);
    }
    return answer;
  }

  /** Whether `type` is a FHIR resource type. */
  knowsType(type: string): boolean {
    return this.registry.base(type)?.kind === 'resource';
  }

  /** Whether the profile is known. */
  knows(profile: string): boolean {
    return this.registry.get(profile) !== undefined;
  }

  private tree(sd: CompactStructureDefinition): ElementNode {
    let tree = this.trees.get(sd.url);
    if (!tree) {
      tree = compileElementTree(sd);
      this.trees.set(sd.url, tree);
    }
    return tree;
  }

  private validateResource(resource: ParsedObject, path: string, requested: readonly string[], run: Run): void {
    const type = resource['resourceType'];
    const base = typeof type === 'string' ? this.registry.base(type) : undefined;
    if (!base || base.kind !== 'resource') {
      run.issues.push(messages.unknownResourceType(path, type));
      return;
    }
    const meta = resource['meta'];
    const declared = isJsonObject(meta) && Array.isArray(meta['profile']) ? meta['profile'].filter((p): p is string => typeof p === 'string') : [];
    const profiles: CompactStructureDefinition[] = [];
    // R4: an Observation with a vital sign's LOINC code conforms to that vital sign's profile.
    const implied = type === 'Observation' ? vitalSignsProfile(resource) : undefined;
    for (const url of implied ? [...requested, ...declared, implied] : [...requested, ...declared]) {
      const sd = this.registry.get(url);
      if (!sd) run.issues.push(messages.unknownProfile(path, canonicalUrl(url), requested.includes(url)));
      else if (sd.type !== type) run.issues.push(messages.profileOfOtherType(path, sd.url, sd.type, String(type)));
      else if (!profiles.includes(sd)) profiles.push(sd);
    }
    // A profile's snapshot holds everything of its base, so the base is checked on its own only when no profile applies.
    const against = profiles.length > 0 ? profiles : [base];
    const seen = against.length > 1 ? new Set<string>() : undefined;
    for (const sd of against) {
      for (const issue of this.issuesAgainst(resource, sd, run)) {
        const expression = path + issue.expression.slice(ROOT.length);
        if (seen) {
          // Several profiles report the same base problem once.
          const key = `${expression}\u0000${issue.message}`;
          if (seen.has(key)) continue;
          seen.add(key);
        }
        const placed = { ...issue, expression };
        this.extensions.moved(issue, placed);
        run.issues.push(placed);
      }
    }
  }

  /**
   * Issues of a resource against one profile, with paths relative to the resource, computed once
   * per run: slicing by profile asks the same question the entry's own validation asks.
   */
  private issuesAgainst(resource: ParsedObject, sd: CompactStructureDefinition, run: Run): ValidationIssue[] {
    let byProfile = run.profileIssues.get(resource);
    if (!byProfile) {
      byProfile = new Map();
      run.profileIssues.set(resource, byProfile);
    }
    let issues = byProfile.get(sd.url);
    if (!issues) {
      // A resource walked against several profiles gives the document checks its links once.
      const first = !run.linked.has(resource);
      if (first) run.linked.add(resource);
      const nested: Run = { ...run, resource, issues: [], collect: first };
      const root = this.tree(sd);
      this.validateElement(resource, root, ROOT, root, nested);
      issues = nested.issues;
      byProfile.set(sd.url, issues);
    }
    return issues;
  }

  /** Checks one value (already known to be a single item) against an element node. */
  private validateElement(value: unknown, node: ElementNode, path: string, treeRoot: ElementNode, run: Run, type?: string): void {
    const typeName = type ?? node.typeName;
    if (node.fixed !== undefined && !deepEqual(value, node.fixed)) run.issues.push(messages.notFixedValue(path, node.fixed));
    if (node.pattern !== undefined && !matchesPattern(value, node.pattern)) run.issues.push(messages.notPattern(path, node.pattern));
    if (node.binding && typeName !== undefined) this.bindings.checkBinding(value, node.binding, typeName, path, run);
    const object = isJsonObject(value);
    const rule = !object && typeName !== undefined && node !== treeRoot ? primitiveRule(typeName) : undefined;
    if (rule !== undefined) {
      if (typeName === 'xhtml' && typeof value === 'string') {
        const findings = narrativeFindings(value);
        if (run.collect) run.links.narrativeAnchors.push(findings.anchors);
        for (const p of findings.problems) run.issues.push(messages.narrativeProblem(path, p));
        // An image of the narrative's own resource (`#id`) is one of its contained resources.
        for (const image of findings.images) {
          const contained = run.resource['contained'];
          if (!Array.isArray(contained) || !contained.some((c) => isJsonObject(c) && c['id'] === image)) run.issues.push(messages.imageNotContained(path, image));
        }
        return;
      }
      const problem = ruleProblem(rule, typeName!, value) ?? (rule.urn === true && typeof value === 'string' ? urnProblem(value) : undefined);
      if (problem) run.issues.push(messages.badPrimitive(path, problem));
      return;
    }
    if (!object) {
      run.issues.push(messages.notAnObject(path, typeName));
      return;
    }
    const shape = typeName === node.typeName ? (node.shape ??= this.shapeOf(node, typeName, treeRoot)) : this.otherShape(node, typeName, treeRoot);
    if (node !== treeRoot && shape.resource) {
      this.validateResource(value, path, profilesOf(node, false), run);
      return;
    }
    // An empty object (ele-1) is found by the walk of its members below: what runs before that
    // reports nothing on an object without members.
    if (typeName === 'Coding') this.bindings.checkCoding(value, path, run);
    else if (typeName === 'Reference') {
      if (run.collect && typeof value['reference'] === 'string') run.links.references.push({ owner: run.resource, path: `${path}.reference`, reference: value['reference'] });
    } else if (typeName === 'Identifier' && value['system'] === 'urn:ietf:rfc:3986' && typeof value['value'] === 'string') {
      const problem = rfc3986ValueProblem(value['value']);
      if (problem) run.issues.push(messages.valueProblem(`${path}.value`, problem));
    } else if (typeName === 'Extension' && typeof value['url'] === 'string') {
      this.extensions.check(value['url'], node, path, run);
      const target = run.collect ? anchorTarget(value, value['url']) : undefined;
      if (target !== undefined) run.links.anchorLinks.push({ owner: run.resource, path, target });
    }
    if (!this.validateChildren(value, shape, path, run, node === treeRoot)) {
      run.issues.push(messages.emptyElement(path));
      return;
    }
    // Most elements have no invariant but ele-1 (answered above): no call for them once that is known.
    if (node.plans === undefined || node.plans.length > 0) this.invariants.check(value, node, path, run);
  }

  /** {@link shapeOf} for a type other than the node's own (a choice's), remembered per node and type. */
  private otherShape(node: ElementNode, type: string | undefined, treeRoot: ElementNode): ObjectShape {
    let byType = node.shapes;
    if (!byType) {
      byType = new Map();
      node.shapes = byType;
    }
    let shape = byType.get(type);
    if (!shape) {
      shape = this.shapeOf(node, type, treeRoot);
      byType.set(type, shape);
    }
    return shape;
  }

  /** How an object of `type` at `node` is walked (a node belongs to one tree, so `treeRoot` is always the same). */
  private shapeOf(node: ElementNode, type: string | undefined, treeRoot: ElementNode): ObjectShape {
    if (type !== undefined && this.isResourceType(type)) {
      // Validated as a resource of its own (validateResource), unless it is the tree's root.
      if (node !== treeRoot) return { resource: true, children: [], root: treeRoot, members: new Map(), required: [] };
    }
    const { children, root } = this.childrenOf(node, type, treeRoot);
    return { resource: false, children, root, members: this.memberIndex(children), required: this.requiredOf(children) };
  }

  /** The children that define an object's members: the snapshot's, or its type's. */
  private childrenOf(node: ElementNode, type: string | undefined, treeRoot: ElementNode): { children: ElementNode[]; root: ElementNode } {
    if (node.children.length > 0) return { children: node.children, root: treeRoot };
    if (node.contentReference) {
      const target = findByPath(treeRoot, node.contentReference.slice(node.contentReference.indexOf('#') + 1));
      if (target) return { children: target.children, root: treeRoot };
    }
    const profile = node.types.find((t) => t.code === type)?.profiles[0];
    const sd = (profile ? this.registry.get(profile) : undefined) ?? (type ? this.registry.base(type) : undefined);
    if (!sd) return { children: [], root: treeRoot };
    const root = this.tree(sd);
    return { children: root.children, root };
  }

  /** Validates an object's members; false, having checked nothing, when it has none (an empty element). */
  private validateChildren(value: ParsedObject, shape: ObjectShape, path: string, run: Run, isResourceRoot: boolean): boolean {
    // One pass over the object's members finds each member's element (a stamp on the element marks
    // it present: objects have a few members, definitions dozens of children); then the required
    // children that are absent; then each present element, in the order of the members. Unknown
    // members are reported last. No recursion happens before the stamps have been read.
    const { members, root: treeRoot } = shape;
    const stamp = ++this.stamp;
    const { foundStack: found, keysStack: keysOf, rawStack: raws } = this;
    // This call's members are in slots [base, top); the calls it makes use the slots above.
    const base = this.top;
    let top = base;
    let unknown: string[] | undefined;
    let empty = true;
    // for..in rather than Object.keys: parsed JSON has no inherited enumerable members.
    for (const k in value) {
      empty = false;
      if (isResourceRoot && k === 'resourceType') continue;
      const companion = k.charCodeAt(0) === 95; /* _ */
      const name = companion ? k.slice(1) : k;
      if (companion && run.collect) this.collectPrimitiveLinks(value[k], `${path}.${name}`, run);
      const child = members.get(name);
      if (!child) {
        (unknown ??= []).push(k);
        continue;
      }
      if (child.stamp !== stamp) {
        child.stamp = stamp;
        child.slot = top;
        found[top] = child;
        keysOf[top] = name;
        // Each element's value, read here: `value[k]` with the key for..in gives is a load by the
        // object's own layout, where `value[key]` later would be a lookup by name on every shape.
        raws[top] = companion ? value[name] : value[k];
        top++;
        continue;
      }
      const keys = keysOf[child.slot]!;
      if (typeof keys === 'string') {
        if (keys !== name) keysOf[child.slot] = [keys, name];
      } else if (!keys.includes(name)) {
        keys.push(name);
      }
    }
    if (empty) return false;
    this.top = top;
    for (const child of shape.required) {
      // Absent (most children of most objects): only its minimum cardinality can fail.
      if (child.stamp !== stamp) {
        run.issues.push(messages.missing(`${path}.${child.name}${child.isChoice ? '[x]' : ''}`, child, 0));
      }
    }
    for (let f = base; f < top; f++) {
      const child = found[f]!;
      const keys = keysOf[f]!;
      if (typeof keys !== 'string') {
        run.issues.push(messages.severalChoices(`${path}.${child.name}[x]`, keys));
      }
      const key = typeof keys === 'string' ? keys : keys[0]!;
      const raw = raws[f];
      const isArray = Array.isArray(raw);
      // `_key` (a primitive's id and extensions) is looked up only when it can matter: building
      // and hashing that name for every member was a fifth of the walk.
      const primitiveCompanion = raw === undefined ? value[companionKey(key)] : undefined;
      const count = raw === undefined ? (primitiveCompanion === undefined ? 0 : Array.isArray(primitiveCompanion) ? primitiveCompanion.length : 1) : isArray ? raw.length : 1;
      if (raw !== undefined) {
        if (!child.repeats && isArray) {
          run.issues.push(messages.arrayForSingle(`${path}.${key}`));
        } else if (child.repeats && !isArray) {
          run.issues.push(messages.singleForArray(`${path}.${key}`));
        }
      }
      if (count < child.min) {
        run.issues.push(messages.missing(`${path}.${key}`, child, count));
      }
      if (count > child.maxCount) {
        run.issues.push(messages.tooMany(`${path}.${key}`, child, count));
      }
      if (raw === undefined) continue;
      const type = child.isChoice ? child.choiceKeys.get(key) : undefined;
      if (!isArray) {
        if (raw === null) {
          if (value[companionKey(key)] === undefined) run.issues.push(messages.nullValue(`${path}.${key}`));
          continue;
        }
        const at = path + (key === child.name ? child.dottedName : dotted(key));
        const slice = child.slicing && child.slices.length > 0 ? this.slicing.assignSlices([raw], child, () => at, run, type)[0] : undefined;
        this.validateElement(raw, slice ?? child, at, treeRoot, run, type);
        continue;
      }
      const items = raw as unknown[];
      // One string for the member's path, one more per item (a template literal made five).
      const at = path + (key === child.name ? child.dottedName : dotted(key));
      const sliceOf = child.slicing && child.slices.length > 0 ? this.slicing.assignSlices(items, child, (i) => at + indexed(i), run) : undefined;
      for (let i = 0; i < items.length; i++) {
        const item = items[i];
        if (item === null) {
          if (value[companionKey(key)] === undefined) run.issues.push(messages.nullValue(`${path}.${key}[${i}]`));
          continue;
        }
        this.validateElement(item, sliceOf?.[i] ?? child, at + indexed(i), treeRoot, run, type);
      }
    }
    this.top = base;
    if (unknown) {
      for (const k of unknown) {
        run.issues.push(messages.unknownElement(`${path}.${k}`, k));
      }
    }
    return true;
  }

  /**
   * narrativeLink and originalText extensions on a primitive (`_text`, the usual place of
   * originalText), which the walk does not otherwise enter, for the document's link check.
   */
  private collectPrimitiveLinks(companion: unknown, path: string, run: Run): void {
    const scan = (holder: unknown, at: string): void => {
      const extensions = isJsonObject(holder) ? holder['extension'] : undefined;
      if (!Array.isArray(extensions)) return;
      extensions.forEach((e, i) => {
        if (!isJsonObject(e) || typeof e['url'] !== 'string') return;
        const target = anchorTarget(e, e['url']);
        if (target !== undefined) run.links.anchorLinks.push({ owner: run.resource, path: `${at}.extension[${i}]`, target });
      });
    };
    if (Array.isArray(companion)) companion.forEach((c, j) => scan(c, `${path}[${j}]`));
    else scan(companion, path);
  }

  /** The children with a minimum cardinality, per list of children (computed once). */
  private requiredOf(children: ElementNode[]): ElementNode[] {
    let required = this.required.get(children);
    if (!required) {
      required = children.filter((c) => c.min > 0);
      this.required.set(children, required);
    }
    return required;
  }

  /** JSON member name → element, per list of children (computed once). */
  private memberIndex(children: ElementNode[]): Map<string, ElementNode> {
    let index = this.members.get(children);
    if (!index) {
      index = new Map();
      for (const child of children) {
        if (child.isChoice) for (const key of child.choiceKeys.keys()) index.set(key, child);
        else index.set(child.name, child);
      }
      this.members.set(children, index);
    }
    return index;
  }}
