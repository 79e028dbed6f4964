import type { FhirResource, Resource } from 'fhir/r4.js';

/** The name of an R4 resource type, such as `Consent`. */
export type ResourceType = FhirResource['resourceType'];

/** The R4 resource a `resourceType` names: `ResourceOf<'Consent'>` is `Consent`; `ResourceOf<string>` any of them. */
export type ResourceOf<T extends string> = Extract<FhirResource, { resourceType: T }>;

/** A JSON object as parsed: any member names, any JSON values. */
export type ParsedObject = { readonly [member: string]: unknown };

/**
 * A resource as a client or peer wrote it: the R4 type its `resourceType` names, and every member
 * it was sent with, whatever its name and value until the profile validator has judged them.
 */
export type ResourceAsWritten<T extends string> = ResourceOf<T> & ParsedObject;

/**
 * Whether parsed JSON is an object (not null, not an array): the one guard before any member of
 * parsed JSON is read (the validator, the document rules, the Consent rules, request bodies).
 */
export function isJsonObject(value: unknown): value is ParsedObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Whether parsed JSON is a resource of one of `types`: a JSON object whose `resourceType` is one
 * of them. This is where JSON becomes a FHIR type (see DEVELOPERS.md, "FHIR types"): what it
 * tells is the resource type only; the elements are what the sender wrote until the profile
 * validator has judged them, so code before validation still reads them defensively.
 */
export function isResourceOf<T extends string>(value: unknown, ...types: readonly T[]): value is ResourceOf<T> {
  if (!isJsonObject(value)) return false;
  const resourceType = value['resourceType'];
  return typeof resourceType === 'string' && (types as readonly string[]).includes(resourceType);
}

/**
 * Whether parsed JSON is a FHIR resource of some type: a JSON object with a string
 * `resourceType`. For answers that may be any resource (a result, or an OperationOutcome); narrow
 * further with {@link isResourceOf}.
 */
export function isResource(value: unknown): value is Resource {
  return isJsonObject(value) && typeof value['resourceType'] === 'string';
}
