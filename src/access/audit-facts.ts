import type { ConsentDecision } from '../consent/consent-decision.js';

/**
 * What one request touched and what was decided for it: the facts its audit record states.
 * Written only by the patient-data gate and the Disclosures it issues; everyone else (services,
 * routes, the audit plugin) reads them through {@link auditFactsOf}, as a frozen snapshot.
 */
export interface AuditFacts {
  /** Patients the request reached or asked for (node ids), in the order first reached. */
  readonly patients: readonly string[];
  /** Resources read, written or asked for (`Bundle/<id>/_history/<v>`, `Consent/<id>`, a peer's URL), in order. */
  readonly resources: readonly string[];
  /** The consent decision the data was released (or refused) under, when one was taken. */
  readonly decision: ConsentDecision | undefined;
  /** Refused for going over a request budget (the requester's, or theirs for the patient). */
  readonly throttled: boolean;
  /** A permitted break-glass read let through although over the requester's budget for the patient. */
  readonly overBudget: boolean;
  /** Data released under a break-glass decision. */
  readonly breakGlass: boolean;
}

/** What a request's facts are kept for: its access context (any object, held weakly). */
export type FactHolder = object;

/**
 * The writable record of one request's facts. Reachable for a request only through
 * {@link factRecordOf}, which only the patient-data gate calls: `test/access/audit-facts.test.ts`
 * fails if anything else in src/ imports it.
 */
export class AuditFactRecord {
  private decision: ConsentDecision | undefined;
  private throttled = false;
  private overBudget = false;

  private readonly patients = new Set<string>();
  private readonly resources: string[] = [];

  /** A patient the request reached or asked for. */
  reached(patientId: string): void {
    this.patients.add(patientId);
  }

  /** A resource the request read, wrote or asked for. */
  touched(reference: string): void {
    this.resources.push(reference);
  }

  /** The decision the request is answered under; `unlessDecided`: keep the first (search results). */
  decided(decision: ConsentDecision, unlessDecided = false): void {
    if (unlessDecided && this.decision) return;
    this.decision = decision;
  }

  /** Refused over a request budget. */
  throttle(): void {
    this.throttled = true;
  }

  /** A break-glass read let through over the budget. */
  wentOverBudget(): void {
    this.overBudget = true;
  }

  /** The facts as they stand, frozen: a reader cannot write through them. */
  facts(): AuditFacts {
    const decision = this.decision;
    return Object.freeze({
      patients: Object.freeze([...this.patients]),
      resources: Object.freeze([...this.resources]),
      decision: decision === undefined ? undefined : Object.freeze({ ...decision }),
      throttled: this.throttled,
      overBudget: this.overBudget,
      breakGlass: decision?.outcome === 'permit' && decision.breakGlass,
    });
  }
}

const records = new WeakMap<FactHolder, AuditFactRecord>();

/**
 * The writable record of `access`'s facts, made on first use. For the patient-data gate only:
 * services write facts through the gate.
 */
export function factRecordOf(access: FactHolder): AuditFactRecord {
  let record = records.get(access);
  if (!record) {
    record = new AuditFactRecord();
    records.set(access, record);
  }
  return record;
}

/** What `access`'s request touched and was decided so far: a frozen snapshot, to read only. */
export function auditFactsOf(access: FactHolder): AuditFacts {
  return factRecordOf(access).facts();
}
