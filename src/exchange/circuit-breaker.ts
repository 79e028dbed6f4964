/** When a circuit opens and for how long. */
export interface CircuitBreakerSettings {
  /** Failed calls in a row that open the circuit. */
  threshold: number;
  /** How long an open circuit refuses calls before it lets one trial through (ms). */
  openMs: number;
}

/** The defaults: five failures in a row open the circuit for 30 s. */
export const DEFAULT_BREAKER: CircuitBreakerSettings = { threshold: 5, openMs: 30_000 };

/** Where a circuit stands. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/**
 * Leave for one call to go out, handed back with its outcome. It remembers whether the call was
 * the half-open trial and which opening of the circuit it belongs to, so that the outcome of a
 * call that began before the circuit opened cannot pass for the trial's.
 */
export interface CallPermit {
  readonly trial: boolean;
  readonly opening: number;
}

/**
 * A circuit breaker per peer: after `threshold` failures in a row the circuit opens and calls are
 * refused at once for `openMs`; then exactly one trial call is let through (half-open) while the
 * others are still refused; its success closes the circuit, its failure opens it for another
 * `openMs`. A dead peer thus costs its callers nothing, and nobody else anything.
 *
 * Calls that were already under way when the circuit opened may end later: a failure among them
 * is no news and is ignored (it neither extends the pause nor ends a trial); a success is news
 * (the peer answers) and closes the circuit.
 */
export class CircuitBreaker {
  private failures = 0;
  private openUntil = 0;
  private trialUnderWay = false;
  /** How many times the circuit has opened: permits of earlier openings are stale. */
  private openings = 0;
  /** The permit of every call while the circuit is closed, since it last opened: one object, not one per call. */
  private closedPermit: CallPermit = Object.freeze({ trial: false, opening: 0 });
  private readonly settings: CircuitBreakerSettings;

  constructor(settings: Partial<CircuitBreakerSettings> = {}) {
    this.settings = { ...DEFAULT_BREAKER, ...settings };
  }

  /** Where the circuit stands at `now`. */
  state(now = Date.now()): CircuitState {
    if (this.failures < this.settings.threshold) return 'closed';
    return now < this.openUntil && !this.trialUnderWay ? 'open' : 'half-open';
  }

  /** Leave for a call to go out now, or undefined when the circuit refuses it. */
  permit(now = Date.now()): CallPermit | undefined {
    if (this.failures < this.settings.threshold) return this.closedPermit;
    if (now < this.openUntil || this.trialUnderWay) return undefined;
    this.trialUnderWay = true;
    return { trial: true, opening: this.openings };
  }

  /** How long until the circuit lets a call through again (ms; 0 when it would now). */
  retryAfterMs(now = Date.now()): number {
    if (this.failures < this.settings.threshold) return 0;
    // While a trial is under way, its outcome comes within the call timeout; say the pause.
    return this.trialUnderWay ? this.settings.openMs : Math.max(0, this.openUntil - now);
  }

  /** The peer answered: the circuit closes. */
  succeeded(_permit: CallPermit): void {
    this.failures = 0;
    this.trialUnderWay = false;
  }

  /** The peer failed the call made under `permit`. */
  failed(permit: CallPermit, now = Date.now()): void {
    if (permit.trial) {
      this.trialUnderWay = false;
      this.open(now);
      return;
    }
    // A call begun before the circuit last opened tells nothing new.
    if (permit.opening !== this.openings || this.failures >= this.settings.threshold) return;
    this.failures += 1;
    if (this.failures >= this.settings.threshold) this.open(now);
  }

  private open(now: number): void {
    this.failures = Math.max(this.failures, this.settings.threshold);
    this.openUntil = now + this.settings.openMs;
    this.openings += 1;
    this.closedPermit = Object.freeze({ trial: false, opening: this.openings });
  }
}
