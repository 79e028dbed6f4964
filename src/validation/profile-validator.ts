import fhirpath from 'fhirpath';
import r4Model from 'fhirpath/fhir-context/r4/index.js';
import { compileExistenceInvariant, type ExistenceCheck, type PathModel } from './existence-invariants.js';
import { canonicalUrl, type DefinitionRegistry, type StructureDefinition } from './definitions.js';
import { compileElementTree, findByPath, type ElementNode, type Invariant } from './element-tree.js';
import { anchorTarget, checkDocumentLinks, noLinks, type Links } from './document-links.js';
import { BCP_47, LANGUAGE_VALUE_SETS, languageTagProblem, rfc3986ValueProblem, urnProblem } from './identifier-formats.js';
import { narrativeFindings } from './narrative.js';
import { isPrimitiveType, primitiveProblem } from './primitives.js';
import type { Expansion, Terminology } from './terminology.js';
import { vitalSignsProfile } from './vital-signs.js';
import type { ValidationIssue } from './validation-issue.js';

export type { ValidationIssue } from './validation-issue.js';

type Json = Record<string, unknown>;
type Evaluator = (value: unknown, env: Record<string, unknown>) => unknown[];

const RESOURCE_TYPES = new Set(['Resource', 'DomainResource']);
const noContained = (v: Json): boolean | undefined => (v['contained'] === undefined ? true : undefined);
const has = (v: Json, key: string): boolean => v[key] !== undefined && !(Array.isArray(v[key]) && (v[key] as unknown[]).length === 0);
const entriesOf = (v: Json): Json[] => (Array.isArray(v['entry']) ? (v['entry'] as unknown[]).filter(isObject) : []);
const firstResourceType = (v: Json): unknown => {
  const resource = entriesOf(v)[0]?.['resource'];
  return isObject(resource) ? resource['resourceType'] : undefined;
};

/**
 * Base-spec invariants met on nearly every element, resource or Bundle, answered without FHIRPath
 * (which costs 0.1 ms and more each on large resources). Keyed by the exact expression, so a
 * profile that reuses a key with another expression still goes to FHIRPath; a native answer of
 * `undefined` does too.
 */
export const NATIVE_INVARIANTS: Record<string, (value: Json) => boolean | undefined> = {
  'contained.contained.empty()': noContained,
  'contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()': noContained,
  'contained.meta.security.empty()': noContained,
  "contained.where((('#'+id in (%resource.descendants().reference | %resource.descendants().as(canonical) | %resource.descendants().as(uri) | %resource.descendants().as(url))) or descendants().where(reference = '#').exists() or descendants().where(as(canonical) = '#').exists() or descendants().where(as(canonical) = '#').exists()).not()).trace('unmatched', id).empty()":
    noContained,
  'text.`div`.exists()': (v) => isObject(v['text']) && v['text']['div'] !== undefined,
  // obs-7: no component repeats the Observation's own code when there is a value
  'value.empty() or component.code.where(coding.intersect(%resource.code.coding).exists()).empty()': (v) => {
    if (!Object.keys(v).some((k) => k.startsWith('value'))) return true;
    const own = isObject(v['code']) && Array.isArray(v['code']['coding']) ? (v['code']['coding'] as unknown[]) : [];
    const components = Array.isArray(v['component']) ? (v['component'] as unknown[]).filter(isObject) : [];
    return components.every((c) => {
      const codings = isObject(c['code']) && Array.isArray(c['code']['coding']) ? (c['code']['coding'] as unknown[]) : [];
      return !codings.some((coding) => own.some((o) => deepEqual(coding, o)));
    });
  },
  '(identifier.count() + name.count()) > 0': (v) => has(v, 'identifier') || v['name'] !== undefined,
  "clinicalStatus.exists() or verificationStatus.coding.where(system='http://terminology.hl7.org/CodeSystem/condition-ver-status' and code = 'entered-in-error').exists() or category.select($this='problem-list-item').empty()":
    (v) => {
      if (v['clinicalStatus'] !== undefined || !has(v, 'category')) return true;
      const status = v['verificationStatus'];
      const codings = isObject(status) && Array.isArray(status['coding']) ? (status['coding'] as unknown[]).filter(isObject) : [];
      return codings.some((c) => c['system'] === 'http://terminology.hl7.org/CodeSystem/condition-ver-status' && c['code'] === 'entered-in-error');
    },
  'duration.exists() implies duration >= 0': (v) => (v['duration'] === undefined ? true : typeof v['duration'] === 'number' ? v['duration'] >= 0 : undefined),
  'period.exists() implies period >= 0': (v) => (v['period'] === undefined ? true : typeof v['period'] === 'number' ? v['period'] >= 0 : undefined),
  "offset.empty() or (when.exists() and when.select($this in ('C' | 'CM' | 'CD' | 'CV')).allFalse())": (v) => {
    if (v['offset'] === undefined) return true;
    const when = Array.isArray(v['when']) ? (v['when'] as unknown[]) : [];
    return when.length > 0 && when.every((w) => !['C', 'CM', 'CD', 'CV'].includes(w as string));
  },
  'extension.exists() != value.exists()': (v) => has(v, 'extension') !== Object.keys(v).some((k) => k.startsWith('value')),
  'resource.exists() or request.exists() or response.exists()': (v) => has(v, 'resource') || has(v, 'request') || has(v, 'response'),
  "fullUrl.contains('/_history/').not()": (v) => typeof v['fullUrl'] !== 'string' || !v['fullUrl'].includes('/_history/'),
  'text.exists() or entry.exists() or section.exists()': (v) => has(v, 'text') || has(v, 'entry') || has(v, 'section'),
  'emptyReason.empty() or entry.empty()': (v) => !has(v, 'emptyReason') || !has(v, 'entry'),
  "total.empty() or (type = 'searchset') or (type = 'history')": (v) => v['total'] === undefined || v['type'] === 'searchset' || v['type'] === 'history',
  "entry.search.empty() or (type = 'searchset')": (v) => v['type'] === 'searchset' || entriesOf(v).every((e) => !has(e, 'search')),
  "entry.all(request.exists() = (%resource.type = 'batch' or %resource.type = 'transaction' or %resource.type = 'history'))": (v) =>
    entriesOf(v).every((e) => has(e, 'request') === ['batch', 'transaction', 'history'].includes(String(v['type']))),
  "entry.all(response.exists() = (%resource.type = 'batch-response' or %resource.type = 'transaction-response' or %resource.type = 'history'))": (v) =>
    entriesOf(v).every((e) => has(e, 'response') === ['batch-response', 'transaction-response', 'history'].includes(String(v['type']))),
  "(type = 'history') or entry.where(fullUrl.exists()).select(fullUrl&resource.meta.versionId).isDistinct()": (v) => {
    if (v['type'] === 'history') return true;
    const keys = entriesOf(v)
      .filter((e) => typeof e['fullUrl'] === 'string')
      .map((e) => {
        const meta = isObject(e['resource']) ? e['resource']['meta'] : undefined;
        return `${String(e['fullUrl'])}${isObject(meta) && typeof meta['versionId'] === 'string' ? meta['versionId'] : ''}`;
      });
    return new Set(keys).size === keys.length;
  },
  "type = 'document' implies (identifier.system.exists() and identifier.value.exists())": (v) =>
    v['type'] !== 'document' || (isObject(v['identifier']) && v['identifier']['system'] !== undefined && v['identifier']['value'] !== undefined),
  "type = 'document' implies (timestamp.hasValue())": (v) => v['type'] !== 'document' || typeof v['timestamp'] === 'string',
  "type = 'document' implies entry.first().resource.is(Composition)": (v) =>
    v['type'] !== 'document' || firstResourceType(v) === undefined || firstResourceType(v) === 'Composition',
  "type = 'message' implies entry.first().resource.is(MessageHeader)": (v) =>
    v['type'] !== 'message' || firstResourceType(v) === undefined || firstResourceType(v) === 'MessageHeader',
  'entry.tail().where(resource is Composition).empty()': (v) =>
    entriesOf(v)
      .slice(1)
      .every((e) => !isObject(e['resource']) || e['resource']['resourceType'] !== 'Composition'),
};

