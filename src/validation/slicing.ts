import { isJsonObject, type ParsedObject } from '../fhir/resources.js';
import type { BindingRules } from './bindings.js';
import type { CompactStructureDefinition, DefinitionRegistry } from './definitions.js';
import { profilesOf, type ElementNode } from './element-tree.js';
import type { ExtensionRules } from './extensions.js';
import { companionKey, deepEqual, matchesPattern } from './json-values.js';
import { outsideClosedSlicing, outsideOpenSlicing, sliceMissing, sliceTooMany } from './messages.js';
import type { ValidationIssue } from './validation-issue.js';
import { rememberedOf, type Run } from './validation-run.js';

const NONE: readonly unknown[] = [];

/** A discriminator of a slicing: how the slice of an item is told. */
type Discriminator = NonNullable<ElementNode['slicing']>['discriminators'][number];

/** A top-level element of a profile that plainlyFails judges on, with what it checks, worked out once. */
interface DecisiveChild {
  child: ElementNode;
  /** `_name`, where a primitive given only by its extensions is. */
  companion: string;
  /** A required binding of a CodeableConcept element. */
  conceptBinding: ElementNode['binding'];
  /** The discriminators of its slicing when all are by value or pattern, and its slices with a minimum. */
  sliceDiscriminators: Discriminator[] | undefined;
  requiredSlices: ElementNode[];
}

/** What slicing by profile asks of the walk (profile-validator.ts): a profile's tree, and a resource's issues against it. */
export interface ProfileWalk {
  tree(sd: CompactStructureDefinition): ElementNode;
  /** Issues of a resource against one profile, computed once per run. */
  issuesAgainst(resource: ParsedObject, sd: CompactStructureDefinition, run: Run): ValidationIssue[];
}

/**
 * Slicing: which slice each item of a sliced element belongs to (discriminators value, pattern,
 * type, profile, exists; paths through `resolve()` and inner slices), slice cardinality, closed
 * and open slicing. "Does this resource meet that profile" is answered once per run, after cheap
 * necessary conditions that rule most candidates out.
 */
export class SliceMatcher {
  private readonly decisive = new WeakMap<ElementNode, DecisiveChild[]>();
  private readonly sliceCandidates = new WeakMap<ElementNode, Map<string, ElementNode[]>>();
  /** Resource types an element admits, directly and after resolve(). */
  private readonly allowedTypeSets = new WeakMap<ElementNode, [Set<string> | undefined, Set<string> | undefined]>();
  /** Discriminator paths split into segments. */
  private readonly segments = new Map<string, string[]>();

  constructor(
    private readonly registry: DefinitionRegistry,
    private readonly walk: ProfileWalk,
    private readonly bindings: BindingRules,
    private readonly extensions: ExtensionRules,
  ) {}

