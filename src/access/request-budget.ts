import { createHash } from 'node:crypto';
import type { Boom } from '@hapi/boom';
import { fhirError } from '../fhir/operation-outcome.js';
import type { RequestBudgetRepository } from '../repositories/request-budget-repository.js';

/** Thresholds of abuse detection; 0 turns a limit off. */
export interface BudgetLimits {
  perRequester: number;
  perPatient: number;
  windowMs: number;
}

/**
 * Abuse detection (as in OpenNCP): requests per requester, and per requester and patient, over
 * a fixed window, counted in memory by each instance and reconciled through the database, so
 * that instances sharing it enforce one limit (within the bound RequestBudgetRepository states). Over a
 * limit: 429. A patient's budget is each requester's own: one requester's abuse never locks
 * others out of a patient's data.
 */
export class RequestBudget {
  constructor(
    private readonly counts: RequestBudgetRepository,
    private readonly limits: BudgetLimits,
  ) {}

  /** Counts a request against `kind`'s budget for `key`; throws a 429 when over it. */
  async spend(kind: 'requester' | 'patient', key: string, at: number): Promise<void> {
    const refusal = await this.charge(kind, key, at);
    if (refusal) throw refusal;
  }

  /**
   * Counts a request against `kind`'s budget for `key`; resolves to the 429 to answer when
   * over it (the caller decides: break-glass goes through, flagged), else undefined.
   */
  async charge(kind: 'requester' | 'patient', key: string, at: number): Promise<Boom | undefined> {
    const limit = kind === 'requester' ? this.limits.perRequester : this.limits.perPatient;
    if (limit <= 0) return undefined;
    const windowStart = at - (at % this.limits.windowMs);
    // Keys are hashed: the counts collection holds no identifiers.
    const hashed = createHash('sha256').update(key).digest('base64url').slice(0, 22);
    const count = await this.counts.count(`${kind[0]}:${hashed}`, windowStart, this.limits.windowMs);
    if (count <= limit) return undefined;
    const retryAfter = Math.ceil((windowStart + this.limits.windowMs - at) / 1000);
    const error = fhirError(429, {
      code: 'throttled',
      message: `too many requests ${kind === 'requester' ? 'from this requester' : 'for this patient'}: at most ${limit} per ${this.limits.windowMs / 1000} s; retry after ${retryAfter} s`,
    });
    error.output.headers['Retry-After'] = String(retryAfter);
    return error;
  }
}