/** Options of a {@link ProfileValidator}. */
export interface ValidatorOptions {
  /** (tests) evaluate invariants answered without FHIRPath with FHIRPath too; throw on a difference. */
  crossCheckInvariants?: boolean;
  /** How an extension whose definition is not loaded is reported: `warning` (default) or `error`. */
  unknownExtensions?: 'warning' | 'error';
  /** Canonicals of extensions known without their definitions loaded (the R4 core ones). */
  knownExtensions?: ReadonlySet<string>;
}

const URI_TYPES = new Set(['uri', 'url', 'canonical', 'oid', 'uuid']);
const OLD_IPS_CODE_SYSTEMS = 'http://hl7.org/fhir/uv/ips/CodeSystem/';
const HL7_EXTENSIONS = 'http://hl7.org/fhir/StructureDefinition/';
/** The `Type/id` that ends a RESTful fullUrl. */
const RESTFUL_TAIL = /^[a-z][a-z0-9+.-]*:\/\/.*\/([A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64})$/;

/** One invariant of one node, with how it is answered: natively, by member tests, or by FHIRPath. */
interface InvariantPlan {
  invariant: Invariant;
  cacheKey: string;
  native: ((value: Json) => boolean | undefined) | undefined;
  /** Member tests; null when FHIRPath decides; undefined until first needed. */
  existence?: ExistenceCheck | null;
}

/** Placeholder for the path of a resource while its issues are computed for reuse. */
const ROOT = '\u0000';

const companionKeys = new Map<string, string>();

/** `_name`, the member holding a primitive's id and extensions, built once per name. */
function companionKey(name: string): string {
  let key = companionKeys.get(name);
  if (key === undefined) {
    key = `_${name}`;
    companionKeys.set(name, key);
  }
  return key;
}

function isEmptyObject(value: Json): boolean {
  for (const _ in value) return false;
  return true;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `actual` equals `expected` exactly (fixed[x]). */
function deepEqual(actual: unknown, expected: unknown): boolean {
  if (actual === expected) return true;
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((e, i) => deepEqual(actual[i], e));
  }
  if (isObject(expected)) {
    if (!isObject(actual)) return false;
    const keys = Object.keys(expected);
    return keys.length === Object.keys(actual).length && keys.every((k) => deepEqual(actual[k], expected[k]));
  }
  return false;
}

/** `actual` has at least what `expected` has (pattern[x]): arrays match element-wise by inclusion. */
function matchesPattern(actual: unknown, expected: unknown): boolean {
  if (Array.isArray(expected)) {
    const items = Array.isArray(actual) ? actual : [actual];
    return expected.every((e) => items.some((a) => matchesPattern(a, e)));
  }
  if (isObject(expected)) {
    if (!isObject(actual)) return false;
    for (const k in expected) if (!matchesPattern(actual[k], expected[k])) return false;
    return true;
  }
  return actual === expected;
}

