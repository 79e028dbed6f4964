import Boom from '@hapi/boom';
import type { Narrative, OperationOutcome, OperationOutcomeIssue } from 'fhir/r4.js';
import { generatedNarrative } from './narrative.js';

/** Severity of an {@link OperationOutcomeIssue}. */
export type IssueSeverity = OperationOutcomeIssue['severity'];
/** FHIR `issue-type` code of an {@link OperationOutcomeIssue}. */
export type IssueCode = OperationOutcomeIssue['code'];

/** One problem found in a request, located by the FHIRPath of the element at fault. */
export interface Problem {
  severity?: IssueSeverity;
  code: IssueCode;
  /** Human-readable explanation; never contains patient data. */
  message: string;
  /** FHIRPath of the element (or the query parameter name) at fault. */
  expression?: string;
  /** Key of the violated constraint (`ips-comp-1`), when there is one. */
  key?: string;
}

/** Code system of the constraint keys (`bdl-11`, `ips-comp-1`) named in `issue.details`. */
export const CONSTRAINT_KEY_SYSTEM = 'https://pontis.example.eu/fhir/CodeSystem/constraint-key';

/** The generated narrative of an OperationOutcome (dom-6): each issue's severity, code, place and message. */
function narrativeOf(issues: readonly OperationOutcomeIssue[]): Narrative {
  return generatedNarrative(
    'Outcome',
    issues.map((i) => `${i.severity} (${i.code})${i.expression ? ` at ${i.expression.join(', ')}` : ''}: ${i.diagnostics ?? ''}`),
  );
}

/** Builds an OperationOutcome from problems (an information issue "All OK" when there are none). */
export function operationOutcome(problems: readonly Problem[]): OperationOutcome {
  const issue: OperationOutcomeIssue[] =
    problems.length === 0
      ? [{ severity: 'information', code: 'informational', diagnostics: 'All OK' }]
      : problems.map((p) => ({
          severity: p.severity ?? 'error',
          code: p.code,
          diagnostics: p.message,
          ...(p.key === undefined ? {} : { details: { coding: [{ system: CONSTRAINT_KEY_SYSTEM, code: p.key }], text: `constraint ${p.key}` } }),
          ...(p.expression === undefined ? {} : { expression: [p.expression] }),
        }));
  return { resourceType: 'OperationOutcome', text: narrativeOf(issue), issue };
}

/**
 * The one way handlers report a failure: a Boom error carrying the problems, which the
 * operation-outcome plugin turns into the response body. `status` is the HTTP status.
 */
export function fhirError(status: number, problems: Problem | readonly Problem[]): Boom.Boom<readonly Problem[]> {
  const list = Array.isArray(problems) ? (problems as readonly Problem[]) : [problems as Problem];
  const first = list[0];
  return new Boom.Boom(first?.message ?? 'request refused', { statusCode: status, data: list });
}

function isProblem(value: unknown): value is Problem {
  return value !== null && typeof value === 'object' && typeof (value as Problem).code === 'string' && typeof (value as Problem).message === 'string';
}

/**
 * Problems attached to a Boom raised through {@link fhirError}, if any. hapi attaches arrays of
 * its own to some errors (a refused Cookie header carries the cookies' details): those are not
 * problems, and the error is answered as hapi's.
 */
export function problemsOf(error: Boom.Boom): readonly Problem[] | undefined {
  const data: unknown = error.data;
  return Array.isArray(data) && data.length > 0 && data.every(isProblem) ? (data as readonly Problem[]) : undefined;
}
