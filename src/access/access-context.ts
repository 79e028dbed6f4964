import type { Request } from '@hapi/hapi';
import type { Requester } from '../auth/requester.js';
import type { ConsentDecision } from '../consent/consent-decision.js';

/**
 * Who is asking, for one request, and what the request came to touch. Handed to every service
 * method that returns patient data (the patient-data gate refuses without it), and read by the
 * audit plugin to write the request's record.
 */
export interface AccessContext {
  /** Undefined until authentication succeeds (audit records of refused tokens have none). */
  requester: Requester | undefined;
  requestId: string;
  /** W3C `traceparent` of this node's span of the request (tracing plugin): peer calls continue it. */
  traceparent?: string;
  /** When the request arrived: consent periods and token windows are judged at this time. */
  at: Date;
  /** Patients whose data the request reached or asked for (node ids). */
  readonly patients: Set<string>;
  /** Resources read or written (`Bundle/<id>/_history/<v>`, `Consent/<id>`, ...). */
  readonly resources: string[];
  /** The consent decision the data was released (or refused) under, when one was taken. */
  decision?: ConsentDecision;
  /** Set when the request was refused for going over a request budget. */
  throttled?: boolean;
  /** Set when a break-glass read went through although over the requester's budget for the patient. */
  overBudget?: boolean;
}

/** The access context of an authenticated caller: what every service method is handed. */
export type Access = AccessContext & { requester: Requester };

declare module '@hapi/hapi' {
  interface RequestApplicationState {
    access?: AccessContext;
  }
}

/** The access context of a request, created on first use. */
export function accessOf(request: Request, requestId: string): AccessContext {
  request.app.access ??= { requester: undefined, requestId, at: new Date(), patients: new Set(), resources: [] };
  return request.app.access;
}
