import Boom from '@hapi/boom';
import type { Plugin, Request, ResponseObject, ResponseToolkit } from '@hapi/hapi';
import type { Logger } from 'pino';
import { operationOutcome, problemsOf, type IssueCode, type Problem } from '../fhir/operation-outcome.js';
import { loggableError } from '../logger.js';
import { StoreFullError } from '../repositories/document-collection.js';
import { requestIdOf } from './request-id.js';

const STORE_FULL_MIDWAY: Problem = { severity: 'error', code: 'no-store', message: "this node's store is full: the write was not completed. The operator must move the node to MongoDB or raise its bound (PONTIS_EMBEDDED_MAX_BYTES)." };

/** Issue code for an HTTP error raised by hapi itself rather than by our handlers. */
function codeForStatus(status: number): IssueCode {
  switch (status) {
    case 404:
      return 'not-found';
    case 405:
    case 406:
    case 415:
      return 'not-supported';
    case 409:
    case 412:
      return 'conflict';
    case 413:
      return 'too-costly';
    case 401:
      return 'login';
    case 403:
      return 'forbidden';
    default:
      return status >= 500 ? 'exception' : 'invalid';
  }
}

function problemsForHapiError(error: Boom.Boom, maxPayloadBytes: number): Problem[] {
  const status = error.output.statusCode;
  if (status >= 500) return [{ code: 'exception', message: 'the node could not complete the request; it has been logged' }];
  const message =
    status === 404
      ? 'no such resource or operation on this node'
      : status === 413
        ? `the request body exceeds the limit of ${maxPayloadBytes} bytes`
        : status === 415
          ? 'send FHIR JSON: Content-Type application/fhir+json (or application/json)'
          : String(error.output.payload.message || error.message);
  return [{ code: codeForStatus(status), message }];
}

/**
 * The answer to an error: its OperationOutcome, status and headers, logged as it deserves (a
 * refusal we chose as a warning, an unexpected exception as an error). What the plugin below
 * does with every Boom; exported for the one step that must answer an error before it without
 * throwing (a thrown error skips the steps after it: authentication's replay check).
 */
export function outcomeAnswer(request: Request, h: ResponseToolkit, error: Boom.Boom, logger: Logger, maxPayloadBytes = 0): ResponseObject {
  // The embedded store's own bound, met by a write its admission could not foresee: 507 too.
  const full = error instanceof StoreFullError;
  const status = full ? 507 : error.output.statusCode;
  const deliberate = full ? [STORE_FULL_MIDWAY] : problemsOf(error);
  if (status >= 500) {
    // A refusal we chose (peer down, store unreachable) is a warning with its issue code; an
    // unexpected exception an error, as class, code and stack frames (messages may quote requests).
    if (deliberate) logger.warn({ requestId: requestIdOf(request), statusCode: status, issue: deliberate[0]?.code }, 'request refused by the node');
    else logger.error({ requestId: requestIdOf(request), err: loggableError(error) }, 'unexpected error');
  }
  const problems = deliberate ?? problemsForHapiError(error, maxPayloadBytes);
  const answer = h.response(operationOutcome(problems)).code(status);
  for (const [name, value] of Object.entries(error.output.headers)) {
    if (value !== undefined && name.toLowerCase() !== 'content-type') answer.header(name, String(value));
  }
  return answer;
}

/**
 * The one place where errors become HTTP: every Boom raised anywhere in the lifecycle (ours,
 * hapi's, or an unexpected exception) leaves as a FHIR OperationOutcome with its status.
 */
export const operationOutcomePlugin: Plugin<{ logger: Logger; maxPayloadBytes: number }> = {
  name: 'pontis-operation-outcome',
  register(server, { logger, maxPayloadBytes }) {
    server.ext('onPreResponse', (request, h) => (Boom.isBoom(request.response) ? outcomeAnswer(request, h, request.response, logger, maxPayloadBytes) : h.continue));
  },
};
