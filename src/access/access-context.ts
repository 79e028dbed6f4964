import type { Request } from '@hapi/hapi';
import type { Requester } from '../auth/requester.js';

/**
 * Who is asking, for one request. Handed to every service method that returns patient data (the
 * patient-data gate refuses without it). What the request touched and was decided, its audit
 * record's facts, is written by the gate only and read with `auditFactsOf` (audit-facts.ts).
 */
export interface AccessContext {
  /** Undefined until authentication succeeds (audit records of refused tokens have none). */
  requester: Requester | undefined;
  requestId: string;
  /** W3C `traceparent` of this node's span of the request (tracing plugin): peer calls continue it. */
  traceparent?: string;
  /** When the request arrived: consent periods and token windows are judged at this time. */
  at: Date;
}

/** The access context of an authenticated caller: what every service method is handed. */
export type Access = AccessContext & { requester: Requester };

declare module '@hapi/hapi' {
  interface RequestApplicationState {
    access?: AccessContext;
  }
}

/** A new access context, its audit facts empty (the node's tools, tests; requests use {@link accessOf}). */
export function newAccessContext(requestId: string, requester?: Requester, at = new Date()): AccessContext {
  return { requester, requestId, at };
}

/** The access context of a request, created on first use. */
export function accessOf(request: Request, requestId: string): AccessContext {
  request.app.access ??= newAccessContext(requestId);
  return request.app.access;
}
