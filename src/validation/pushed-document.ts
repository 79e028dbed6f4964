import Boom from '@hapi/boom';
import { checkDocumentRules, type DocumentFacts } from '../documents/document-rules.js';
import { problemsOf, type Problem } from '../fhir/operation-outcome.js';
import { parseResourceText } from '../fhir/resource-body.js';
import { serialiseWithoutServerMeta, type SerialisedWithoutServerMeta } from '../fhir/server-meta.js';
import type { ProfileValidator, ValidationIssue } from './profile-validator.js';

/**
 * What a push needs to know of a document, from its request text: a refusal (the status and
 * problems of the answer), or the document's facts, its warnings, and its text to store less
 * the server's members. Plain data, so that a worker thread can hand it back.
 */
export type PushedDocumentCheck =
  | { refused: { status: number; problems: Problem[] } }
  | {
      facts: DocumentFacts;
      /** Warnings and information (a document with an error is refused). */
      issues: ValidationIssue[];
      serialised: SerialisedWithoutServerMeta;
      /** The document as parsed, when checked on the event loop (a worker's copy is not sent back). */
      document?: Record<string, unknown>;
    };

/**
 * Every check of a pushed document, from one parse of its text, in the order the answer
 * depends on: the body (400: not JSON, not a Bundle, too deep, `__proto__`, lone surrogates),
 * the document rules (422), the profile (422 naming every issue). Runs on the event loop or on a
 * validation worker alike; the text's UTF-8 was checked by whoever read the request.
 */
export function checkPushedDocument(validator: ProfileValidator, text: string, profile: string | undefined, keepDocument: boolean): PushedDocumentCheck {
  let document: Record<string, unknown>;
  try {
    document = parseResourceText(text, 'Bundle');
  } catch (error) {
    const problems = Boom.isBoom(error) ? problemsOf(error) : undefined;
    if (!Boom.isBoom(error) || !problems) throw error;
    return { refused: { status: error.output.statusCode, problems: [...problems] } };
  }
  const check = checkDocumentRules(document);
  if (!check.ok) return { refused: { status: 422, problems: check.problems } };
  const issues = validator.validate(document, profile);
  // A ValidationIssue is a Problem: it goes into the OperationOutcome as it is.
  if (issues.some((i) => i.severity === 'error')) return { refused: { status: 422, problems: issues } };
  return { facts: check.facts, issues, serialised: serialiseWithoutServerMeta(document), ...(keepDocument ? { document } : {}) };
}
