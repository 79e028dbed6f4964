import type { ElementNode, Invariant } from './element-tree.js';
import type { ValidationIssue } from './validation-issue.js';

/**
 * Every finding of the profile walk, worded in one place: the severity, issue code and text that
 * clients read in the OperationOutcome (and that tests and docs/validation.md quote). Built only
 * when something is reported, so none of this is on a valid document's path.
 */

const issue = (severity: ValidationIssue['severity'], code: ValidationIssue['code'], expression: string, message: string): ValidationIssue => ({ severity, code, expression, message });

/** A `resourceType` that names no FHIR resource. */
export const unknownResourceType = (path: string, type: unknown): ValidationIssue => issue('error', 'structure', path, `unknown resourceType ${JSON.stringify(type)}`);

/** A profile not loaded: an error when the caller asked for it, information when the resource declares it. */
export const unknownProfile = (path: string, url: string, requested: boolean): ValidationIssue =>
  issue(requested ? 'error' : 'information', 'not-supported', path, `profile ${url} is not known here; not checked`);

export const profileOfOtherType = (path: string, url: string, profileType: string, type: string): ValidationIssue =>
  issue('error', 'structure', path, `profile ${url} is for ${profileType}, not ${type}`);

export const notFixedValue = (path: string, fixed: unknown): ValidationIssue => issue('error', 'value', path, `must be exactly ${JSON.stringify(fixed)}`);

export const notPattern = (path: string, pattern: unknown): ValidationIssue => issue('error', 'value', path, `must match the pattern ${JSON.stringify(pattern)}`);

/** A finding of the narrative check (narrative.ts): txt-1/txt-2 invariants, or a value problem. */
export const narrativeProblem = (path: string, p: { message: string; key?: string; warning?: boolean }): ValidationIssue => ({
  severity: p.warning ? 'warning' : 'error',
  code: p.key ? 'invariant' : 'value',
  expression: path,
  message: p.message,
  ...(p.key ? { key: p.key } : {}),
});

export const imageNotContained = (path: string, image: string): ValidationIssue => issue('error', 'value', path, `image #${image} is not a contained resource of this resource`);

/** A primitive's lexical problem (primitives.ts, identifier-formats.ts). */
export const badPrimitive = (path: string, problem: string): ValidationIssue => issue('error', 'value', path, `value ${problem}`);

export const notAnObject = (path: string, typeName: string | undefined): ValidationIssue => issue('error', 'structure', path, `must be a JSON object (${typeName ?? 'element'})`);

export const emptyElement = (path: string): ValidationIssue => ({ severity: 'error', code: 'invariant', key: 'ele-1', expression: path, message: 'All FHIR elements must have a @value or children' });

/** A value problem stated in full by its checker (identifier formats, language tags). */
export const valueProblem = (path: string, problem: string): ValidationIssue => issue('error', 'value', path, problem);

export const missing = (path: string, child: ElementNode, count: number): ValidationIssue => issue('error', 'required', path, `${child.path} needs at least ${child.min} value(s), has ${count}`);

export const tooMany = (path: string, child: ElementNode, count: number): ValidationIssue => issue('error', 'structure', path, `${child.path} allows at most ${child.max} value(s), has ${count}`);

export const severalChoices = (path: string, keys: string[]): ValidationIssue => issue('error', 'structure', path, `only one of ${keys.join(', ')} may be given`);

export const arrayForSingle = (path: string): ValidationIssue => issue('error', 'structure', path, 'must be a single value, not an array');

export const singleForArray = (path: string): ValidationIssue => issue('error', 'structure', path, 'must be an array (the element repeats)');

export const nullValue = (path: string): ValidationIssue => issue('error', 'structure', path, 'null is not a FHIR value');

export const unknownElement = (path: string, member: string): ValidationIssue => issue('error', 'structure', path, `unknown element ${JSON.stringify(member)}`);

export const sliceMissing = (path: string, slice: ElementNode, sliced: ElementNode, count: number): ValidationIssue =>
  issue('error', 'required', path, `slice ${slice.sliceName} of ${sliced.path} needs at least ${slice.min}, has ${count}`);

export const sliceTooMany = (path: string, slice: ElementNode, sliced: ElementNode, count: number): ValidationIssue =>
  issue('error', 'structure', path, `slice ${slice.sliceName} of ${sliced.path} allows at most ${slice.max}, has ${count}`);

export const outsideClosedSlicing = (path: string, sliced: ElementNode): ValidationIssue => issue('error', 'structure', path, `matches no slice of ${sliced.path}, and its slicing is closed`);

export const outsideOpenSlicing = (path: string, sliced: ElementNode): ValidationIssue =>
  issue('information', 'structure', path, `matches no known slice of ${sliced.path} (open slicing: allowed)`);

export const unexpandableValueSet = (path: string, url: string): ValidationIssue =>
  issue('information', 'not-supported', path, `value set ${url} cannot be expanded here; codes bound to it are not checked`);

export const notInValueSet = (path: string, strength: string, url: string): ValidationIssue =>
  issue(strength === 'required' ? 'error' : 'warning', 'value', path, `not in the ${strength} value set ${url}`);

export const systemIsValueSet = (path: string, system: string): ValidationIssue => issue('error', 'value', path, `${system} is a ValueSet, not a code system`);

export const oldIpsCodeSystem = (path: string, system: string): ValidationIssue =>
  issue('error', 'value', path, `${system} is not a code system of IPS 2.0.0 (it belonged to an earlier IPS version)`);

export const unknownCodeSystemVersion = (path: string, system: string, version: string, known: string): ValidationIssue =>
  issue('error', 'value', path, `version ${version} of ${system} is not known (known: ${known})`);

export const hl7ExtensionNotLoaded = (path: string, url: string): ValidationIssue => issue('information', 'not-supported', path, `extension ${url} is HL7's but not loaded here; not checked`);

export const unknownExtension = (path: string, url: string, modifier: boolean, severity: 'warning' | 'error'): ValidationIssue =>
  issue(modifier ? 'error' : severity, 'not-supported', path, `${modifier ? 'modifier ' : ''}extension ${url} is not known here`);

export const invariantFails = (path: string, invariant: Invariant): ValidationIssue => ({
  severity: invariant.severity,
  code: 'invariant',
  key: invariant.key,
  expression: path,
  message: `${invariant.key}: ${invariant.human}`,
});