/** State of one validation run. */
interface Run {
  issues: ValidationIssue[];
  /** The resource being validated at the top, for `%rootResource`. */
  root: Json;
  /** The resource the current element belongs to, for `%resource`. */
  resource: Json;
  /** Full URLs of the enclosing Bundle's entries, for `resolve()` in discriminators. */
  entries: Map<string, Json>;
  /** `Type/id` of the entries with a RESTful fullUrl, for relative references in discriminators. */
  relative: Map<string, Json>;
  /** Whether a resource meets a profile, per resource and profile, once asked. */
  conformance: WeakMap<object, Map<string, boolean>>;
  /** References, narratives and narrative links met on the walk, for the whole-document checks. */
  links: Links;
  /** Whether this walk collects links (the first walk of its resource), and the resources walked so. */
  collect: boolean;
  linked: WeakSet<object>;
  /** Value sets already reported as not expandable here, and HL7 extensions as not loaded. */
  unexpandable: Set<string>;
  /** Invariant verdicts already reached: element → invariant (path and expression) → holds. */
  verdicts: WeakMap<object, Map<string, boolean>>;
  /** Issues of a resource against a profile, already computed, relative to the resource (`\u0000`). */
  profileIssues: WeakMap<object, Map<string, ValidationIssue[]>>;
}

/**
 * Validates resources against StructureDefinitions: each profile's snapshot is compiled once into
 * an element tree, and each invariant once into a FHIRPath function. Checks cardinality, JSON
 * shape, unknown elements, choice types, primitive formats, fixed and pattern values, slicing
 * (discriminators value, pattern, type, profile, exists; slice cardinality; closed slicing),
 * contained and Bundle entry resources with the profiles they declare (`meta.profile`) and the
 * vital-signs profiles their codes imply, bindings to value sets expandable here, invariants
 * (the commonest natively or by member tests, the others through HL7's fhirpath with the R4
 * model), narrative XHTML, identifier formats, Codings and unknown extensions; and, for a whole
 * document, references, reachability and narrative links (document-links.ts). docs/validation.md
 * lists the rules and how they compare with the HL7 validator's.
 */
export class ProfileValidator {
  private readonly trees = new Map<string, ElementNode>();
  private readonly invariants = new Map<string, Evaluator | null>();
  private readonly members = new WeakMap<ElementNode[], Map<string, ElementNode>>();
  private readonly resourceTypes = new Map<string, boolean>();
  /** Element of a slice at a discriminator path, per slice and path (definitions never change). */
  private readonly discriminatorElements = new WeakMap<ElementNode, Map<string, ElementNode | null>>();
  private readonly typeProfiles = new WeakMap<ElementNode, [string[], string[]]>();
  private readonly decisive = new WeakMap<ElementNode, ElementNode[]>();
  private readonly sliceCandidates = new WeakMap<ElementNode, Map<string, ElementNode[]>>();
  private readonly expansions = new WeakMap<object, Expansion | undefined>();
  /** Stamp of the current validateChildren call (see there). */
  private stamp = 0;
  private readonly required = new WeakMap<ElementNode[], ElementNode[]>();
  /** Resource types an element admits, directly and after resolve(). */
  private readonly allowedTypeSets = new WeakMap<ElementNode, [Set<string> | undefined, Set<string> | undefined]>();
  /** Discriminator paths split into segments. */
  private readonly segments = new Map<string, string[]>();


  /** Invariants compiled to member tests (existence-invariants.ts), or null for FHIRPath's. */
  private readonly existenceChecks = new Map<string, ExistenceCheck | null>();

  /**
   * @param profileSet fingerprint of the definitions loaded: documents validated under another
   * set are validated again before they leave the node.
   * @param options.crossCheckInvariants (tests) evaluate invariants answered without FHIRPath with
   *   FHIRPath too, and throw if the answers differ.
   */
  constructor(
    private readonly registry: DefinitionRegistry,
    private readonly terminology?: Terminology,
    readonly profileSet = 'unversioned',
    private readonly options: ValidatorOptions = {},
  ) {
    this.unknownExtensionSeverity = options.unknownExtensions ?? 'warning';
  }

  private readonly unknownExtensionSeverity: 'warning' | 'error';

  /** Issues about unknown extensions: never a reason for a resource to fail a slice's profile. */
  private readonly extensionIssues = new WeakSet<ValidationIssue>();

  /** Validates a resource against its base definition and `profile` (or the profiles it declares). */
  validate(resource: Json, profile?: string): ValidationIssue[] {
    const run: Run = {
      issues: [],
      root: resource,
      resource,
      entries: new Map(),
      relative: new Map(),
      conformance: new WeakMap(),
      links: noLinks(),
      collect: true,
      linked: new WeakSet(),
      profileIssues: new WeakMap(),
      verdicts: new WeakMap(),
      unexpandable: new Set(),
    };
    if (resource['resourceType'] === 'Bundle' && Array.isArray(resource['entry'])) {
      for (const entry of resource['entry']) {
        if (isObject(entry) && typeof entry['fullUrl'] === 'string' && isObject(entry['resource'])) {
          const fullUrl = entry['fullUrl'];
          run.entries.set(fullUrl, entry['resource']);
          // RESTful fullUrls (`http...`) also answer relative references; `urn:` ones never do.
          if (fullUrl.charCodeAt(0) !== 117 /* u */) {
            const restful = RESTFUL_TAIL.exec(fullUrl);
            if (restful && !run.relative.has(restful[1]!)) run.relative.set(restful[1]!, entry['resource']);
          }
        }
      }
    }
    const type = typeof resource['resourceType'] === 'string' ? resource['resourceType'] : 'Resource';
    this.validateResource(resource, type, profile ? [profile] : [], run);
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

  private tree(sd: StructureDefinition): ElementNode {
    let tree = this.trees.get(sd.url);
    if (!tree) {
      tree = compileElementTree(sd);
      this.trees.set(sd.url, tree);
    }
    return tree;
  }

  private validateResource(resource: Json, path: string, requested: readonly string[], run: Run): void {
    const type = resource['resourceType'];
    const base = typeof type === 'string' ? this.registry.base(type) : undefined;
    if (!base || base.kind !== 'resource') {
      run.issues.push({ severity: 'error', code: 'structure', expression: path, message: `unknown resourceType ${JSON.stringify(type)}` });
      return;
    }
    const meta = resource['meta'];
    const declared = isObject(meta) && Array.isArray(meta['profile']) ? meta['profile'].filter((p): p is string => typeof p === 'string') : [];
    const profiles: StructureDefinition[] = [];
    // R4: an Observation with a vital sign's LOINC code conforms to that vital sign's profile.
    const implied = type === 'Observation' ? vitalSignsProfile(resource) : undefined;
    for (const url of implied ? [...requested, ...declared, implied] : [...requested, ...declared]) {
      const sd = this.registry.get(url);
      if (!sd) {
        run.issues.push({
          severity: requested.includes(url) ? 'error' : 'information',
          code: 'not-supported',
          expression: path,
          message: `profile ${canonicalUrl(url)} is not known here; not checked`,
        });
      } else if (sd.type !== type) {
        run.issues.push({ severity: 'error', code: 'structure', expression: path, message: `profile ${sd.url} is for ${sd.type}, not ${String(type)}` });
      } else if (!profiles.includes(sd)) {
        profiles.push(sd);
      }
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
        if (this.extensionIssues.has(issue)) this.extensionIssues.add(placed);
        run.issues.push(placed);
      }
    }
  }

