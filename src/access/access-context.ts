import type { Request } from '@hapi/hapi';
import type { Requester } from '../auth/requester.js';
import type { ConsentDecision } from '../consent/consent-decision.js';
import { factRecordOf } from './audit-facts.js';

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
  /**
   * @deprecated The storage of the audit record's patients, for code not yet moved to the gate;
   * write through `gate.reached`, read `auditFactsOf(access).patients`.
   */
  readonly patients: Set<string>;
  /**
   * @deprecated The storage of the audit record's resources, for code not yet moved to the gate;
   * write through `disclosure.touched` or `gate.touched`, read `auditFactsOf(access).resources`.
   */
  readonly resources: string[];
  /** @deprecated Read `auditFactsOf(access).decision`. */
  readonly decision?: ConsentDecision | undefined;
  /** @deprecated Setting it notes a refusal over the requester's budget; the gate's `admitRequester` does it. */
  throttled?: boolean | undefined;
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
  const access = { requester, requestId, at, patients: new Set<string>(), resources: [] as string[] };
  const record = factRecordOf(access);
  // Deprecated pass-throughs: the record stays the one source of the facts.
  return Object.defineProperties(access, {
    decision: { enumerable: true, get: () => record.facts().decision },
    throttled: {
      enumerable: true,
      get: () => record.facts().throttled,
      set: (value: unknown) => {
        if (value === true) record.throttle();
      },
    },
  }) as AccessContext;
}

/** The access context of a request, created on first use. */
export function accessOf(request: Request, requestId: string): AccessContext {
  request.app.access ??= newAccessContext(requestId);
  return request.app.access;
}
