/**
 * A circuit breaker per peer: after `threshold` failures in a row the circuit opens and calls are
 * refused at once for `openMs`; then one trial call is let through (half-open), whose outcome
 * closes or reopens it. A dead peer thus costs its callers nothing, and nobody else anything.
 */
export class CircuitBreaker {
  private failures = 0;
  private openUntil = 0;
  private trialUnderWay = false;

  constructor(
    private readonly threshold = 5,
    private readonly openMs = 30_000,
  ) {}

  /** Whether a call may go out now. */
  allows(now = Date.now()): boolean {
    if (this.failures < this.threshold) return true;
    if (now < this.openUntil || this.trialUnderWay) return false;
    this.trialUnderWay = true;
    return true;
  }

  succeeded(): void {
    this.failures = 0;
    this.trialUnderWay = false;
  }

  failed(now = Date.now()): void {
    this.failures += 1;
    this.trialUnderWay = false;
    if (this.failures >= this.threshold) this.openUntil = now + this.openMs;
  }

  get open(): boolean {
    return this.failures >= this.threshold && Date.now() < this.openUntil;
  }
}
