import { workerData } from 'piscina';
import { documentContentHash } from '../documents/content-hash.js';
import { serialiseWithoutServerMeta, type SerialisedWithoutServerMeta } from '../fhir/server-meta.js';
import { createValidator } from './create-validator.js';
import { checkPushedDocument, type PushedDocumentCheck } from './pushed-document.js';
import type { ValidatorOptions } from './profile-validator.js';
import type { ValidationIssue } from './profile-validator.js';

/**
 * What the pool sends a worker: a document's JSON text, and whether its content hash is wanted
 * too, and (`serialised`) the text to store, without the server's members, when it has no error.
 */
export interface ValidationTask {
  json: string;
  profile?: string;
  contentHash?: boolean;
  serialised?: boolean;
  /** Every check of a push (`checkPushedDocument`) instead: the body, the document rules, the profile. */
  push?: boolean;
}

/**
 * A worker's answer. `profileSet` names the definitions it validated against (the caller refuses
 * any other); `failure` is a validator error, which this function never throws: a rejected task
 * then always means that the pool lost the worker.
 */
export type ValidationVerdict =
  | { profileSet: string; issues: ValidationIssue[]; contentHash?: string; serialised?: SerialisedWithoutServerMeta }
  | { profileSet: string; pushed: PushedDocumentCheck }
  | { profileSet: string; failure: string };

// Loaded once per worker thread, when piscina starts it (before its first task).
const { packages, options } = workerData as { packages: string[]; options: Pick<ValidatorOptions, 'unknownExtensions'> };
const validator = createValidator(packages, options);

/**
 * A piscina task (see OffloadingValidator): a document validated, and as asked its content
 * hashed and its text to store serialised, from one parse of its text, off the node's event loop.
 */
export default function validateDocument(task: ValidationTask): ValidationVerdict {
  try {
    if (task.push === true) return { profileSet: validator.profileSet, pushed: checkPushedDocument(validator, task.json, task.profile, false) };
    const resource = JSON.parse(task.json) as Record<string, unknown>;
    const issues = validator.validate(resource, task.profile);
    // A refused document is not stored: no text to serialise.
    const stored = task.serialised === true && !issues.some((i) => i.severity === 'error');
    return {
      profileSet: validator.profileSet,
      issues,
      ...(task.contentHash ? { contentHash: documentContentHash(resource) } : {}),
      ...(stored ? { serialised: serialiseWithoutServerMeta(resource) } : {}),
    };
  } catch (error) {
    // The message only: a validator's error never quotes document content (it names paths and rules).
    return { profileSet: validator.profileSet, failure: error instanceof Error ? error.message : String(error) };
  }
}
