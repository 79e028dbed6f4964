import type { Duplex } from 'node:stream';
import { Agent, type Dispatcher } from 'undici';

/*
 * A peer's connection pool with a total timeout per exchange, apart from the peer client so that
 * undici (an eighth of the node's start-up) is loaded with the first peer call, not at start.
 */

/** Aborts an exchange with a peer that outlived the total timeout ({@link DeadlineAgent}). */
class PeerDeadlineExceeded extends Error {
  override name = 'PeerDeadlineExceeded';
  readonly code = 'PONTIS_PEER_DEADLINE';
  constructor(ms: number) {
    super(`no complete answer within ${ms} ms`);
  }
}

/**
 * One exchange on the wire with its total timeout: a timer armed when the exchange is dispatched
 * and cleared when it ends, which aborts it through undici's own abort when it fires. Wraps the
 * handler fetch hands the pool (undici's older callback set: `onConnect` gives the abort); an
 * exchange not yet written when the timer fires is aborted as it starts (it waits at most for its
 * connection, itself bounded by the connect timeout).
 */
class DeadlineHandler implements Dispatcher.DispatchHandler {
  private readonly timer: NodeJS.Timeout;
  private abort: ((reason: Error) => void) | undefined;
  private expired: PeerDeadlineExceeded | undefined;

  constructor(
    private readonly handler: Dispatcher.DispatchHandler,
    ms: number,
  ) {
    this.timer = setTimeout(() => {
      this.expired = new PeerDeadlineExceeded(ms);
      this.abort?.(this.expired);
    }, ms);
  }

  onConnect(abort: (reason?: Error) => void, context?: unknown): void {
    this.abort = abort;
    if (this.expired) {
      abort(this.expired);
      return;
    }
    (this.handler.onConnect as ((abort: (reason?: Error) => void, context?: unknown) => void) | undefined)?.(abort, context);
  }

  onResponseStarted(): void {
    this.handler.onResponseStarted?.();
  }

  onHeaders(statusCode: number, headers: Buffer[], resume: () => void, statusText: string): boolean {
    return this.handler.onHeaders?.(statusCode, headers, resume, statusText) ?? true;
  }

  onData(chunk: Buffer): boolean {
    return this.handler.onData?.(chunk) ?? true;
  }

  onComplete(trailers: string[] | null): void {
    clearTimeout(this.timer);
    this.handler.onComplete?.(trailers);
  }

  onError(error: Error): void {
    clearTimeout(this.timer);
    if (!this.handler.onError) throw error;
    this.handler.onError(error);
  }

  onUpgrade(statusCode: number, headers: Buffer[] | string[] | null, socket: Duplex): void {
    clearTimeout(this.timer);
    this.handler.onUpgrade?.(statusCode, headers, socket);
  }

  onBodySent(chunkSize: number, totalBytesSent: number): void {
    this.handler.onBodySent?.(chunkSize, totalBytesSent);
  }

  onRequestSent(): void {
    // Not in undici's handler type, but called on handlers that have it.
    (this.handler as { onRequestSent?: () => void }).onRequestSent?.();
  }
}

/**
 * A peer's connection pool whose exchanges each have a total timeout. The timer lives in the pool
 * rather than in an AbortSignal handed to fetch with each call, because a signal costs fetch more
 * than the exchange's own timer does (undici's Request follows it with listeners and a
 * finalisation registry): about a tenth of a call's CPU. A handler of undici's newer callback set
 * (`onRequestStart`; fetch does not use it) is refused rather than sent without a deadline.
 */
export class DeadlineAgent extends Agent {
  constructor(
    options: Agent.Options,
    private readonly deadlineMs: number,
  ) {
    super(options);
  }

  override dispatch(options: Agent.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    if (handler.onRequestStart) throw new TypeError('peer pools take the handlers fetch makes (onConnect); this one would have no deadline');
    return super.dispatch(options, new DeadlineHandler(handler, this.deadlineMs));
  }
}