  /**
   * Issues of a resource against one profile, with paths relative to the resource, computed once
   * per run: slicing by profile asks the same question the entry's own validation asks.
   */
  private issuesAgainst(resource: Json, sd: StructureDefinition, run: Run): ValidationIssue[] {
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
    const typeName = type ?? (node.types.length === 1 ? node.types[0]!.code : undefined);
    if (node.fixed !== undefined && !deepEqual(value, node.fixed)) {
      run.issues.push({ severity: 'error', code: 'value', expression: path, message: `must be exactly ${JSON.stringify(node.fixed)}` });
    }
    if (node.pattern !== undefined && !matchesPattern(value, node.pattern)) {
      run.issues.push({ severity: 'error', code: 'value', expression: path, message: `must match the pattern ${JSON.stringify(node.pattern)}` });
    }
    if (node.binding && typeName !== undefined) this.checkBinding(value, node.binding, typeName, path, run);
    if (typeName !== undefined && isPrimitiveType(typeName) && node !== treeRoot && !isObject(value)) {
      if (typeName === 'xhtml' && typeof value === 'string') {
        if (run.collect) run.links.narratives.push(value);
        const findings = narrativeFindings(value);
        for (const p of findings.problems) {
          run.issues.push({ severity: p.warning ? 'warning' : 'error', code: p.key ? 'invariant' : 'value', expression: path, message: p.message, ...(p.key ? { key: p.key } : {}) });
        }
        // An image of the narrative's own resource (`#id`) is one of its contained resources.
        for (const image of findings.images) {
          const contained = run.resource['contained'];
          if (!Array.isArray(contained) || !contained.some((c) => isObject(c) && c['id'] === image)) {
            run.issues.push({ severity: 'error', code: 'value', expression: path, message: `image #${image} is not a contained resource of this resource` });
          }
        }
        return;
      }
      const problem = primitiveProblem(typeName, value) ?? (URI_TYPES.has(typeName) && typeof value === 'string' ? urnProblem(value) : undefined);
      if (problem) run.issues.push({ severity: 'error', code: 'value', expression: path, message: `value ${problem}` });
      return;
    }
    if (!isObject(value)) {
      run.issues.push({ severity: 'error', code: 'structure', expression: path, message: `must be a JSON object (${typeName ?? 'element'})` });
      return;
    }
    if (typeName !== undefined && node !== treeRoot && this.isResourceType(typeName)) {
      const profiles = this.profilesOf(node, false);
      this.validateResource(value, path, profiles, run);
      return;
    }
    if (isEmptyObject(value)) {
      run.issues.push({ severity: 'error', code: 'invariant', key: 'ele-1', expression: path, message: 'All FHIR elements must have a @value or children' });
      return;
    }
    if (typeName === 'Coding') this.checkCoding(value, path, run);
    else if (typeName === 'Reference') {
      if (run.collect && typeof value['reference'] === 'string') run.links.references.push({ owner: run.resource, path: `${path}.reference`, reference: value['reference'] });
    } else if (typeName === 'Identifier' && value['system'] === 'urn:ietf:rfc:3986' && typeof value['value'] === 'string') {
      const problem = rfc3986ValueProblem(value['value']);
      if (problem) run.issues.push({ severity: 'error', code: 'value', expression: `${path}.value`, message: problem });
    } else if (typeName === 'Extension' && typeof value['url'] === 'string') {
      this.checkExtensionKnown(value['url'], node, path, run);
      const target = run.collect ? anchorTarget(value, value['url']) : undefined;
      if (target !== undefined) run.links.anchorLinks.push({ owner: run.resource, path, target });
    }
    const { children, root } = this.childrenFor(node, typeName, treeRoot);
    this.validateChildren(value, children, path, root, run, node === treeRoot);
    this.checkInvariants(value, node, path, run);
  }

