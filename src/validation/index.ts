import type { SerialisedWithoutServerMeta } from '../fhir/server-meta.js';
import type { ValidationIssue } from './profile-validator.js';
import type { PushedDocumentCheck } from './pushed-document.js';

export { createValidator, DEFAULT_PROFILE_PACKAGES, ENGINE_VERSION } from './create-validator.js';
export { EU_BUNDLE_PROFILE, IPS_BUNDLE_PROFILE } from './profiles.js';
export { OffloadingValidator } from './offloading-validator.js';
export type { PushedDocumentCheck } from './pushed-document.js';
export { ProfileValidator, type ValidationIssue, type ValidatorOptions } from './profile-validator.js';

/** What services ask of a validator: validate (pushed documents off the event loop when it can), and name the profile set in force. */
export type DocumentValidator = Pick<Validator, 'profileSet' | 'validate' | 'checkDocument' | 'checkPush' | 'checkPushText'>;

/** What the node asks of a validator: ProfileValidator inline, or OffloadingValidator. */
export interface Validator {
  readonly profileSet: string;
  /**
   * `resource` as parsed from JSON: anything may arrive, and what is not a resource is reported.
   * `json`: the JSON text it was parsed from, when the caller has it (OffloadingValidator: its length decides, a worker parses it).
   */
  validate(resource: unknown, profile?: string, json?: string): ValidationIssue[] | Promise<ValidationIssue[]>;
  /** A pushed document's issues and content hash, from its JSON text (OffloadingValidator: on a worker thread). */
  checkDocument?(json: string, parsed: Record<string, unknown>, profile?: string): Promise<{ issues: ValidationIssue[]; contentHash: string }>;
  /**
   * A pushed document's issues and, without errors, its text to store less the server's members
   * (`withServerMetaText` completes it), from its JSON text (OffloadingValidator: on a worker thread).
   */
  checkPush?(json: string, parsed: Record<string, unknown>, profile?: string): Promise<{ issues: ValidationIssue[]; serialised?: SerialisedWithoutServerMeta }>;
  /**
   * Every check of a pushed document from its request text alone: the body's 400s, the document
   * rules, the profile; its facts and text to store (OffloadingValidator: large ones parsed only on a worker thread).
   */
  checkPushText?(json: string, profile?: string): Promise<PushedDocumentCheck>;
  knows(profile: string): boolean;
  knowsType(type: string): boolean;
}