  /** Which slice each item belongs to; also checks slice cardinality and closed slicing. */
  assignSlices(items: unknown[], sliced: ElementNode, itemPath: (i: number) => string, run: Run, itemType?: string): (ElementNode | undefined)[] {
    const slicing = sliced.slicing!;
    const { structural, byType, discriminators } = slicing;
    const assigned = new Array<ElementNode | undefined>(items.length);
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (item === null) {
        assigned[i] = undefined;
        continue;
      }
      // Sliced by type (Bundle.entry by resource): only the slices that admit the item's type can take it.
      const slices = byType ? this.slicesAdmitting(sliced, byType.path, this.typeAt(item, byType.path, itemType, run)) : sliced.slices;
      let match: ElementNode | undefined;
      for (const s of slices) {
        if (this.inSlice(item, s, discriminators, run, itemType)) {
          match = s;
          break;
        }
      }
      if (match || structural.length === discriminators.length || structural.length === 0) {
        assigned[i] = match;
        continue;
      }
      // An item of the right type that fails the profile of a required slice (the Composition, the
      // Patient) belongs to it when no other slice could take it: its errors are then reported
      // against the profile rather than as a missing slice. Either way the document is invalid.
      // Into an optional slice nothing is forced: an open slicing admits what matches no slice.
      const candidates = slices.filter((s) => this.inSlice(item, s, structural, run, itemType));
      assigned[i] = candidates.length === 1 && candidates[0]!.min > 0 ? candidates[0] : undefined;
    }
    for (const slice of sliced.slices) {
      if (slice.min === 0 && slice.max === Number.POSITIVE_INFINITY) continue;
      let count = 0;
      for (const s of assigned) if (s === slice) count++;
      const at = count < slice.min || count > slice.max ? itemPath(0).replace(/\[0\]$/, '') : '';
      if (count < slice.min) run.issues.push(sliceMissing(at, slice, sliced, count));
      if (count > slice.max) run.issues.push(sliceTooMany(at, slice, sliced, count));
    }
    const closed = slicing.rules === 'closed';
    // Extensions outside the profile's slices are the norm, not worth a line each.
    if (!closed && (sliced.name === 'extension' || sliced.name === 'modifierExtension')) return assigned;
    assigned.forEach((s, i) => {
      if (s || items[i] === null) return;
      run.issues.push(closed ? outsideClosedSlicing(itemPath(i), sliced) : outsideOpenSlicing(itemPath(i), sliced));
    });
    return assigned;
  }

  /** The type of an item at a type discriminator's path: a resource's type, or the choice's. */
  private typeAt(item: unknown, path: string, itemType: string | undefined, run: Run): string | undefined {
    if (path === '$this' && itemType !== undefined) return itemType;
    const value = this.valuesAt(item, path, run)[0];
    return isJsonObject(value) && typeof value['resourceType'] === 'string' ? value['resourceType'] : undefined;
  }

  /** The slices whose element at `path` admits `type` (all of them when the type is unknown), once per type. */
  private slicesAdmitting(sliced: ElementNode, path: string, type: string | undefined): ElementNode[] {
    if (type === undefined) return sliced.slices;
    let byType = this.sliceCandidates.get(sliced);
    if (!byType) {
      byType = new Map();
      this.sliceCandidates.set(sliced, byType);
    }
    let slices = byType.get(type);
    if (!slices) {
      slices = sliced.slices.filter((slice) => {
        const element = this.elementAt(slice, path);
        return element !== undefined && (path === '$this' ? element.types.some((t) => t.code === type) : this.allowedTypes(element, path).has(type));
      });
      byType.set(type, slices);
    }
    return slices;
  }

  /** `itemType`: the type a choice element's JSON name gives the item (`valueQuantity`: Quantity). */
  private inSlice(item: unknown, slice: ElementNode, discriminators: Discriminator[], run: Run, itemType?: string): boolean {
    if (discriminators.length === 0) return false;
    for (const d of discriminators) if (!this.meets(item, slice, d, run, itemType)) return false;
    return true;
  }

  /** Whether an item meets one discriminator of a slice. */
  private meets(item: unknown, slice: ElementNode, d: Discriminator, run: Run, itemType: string | undefined): boolean {
    const element = this.elementAt(slice, d.path);
    const values = this.valuesAt(item, d.path, run);
    switch (d.type) {
      case 'value':
      case 'pattern': {
        if (!element) return false;
        // Loops, not some(): this runs for each item, candidate slice and discriminator.
        if (element.fixed !== undefined) {
          for (const v of values) if (d.type === 'value' ? deepEqual(v, element.fixed) : matchesPattern(v, element.fixed)) return true;
          return false;
        }
        if (element.pattern !== undefined) {
          for (const v of values) if (matchesPattern(v, element.pattern)) return true;
        }
        return false;
      }
      case 'exists':
        return element ? (element.min > 0 ? values.length > 0 : element.max === 0 ? values.length === 0 : true) : false;
      case 'type': {
        if (!element) return false;
        // A choice sliced by type (`value[x]:valueQuantity`): the JSON name says the item's type.
        if (d.path === '$this' && itemType !== undefined) return element.types.some((t) => t.code === itemType);
        const allowed = this.allowedTypes(element, d.path);
        for (const v of values) if (isJsonObject(v) && allowed.has(String(v['resourceType']))) return true;
        return false;
      }
      case 'profile': {
        if (!element) return false;
        const profiles = profilesOf(element, d.path.includes('resolve()'));
        if (profiles.length === 0) return true;
        return values.some((v) => isJsonObject(v) && profiles.some((p) => this.conforms(v, p, run)));
      }
      default:
        return false;
    }
  }

  /** Resource types an element admits (directly, or as reference targets after resolve()). */
  private allowedTypes(element: ElementNode, path: string): Set<string> {
    const resolved = path.includes('resolve()');
    let both = this.allowedTypeSets.get(element);
    if (!both) {
      both = [undefined, undefined];
      this.allowedTypeSets.set(element, both);
    }
    let types = both[resolved ? 1 : 0];
    if (!types) {
      types = new Set<string>();
      for (const t of element.types) {
        if (resolved) {
          for (const p of t.targetProfiles) {
            const sd = this.registry.get(p);
            if (sd) types.add(sd.type);
          }
        } else {
          types.add(t.code);
        }
      }
      both[resolved ? 1 : 0] = types;
    }
    return types;
  }

  /** Whether a resource meets a profile (no errors), asked once per run and pair. */
  private conforms(resource: ParsedObject, profile: string, run: Run): boolean {
    const byProfile = rememberedOf(run.conformance, resource);
    let answer = byProfile.get(profile);
    if (answer === undefined) {
      const sd = this.registry.get(profile);
      answer =
        sd !== undefined &&
        sd.type === resource['resourceType'] &&
        !this.plainlyFails(resource, this.walk.tree(sd), run) &&
        !this.walk.issuesAgainst(resource, sd, run).some((i) => i.severity === 'error' && !this.extensions.isUnknownExtension(i));
      byProfile.set(profile, answer);
    }
    return answer;
  }

  /**
   * Cheap necessary conditions of a profile, checked before a full validation when slicing asks
   * which of several profiles a resource meets: a top-level element that is required but absent,
   * that misses its fixed or pattern value, or that lacks a required slice. Each is an error a
   * full validation would report too, so the answer never differs, it only comes sooner.
   */
  private plainlyFails(resource: ParsedObject, tree: ElementNode, run: Run): boolean {
    for (const { child, companion, conceptBinding, sliceDiscriminators, requiredSlices } of this.decisiveChildren(tree)) {
      const raw = resource[child.name];
      const items = raw === undefined ? NONE : Array.isArray(raw) ? (raw as unknown[]) : [raw];
      if (items.length < child.min && resource[companion] === undefined) return true;
      if (items.length === 0) continue;
      // Loops, not every(): this runs for each candidate profile of each entry.
      for (const i of items) {
        if (child.fixed !== undefined && !deepEqual(i, child.fixed)) return true;
        if (child.pattern !== undefined && !matchesPattern(i, child.pattern)) return true;
      }
      // A required binding a CodeableConcept misses (the pregnancy and results profiles differ by
      // the value set of `code`): an error the full validation reports too.
      if (conceptBinding !== undefined) {
        for (const i of items) if (!this.bindings.mayBeIn(i, conceptBinding)) return true;
      }
      if (sliceDiscriminators === undefined) continue;
      for (const slice of requiredSlices) {
        if (!items.some((i) => this.inSlice(i, slice, sliceDiscriminators, run))) return true;
      }
    }
    return false;
  }

  /** The top-level children of a profile that plainlyFails can judge on, with what it asks of each (computed once per tree). */
  private decisiveChildren(tree: ElementNode): DecisiveChild[] {
    let decisive = this.decisive.get(tree);
    if (!decisive) {
      decisive = tree.children
        .filter(
          (c) =>
            !c.isChoice &&
            (c.min > 0 ||
              c.fixed !== undefined ||
              c.pattern !== undefined ||
              (c.binding?.strength === 'required' && c.types.length === 1 && c.types[0]!.code === 'CodeableConcept') ||
              ((c.slicing?.discriminators.length ?? 0) > 0 && c.slices.some((slice) => slice.min > 0))),
        )
        .map((child) => {
          const discriminators = child.slicing?.discriminators ?? [];
          const byValue = discriminators.length > 0 && discriminators.every((d) => d.type === 'value' || d.type === 'pattern');
          return {
            child,
            companion: companionKey(child.name),
            conceptBinding: child.binding?.strength === 'required' && child.types.length === 1 && child.types[0]!.code === 'CodeableConcept' ? child.binding : undefined,
            sliceDiscriminators: byValue ? discriminators : undefined,
            requiredSlices: child.slices.filter((slice) => slice.min > 0),
          };
        });
      this.decisive.set(tree, decisive);
    }
    return decisive;
  }

  /** The element of a slice at a discriminator path (`url`, `code.coding`, `resource`, `resolve()`). */
  private elementAt(slice: ElementNode, path: string): ElementNode | undefined {
    let byPath = slice.atPath;
    if (!byPath) {
      byPath = new Map();
      slice.atPath = byPath;
    }
    let found = byPath.get(path);
    if (found === undefined) {
      found = this.findElementAt(slice, path) ?? null;
      byPath.set(path, found);
    }
    return found ?? undefined;
  }

  /**
   * The element a discriminator path names inside a slice. Where the path crosses an element
   * sliced again inside the slice (`code.coding.code` with `coding:SBPCode` fixing the code), the
   * fixed or pattern value sits in that inner slice, so the inner slices are searched too.
   */
  private findElementAt(slice: ElementNode, path: string): ElementNode | undefined {
    const candidates = this.elementsAt(slice, this.segmentsOf(path), 0);
    return candidates.find((c) => c.fixed !== undefined || c.pattern !== undefined) ?? candidates[0];
  }

  private elementsAt(node: ElementNode, segments: string[], i: number): ElementNode[] {
    if (i === segments.length) return [node];
    const segment = segments[i]!;
    if (segment === '$this' || segment === 'resolve()') return this.elementsAt(node, segments, i + 1);
    let child = node.children.find((c) => c.name === segment || c.name === segment.replace(/\[x\]$/, ''));
    if (!child && node.types.length === 1) {
      const sd = this.registry.base(node.types[0]!.code);
      child = sd ? this.walk.tree(sd).children.find((c) => c.name === segment) : undefined;
    }
    if (!child) return [];
    const found = this.elementsAt(child, segments, i + 1);
    for (const inner of child.slices) found.push(...this.elementsAt(inner, segments, i + 1));
    return found;
  }

  private segmentsOf(path: string): string[] {
    let segments = this.segments.get(path);
    if (!segments) {
      segments = path.split('.');
      this.segments.set(path, segments);
    }
    return segments;
  }

  /** Values at a discriminator path inside an item (read only: may be the item's own array). */
  private valuesAt(item: unknown, path: string, run: Run): readonly unknown[] {
    const segments = this.segmentsOf(path);
    if (segments.length === 1 && segments[0] !== '$this' && segments[0] !== 'resolve()') {
      // One member (`url`, `code`, `resource`: most discriminators): no array built.
      const member = isJsonObject(item) ? item[segments[0]!] : undefined;
      return member === undefined ? NONE : Array.isArray(member) ? member : [member];
    }
    let values: unknown[] = [item];
    for (const segment of segments) {
      if (segment === '$this') continue;
      const next: unknown[] = [];
      for (const v of values) {
        if (segment === 'resolve()') {
          const ref = isJsonObject(v) ? v['reference'] : undefined;
          // For slicing only (which slice an entry is in); whether the reference resolves by the
          // R4 rules is checked once for the whole document (document-links.ts).
          const target = typeof ref === 'string' ? (run.entries.get(ref) ?? run.relative.get(ref)) : undefined;
          if (target) next.push(target);
          continue;
        }
        const member = isJsonObject(v) ? v[segment] : undefined;
        if (member === undefined) continue;
        if (Array.isArray(member)) for (const m of member) next.push(m);
        else next.push(member);
      }
      values = next;
    }
    return values;
  }
}