  /**
   * What the HL7 validator checks of every Coding without a terminology server: its system is a
   * code system (not a ValueSet), of a version that exists when the code system is known here,
   * not one of the IPS 1.x code systems that 2.0.0 no longer has, and a BCP-47 code in urn:ietf:bcp:47.
   */
  private checkCoding(coding: Json, path: string, run: Run): void {
    const system = coding['system'];
    if (typeof system !== 'string') return;
    if (this.terminology?.isValueSet(system) || (system.includes('/ValueSet/') && !this.terminology?.knowsCodeSystem(system))) {
      run.issues.push({ severity: 'error', code: 'value', expression: `${path}.system`, message: `${system} is a ValueSet, not a code system` });
      return;
    }
    if (system.startsWith(OLD_IPS_CODE_SYSTEMS) && !this.terminology?.knowsCodeSystem(system)) {
      run.issues.push({ severity: 'error', code: 'value', expression: `${path}.system`, message: `${system} is not a code system of IPS 2.0.0 (it belonged to an earlier IPS version)` });
      return;
    }
    const version = coding['version'];
    if (typeof version === 'string') {
      const known = this.terminology?.codeSystemVersion(system);
      if (known !== undefined && known !== version) {
        run.issues.push({ severity: 'error', code: 'value', expression: `${path}.version`, message: `version ${version} of ${system} is not known (known: ${known})` });
      }
    }
    if (system === BCP_47 && typeof coding['code'] === 'string') {
      const problem = languageTagProblem(coding['code']);
      if (problem) run.issues.push({ severity: 'error', code: 'value', expression: `${path}.code`, message: problem });
    }
  }

  /**
   * An extension whose definition is not loaded: a warning by default, an error when configured;
   * a modifier extension always an error (it may change the meaning of what holds it). One of
   * HL7's own (`http://hl7.org/fhir/StructureDefinition/...` beyond the R4 core, e.g. the
   * extensions pack) is said once per validation as information. The relative urls of the parts
   * of a complex extension are names, not canonicals.
   */
  private checkExtensionKnown(url: string, node: ElementNode, path: string, run: Run): void {
    if (url.indexOf(':') < 0 || this.registry.get(url) || this.options.knownExtensions?.has(url)) return;
    const modifier = node.path.endsWith('.modifierExtension');
    if (!modifier && url.startsWith(HL7_EXTENSIONS)) {
      if (run.unexpandable.has(url)) return;
      run.unexpandable.add(url);
      run.issues.push({ severity: 'information', code: 'not-supported', expression: path, message: `extension ${url} is HL7's but not loaded here; not checked` });
      return;
    }
    const issue: ValidationIssue = {
      severity: modifier ? 'error' : this.unknownExtensionSeverity,
      code: 'not-supported',
      expression: path,
      message: `${modifier ? 'modifier ' : ''}extension ${url} is not known here`,
    };
    if (!modifier) this.extensionIssues.add(issue);
    run.issues.push(issue);
  }

  /** {@link childrenOf}, remembered per node and type (a node belongs to one tree). */
  private childrenFor(node: ElementNode, type: string | undefined, treeRoot: ElementNode): { children: ElementNode[]; root: ElementNode } {
    let byType = node.childLists;
    if (!byType) {
      byType = new Map();
      node.childLists = byType;
    }
    let found = byType.get(type);
    if (!found) {
      found = this.childrenOf(node, type, treeRoot);
      byType.set(type, found);
    }
    return found;
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

  private validateChildren(value: Json, children: ElementNode[], path: string, treeRoot: ElementNode, run: Run, isResourceRoot: boolean): void {
    // One pass over the object's members finds each member's element (a stamp on the element marks
    // it present: objects have a few members, definitions dozens of children); then the required
    // children that are absent; then each present element, in the order of the members. Unknown
    // members are reported last. No recursion happens before the stamps have been read.
    const members = this.memberIndex(children);
    const stamp = ++this.stamp;
    const found: ElementNode[] = [];
    const keysOf: (string | string[])[] = [];
    let unknown: string[] | undefined;
    // for..in rather than Object.keys: parsed JSON has no inherited enumerable members.
    for (const k in value) {
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
        child.slot = found.length;
        found.push(child);
        keysOf.push(name);
        continue;
      }
      const keys = keysOf[child.slot]!;
      if (typeof keys === 'string') {
        if (keys !== name) keysOf[child.slot] = [keys, name];
      } else if (!keys.includes(name)) {
        keys.push(name);
      }
    }
    for (const child of this.requiredOf(children)) {
      // Absent (most children of most objects): only its minimum cardinality can fail.
      if (child.stamp !== stamp) {
        run.issues.push({ severity: 'error', code: 'required', expression: `${path}.${child.name}${child.isChoice ? '[x]' : ''}`, message: `${child.path} needs at least ${child.min} value(s), has 0` });
      }
    }
    for (let f = 0; f < found.length; f++) {
      const child = found[f]!;
      const keys = keysOf[f]!;
      if (typeof keys !== 'string') {
        run.issues.push({ severity: 'error', code: 'structure', expression: `${path}.${child.name}[x]`, message: `only one of ${keys.join(', ')} may be given` });
      }
      const key = typeof keys === 'string' ? keys : keys[0]!;
      const raw = value[key];
      const isArray = Array.isArray(raw);
      // `_key` (a primitive's id and extensions) is looked up only when it can matter: building
      // and hashing that name for every member was a fifth of the walk.
      const primitiveCompanion = raw === undefined ? value[companionKey(key)] : undefined;
      const count = raw === undefined ? (primitiveCompanion === undefined ? 0 : Array.isArray(primitiveCompanion) ? primitiveCompanion.length : 1) : isArray ? raw.length : 1;
      if (raw !== undefined) {
        if (!child.repeats && isArray) {
          run.issues.push({ severity: 'error', code: 'structure', expression: `${path}.${key}`, message: 'must be a single value, not an array' });
        } else if (child.repeats && !isArray) {
          run.issues.push({ severity: 'error', code: 'structure', expression: `${path}.${key}`, message: 'must be an array (the element repeats)' });
        }
      }
      if (count < child.min) {
        run.issues.push({ severity: 'error', code: 'required', expression: `${path}.${key}`, message: `${child.path} needs at least ${child.min} value(s), has ${count}` });
      }
      if (count > child.max) {
        run.issues.push({ severity: 'error', code: 'structure', expression: `${path}.${key}`, message: `${child.path} allows at most ${child.max} value(s), has ${count}` });
      }
      if (raw === undefined) continue;
      const type = child.isChoice ? child.choiceKeys.get(key) : undefined;
      if (!isArray) {
        if (raw === null) {
          if (value[companionKey(key)] === undefined) run.issues.push({ severity: 'error', code: 'structure', expression: `${path}.${key}`, message: 'null is not a FHIR value' });
          continue;
        }
        const slice = child.slicing && child.slices.length > 0 ? this.assignSlices([raw], child, () => `${path}.${key}`, run, type)[0] : undefined;
        this.validateElement(raw, slice ?? child, `${path}.${key}`, treeRoot, run, type);
        continue;
      }
      const items = raw as unknown[];
      const sliceOf = child.slicing && child.slices.length > 0 ? this.assignSlices(items, child, (i) => `${path}.${key}[${i}]`, run) : undefined;
      for (let i = 0; i < items.length; i++) {
        const item = items[i];
        if (item === null) {
          if (value[companionKey(key)] === undefined) run.issues.push({ severity: 'error', code: 'structure', expression: `${path}.${key}[${i}]`, message: 'null is not a FHIR value' });
          continue;
        }
        this.validateElement(item, sliceOf?.[i] ?? child, `${path}.${key}[${i}]`, treeRoot, run, type);
      }
    }
    if (unknown) {
      for (const k of unknown) {
        run.issues.push({ severity: 'error', code: 'structure', expression: `${path}.${k}`, message: `unknown element ${JSON.stringify(k)}` });
      }
    }
  }

  /** The profiles (or, for references, target profiles) of an element's types, computed once. */
  private profilesOf(element: ElementNode, targets: boolean): string[] {
    let both = this.typeProfiles.get(element);
    if (!both) {
      both = [element.types.flatMap((t) => t.profiles), element.types.flatMap((t) => t.targetProfiles)];
      this.typeProfiles.set(element, both);
    }
    return both[targets ? 1 : 0];
  }

  /** The expansion of a binding's value set (undefined when it cannot be expanded), per binding. */
  private expansionOf(binding: NonNullable<ElementNode['binding']>): Expansion | undefined {
    if (this.expansions.has(binding)) return this.expansions.get(binding);
    const expansion = binding.valueSet ? this.terminology?.expand(binding.valueSet) : undefined;
    this.expansions.set(binding, expansion);
    return expansion;
  }

  /**
   * narrativeLink and originalText extensions on a primitive (`_text`, the usual place of
   * originalText), which the walk does not otherwise enter, for the document's link check.
   */
  private collectPrimitiveLinks(companion: unknown, path: string, run: Run): void {
    const scan = (holder: unknown, at: string): void => {
      const extensions = isObject(holder) ? holder['extension'] : undefined;
      if (!Array.isArray(extensions)) return;
      extensions.forEach((e, i) => {
        if (!isObject(e) || typeof e['url'] !== 'string') return;
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
  }

  /** Which slice each item belongs to; also checks slice cardinality and closed slicing. */
  private assignSlices(items: unknown[], sliced: ElementNode, itemPath: (i: number) => string, run: Run, itemType?: string): (ElementNode | undefined)[] {
    const slicing = sliced.slicing!;
    const structural = slicing.discriminators.filter((d) => d.type !== 'profile');
    const byType = slicing.discriminators.find((d) => d.type === 'type' && !d.path.includes('resolve()'));
    const assigned = items.map((item) => {
      if (item === null) return undefined;
      // Sliced by type (Bundle.entry by resource): only the slices that admit the item's type can take it.
      const slices = byType ? this.slicesAdmitting(sliced, byType.path, this.typeAt(item, byType.path, itemType, run)) : sliced.slices;
      const match = slices.find((s) => this.inSlice(item, s, slicing.discriminators, run, itemType));
      if (match || structural.length === slicing.discriminators.length || structural.length === 0) return match;
      // An item of the right type that fails the profile of a required slice (the Composition, the
      // Patient) belongs to it when no other slice could take it: its errors are then reported
      // against the profile rather than as a missing slice. Either way the document is invalid.
      // Into an optional slice nothing is forced: an open slicing admits what matches no slice.
      const candidates = slices.filter((s) => this.inSlice(item, s, structural, run, itemType));
      return candidates.length === 1 && candidates[0]!.min > 0 ? candidates[0] : undefined;
    });
    for (const slice of sliced.slices) {
      if (slice.min === 0 && slice.max === Number.POSITIVE_INFINITY) continue;
      let count = 0;
      for (const s of assigned) if (s === slice) count++;
      const at = count < slice.min || count > slice.max ? itemPath(0).replace(/\[0\]$/, '') : '';
      if (count < slice.min) {
        run.issues.push({ severity: 'error', code: 'required', expression: at, message: `slice ${slice.sliceName} of ${sliced.path} needs at least ${slice.min}, has ${count}` });
      }
      if (count > slice.max) {
        run.issues.push({ severity: 'error', code: 'structure', expression: at, message: `slice ${slice.sliceName} of ${sliced.path} allows at most ${slice.max}, has ${count}` });
      }
    }
    const closed = slicing.rules === 'closed';
    // Extensions outside the profile's slices are the norm, not worth a line each.
    if (!closed && (sliced.name === 'extension' || sliced.name === 'modifierExtension')) return assigned;
    assigned.forEach((s, i) => {
      if (s || items[i] === null) return;
      run.issues.push(
        closed
          ? { severity: 'error', code: 'structure', expression: itemPath(i), message: `matches no slice of ${sliced.path}, and its slicing is closed` }
          : { severity: 'information', code: 'structure', expression: itemPath(i), message: `matches no known slice of ${sliced.path} (open slicing: allowed)` },
      );
    });
    return assigned;
  }

  /** The type of an item at a type discriminator's path: a resource's type, or the choice's. */
  private typeAt(item: unknown, path: string, itemType: string | undefined, run: Run): string | undefined {
    if (path === '$this' && itemType !== undefined) return itemType;
    const value = this.valuesAt(item, path, run)[0];
    return isObject(value) && typeof value['resourceType'] === 'string' ? value['resourceType'] : undefined;
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
  private inSlice(item: unknown, slice: ElementNode, discriminators: { type: string; path: string }[], run: Run, itemType?: string): boolean {
    if (discriminators.length === 0) return false;
    return discriminators.every((d) => {
      const element = this.elementAt(slice, d.path);
      const values = this.valuesAt(item, d.path, run);
      switch (d.type) {
        case 'value':
        case 'pattern': {
          if (!element) return false;
          if (element.fixed !== undefined) return values.some((v) => (d.type === 'value' ? deepEqual(v, element.fixed) : matchesPattern(v, element.fixed)));
          if (element.pattern !== undefined) return values.some((v) => matchesPattern(v, element.pattern));
          return false;
        }
        case 'exists':
          return element ? (element.min > 0 ? values.length > 0 : element.max === 0 ? values.length === 0 : true) : false;
        case 'type': {
          if (!element) return false;
          // A choice sliced by type (`value[x]:valueQuantity`): the JSON name says the item's type.
          if (d.path === '$this' && itemType !== undefined) return element.types.some((t) => t.code === itemType);
          const allowed = this.allowedTypes(element, d.path);
          return values.some((v) => isObject(v) && allowed.has(String(v['resourceType'])));
        }
        case 'profile': {
          if (!element) return false;
          const profiles = this.profilesOf(element, d.path.includes('resolve()'));
          if (profiles.length === 0) return true;
          return values.some((v) => isObject(v) && profiles.some((p) => this.conforms(v, p, run)));
        }
        default:
          return false;
      }
    });
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
  private conforms(resource: Json, profile: string, run: Run): boolean {
    let byProfile = run.conformance.get(resource);
    if (!byProfile) {
      byProfile = new Map();
      run.conformance.set(resource, byProfile);
    }
    let answer = byProfile.get(profile);
    if (answer === undefined) {
      const sd = this.registry.get(profile);
      answer =
        sd !== undefined &&
        sd.type === resource['resourceType'] &&
        !this.plainlyFails(resource, this.tree(sd), run) &&
        !this.issuesAgainst(resource, sd, run).some((i) => i.severity === 'error' && !this.extensionIssues.has(i));
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
  private plainlyFails(resource: Json, tree: ElementNode, run: Run): boolean {
    for (const child of this.decisiveChildren(tree)) {
      const raw = resource[child.name];
      const items = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
      if (items.length < child.min && resource[`_${child.name}`] === undefined) return true;
      if (items.length === 0) continue;
      if (child.fixed !== undefined && !items.every((i) => deepEqual(i, child.fixed))) return true;
      if (child.pattern !== undefined && !items.every((i) => matchesPattern(i, child.pattern))) return true;
      // A required binding a CodeableConcept misses (the pregnancy and results profiles differ by
      // the value set of `code`): an error the full validation reports too.
      if (child.binding?.strength === 'required' && child.types.length === 1 && child.types[0]!.code === 'CodeableConcept' && !items.every((i) => this.mayBeIn(i, child.binding!))) return true;
      const discriminators = child.slicing?.discriminators ?? [];
      if (discriminators.length === 0 || !discriminators.every((d) => d.type === 'value' || d.type === 'pattern')) continue;
      for (const slice of child.slices) {
        if (slice.min > 0 && !items.some((i) => this.inSlice(i, slice, discriminators, run))) return true;
      }
    }
    return false;
  }

  /**
   * Whether a CodeableConcept can meet a required binding: false only when the value set expands
   * here and the concept has codings, none of them in it (what checkBinding reports as an error).
   */
  private mayBeIn(concept: unknown, binding: NonNullable<ElementNode['binding']>): boolean {
    if (!this.terminology || !binding.valueSet || !isObject(concept) || !Array.isArray(concept['coding'])) return true;
    const keyed = concept['coding'].filter(isObject).filter((c) => typeof c['system'] === 'string' && typeof c['code'] === 'string');
    if (keyed.length === 0) return true;
    const expansion = this.expansionOf(binding);
    return !expansion || keyed.some((c) => expansion.codings.has(`${String(c['system'])}|${String(c['code'])}`));
  }

  /** The top-level children of a profile that plainlyFails can judge on (computed once per tree). */
  private decisiveChildren(tree: ElementNode): ElementNode[] {
    let decisive = this.decisive.get(tree);
    if (!decisive) {
      decisive = tree.children.filter(
        (c) =>
          !c.isChoice &&
          (c.min > 0 ||
            c.fixed !== undefined ||
            c.pattern !== undefined ||
            (c.binding?.strength === 'required' && c.types.length === 1 && c.types[0]!.code === 'CodeableConcept') ||
            ((c.slicing?.discriminators.length ?? 0) > 0 && c.slices.some((slice) => slice.min > 0))),
      );
      this.decisive.set(tree, decisive);
    }
    return decisive;
  }

  /** The element of a slice at a discriminator path (`url`, `code.coding`, `resource`, `resolve()`). */
  private elementAt(slice: ElementNode, path: string): ElementNode | undefined {
    let byPath = this.discriminatorElements.get(slice);
    if (!byPath) {
      byPath = new Map();
      this.discriminatorElements.set(slice, byPath);
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
      child = sd ? this.tree(sd).children.find((c) => c.name === segment) : undefined;
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

  /** Values at a discriminator path inside an item. */
  private valuesAt(item: unknown, path: string, run: Run): unknown[] {
    let values: unknown[] = [item];
    for (const segment of this.segmentsOf(path)) {
      if (segment === '$this') continue;
      const next: unknown[] = [];
      for (const v of values) {
        if (segment === 'resolve()') {
          const ref = isObject(v) ? v['reference'] : undefined;
          const target = typeof ref === 'string' ? this.resolveReference(ref, run) : undefined;
          if (target) next.push(target);
          continue;
        }
        const member = isObject(v) ? v[segment] : undefined;
        if (member === undefined) continue;
        if (Array.isArray(member)) for (const m of member) next.push(m);
        else next.push(member);
      }
      values = next;
    }
    return values;
  }

  private resolveReference(reference: string, run: Run): Json | undefined {
    // For slicing only (which slice an entry is in); whether the reference resolves by the R4
    // rules is checked once for the whole document (document-links.ts).
    return run.entries.get(reference) ?? run.relative.get(reference);
  }

  /**
   * Bindings, when the value set can be expanded from the packages: required ones are errors,
   * extensible and preferred ones warnings. A value set that cannot be expanded here (filters,
   * code systems not shipped) is said once per validation as information; nothing is fetched.
   */
  private checkBinding(value: unknown, binding: NonNullable<ElementNode['binding']>, type: string, path: string, run: Run): void {
    if (!this.terminology || !binding.valueSet || binding.strength === 'example') return;
    const codings =
      type === 'Coding' ? [value] : type === 'CodeableConcept' && isObject(value) && Array.isArray(value['coding']) ? value['coding'] : undefined;
    if (!(type === 'code' && typeof value === 'string') && codings === undefined) return;
    if (type === 'code' && typeof value === 'string' && binding.valueSet.includes('languages') && LANGUAGE_VALUE_SETS.has(canonicalUrl(binding.valueSet))) {
      const problem = languageTagProblem(value);
      if (problem) {
        run.issues.push({ severity: 'error', code: 'value', expression: path, message: problem });
        return;
      }
    }
    let keyed: Json[] | undefined;
    if (codings !== undefined) {
      keyed = [];
      for (const c of codings) if (isObject(c) && typeof c['system'] === 'string' && typeof c['code'] === 'string') keyed.push(c);
      if (keyed.length === 0 && binding.strength !== 'required') return; // text only is allowed
    }
    const expansion = this.expansionOf(binding);
    if (!expansion) {
      const url = canonicalUrl(binding.valueSet);
      if (!run.unexpandable.has(url)) {
        run.unexpandable.add(url);
        run.issues.push({ severity: 'information', code: 'not-supported', expression: path, message: `value set ${url} cannot be expanded here; codes bound to it are not checked` });
      }
      return;
    }
    const inSet =
      keyed === undefined ? expansion.codes.has(value as string) : keyed.some((c) => expansion.codings.has(`${String(c['system'])}|${String(c['code'])}`));
    if (!inSet) {
      run.issues.push({
        severity: binding.strength === 'required' ? 'error' : 'warning',
        code: 'value',
        expression: path,
        message: `not in the ${binding.strength} value set ${canonicalUrl(binding.valueSet)}`,
      });
    }
  }

  /**
   * How each invariant of a node is answered, worked out on the node's first visit: looking the
   * native answer up by expression and building the cache key on every visit cost a fifth of the walk.
   */
  private invariantPlans(node: ElementNode): InvariantPlan[] {
    let plans = node.plans as InvariantPlan[] | undefined;
    if (!plans) {
      plans = node.invariants
        .filter((invariant) => invariant.key !== 'ele-1') // checked natively: no element is an empty object
        .map((invariant) => ({ invariant, cacheKey: `${node.path}\u0000${invariant.expression}`, native: NATIVE_INVARIANTS[invariant.expression] }));
      node.plans = plans;
    }
    return plans;
  }

  private checkInvariants(value: Json, node: ElementNode, path: string, run: Run): void {
    const plans = node.invariants.length === 0 ? undefined : this.invariantPlans(node);
    if (!plans) return;
    for (const plan of plans) {
      const { invariant, cacheKey } = plan;
      const native = plan.native?.(value);
      if (native !== undefined) {
        if (!native) run.issues.push({ severity: invariant.severity, code: 'invariant', key: invariant.key, expression: path, message: `${invariant.key}: ${invariant.human}` });
        continue;
      }
      if (plan.existence === undefined) plan.existence = this.existenceCheck(invariant, node, cacheKey);
      const answer = plan.existence?.(value);
      if (answer !== undefined) {
        if (this.options.crossCheckInvariants) this.crossCheck(invariant, node, cacheKey, value, run, answer);
        if (!answer) run.issues.push({ severity: invariant.severity, code: 'invariant', key: invariant.key, expression: path, message: `${invariant.key}: ${invariant.human}` });
        continue;
      }
      // The same element meets the same invariant whichever profile asks: checked once per run.
      let verdicts = run.verdicts.get(value);
      if (!verdicts) {
        verdicts = new Map();
        run.verdicts.set(value, verdicts);
      }
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
      if (!holds) {
        run.issues.push({ severity: invariant.severity, code: 'invariant', key: invariant.key, expression: path, message: `${invariant.key}: ${invariant.human}` });
      }
    }
  }

  private existenceCheck(invariant: Invariant, node: ElementNode, cacheKey: string): ExistenceCheck | null {
    let check = this.existenceChecks.get(cacheKey);
    if (check === undefined) {
      check = compileExistenceInvariant(invariant.expression, node.path, r4Model as unknown as PathModel) ?? null;
      this.existenceChecks.set(cacheKey, check);
    }
    return check;
  }

  private crossCheck(invariant: Invariant, node: ElementNode, cacheKey: string, value: Json, run: Run, holds: boolean): void {
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
        evaluate = fhirpath.compile({ base: node.path, expression: invariant.expression }, r4Model, { traceFn: () => undefined }) as unknown as Evaluator;
      } catch {
        evaluate = null;
      }
      this.invariants.set(cacheKey, evaluate);
    }
    return evaluate;
  }
}
