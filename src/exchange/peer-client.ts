import { Client, type FhirResource } from 'fhir-kit-client';
import { Agent } from 'undici';
import { fhirError } from '../fhir/operation-outcome.js';
import { childTraceparent } from '../plugins/tracing.js';
import { CircuitBreaker, type CircuitBreakerSettings, type CircuitState } from './circuit-breaker.js';
import type { PeerNode } from './peer-directory.js';

/** How a call to a peer ended, as a metrics label (a fixed set). */
export type PeerCallOutcome = 'ok' | 'refused' | 'circuit-open' | 'timeout' | 'unreachable' | 'bad-answer';

/** Told of each call to a peer: the peer's country (from the directory), how it ended, how long it took. */
export type PeerCallObserver = (country: string, outcome: PeerCallOutcome, seconds: number) => void;

/** Limits of calls to peers. */
export interface PeerCallLimits {
  /** Whole call, connection to last byte (ms). */
  timeoutMs: number;
  /** Opening the connection (ms); a peer that does not accept it fails fast. */
  connectTimeoutMs: number;
  /** Largest answer accepted (bytes as received; reading stops there). */
  maxBytes: number;
  /** When a peer's circuit opens and for how long (default: 5 failures in a row, 30 s). */
  breaker?: Partial<CircuitBreakerSettings>;
  /** Told of each call's outcome and duration (metrics). */
  observe?: PeerCallObserver;
  /** Told of each attempt as a client span (trace export): its traceparent, its parent's, when, whether it failed. */
  traced?: (attempt: PeerAttempt) => void;
}

/** One attempt of a call to a peer, as a span of the request's trace. */
export interface PeerAttempt {
  country: string;
  /** The `traceparent` sent (this attempt's span). */
  traceparent: string;
  /** The request's own span, when the call was made for one. */
  parent: string | undefined;
  startMs: number;
  endMs: number;
  failed: boolean;
}

/** What one call sends besides its path: a fresh token per attempt, and the request id. */
export interface PeerCall {
  token: () => Promise<string>;
  requestId: string;
  /** W3C `traceparent` of the request this call is made for; each attempt is a child span of it. */
  traceparent?: string;
}

type Json = Record<string, unknown>;

function isFhirResource(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && typeof (value as Json)['resourceType'] === 'string';
}

/** undici's reasons for giving up on a call that are ours to name, by code and by error class. */
const UNDICI_REASONS = [
  ['UND_ERR_CONNECT_TIMEOUT', 'ConnectTimeoutError', 'connect-timeout'],
  ['UND_ERR_RES_EXCEEDED_MAX_SIZE', 'ResponseExceededMaxSizeError', 'too-large'],
  ['UND_ERR_HEADERS_TIMEOUT', 'HeadersTimeoutError', 'timeout'],
  ['UND_ERR_BODY_TIMEOUT', 'BodyTimeoutError', 'timeout'],
] as const;

/**
 * Why undici gave up on a call: `fetch` rejects with a TypeError whose cause is undici's error.
 * When that error comes from another realm (our undici, Node's fetch), fetch may wrap it in a
 * plain Error that keeps only its text, so the class name is looked for too.
 */
function undiciReason(error: unknown): (typeof UNDICI_REASONS)[number][2] | undefined {
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  if (cause === undefined || cause === null) return undefined;
  const text = String(cause);
  return UNDICI_REASONS.find(([code, name]) => cause.code === code || text.includes(name))?.[2];
}

/**
 * Calls to the FHIR API of the other Member States' nodes, with fhir-kit-client: a connection
 * pool per peer (so that a slow peer holds no connection another needs), a connect timeout and
 * a total timeout per call, a size limit enforced while reading, one retry with jitter of an
 * idempotent GET that failed for want of an answer, and a circuit breaker per peer. Failures
 * are OperationOutcome errors naming the peer: 502 (it answered wrongly), 504 (it did not accept
 * a connection or answer in time), 503 (its circuit is open). A refusal by the peer (4xx) is
 * passed on with its status.
 */
export class PeerClient {
  private readonly clients = new Map<string, Client>();
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly pools: Agent[] = [];

  constructor(private readonly limits: PeerCallLimits) {}

  private clientFor(peer: PeerNode): Client {
    let client = this.clients.get(peer.country);
    if (!client) {
      const pool = new Agent({
        connect: { timeout: this.limits.connectTimeoutMs },
        // undici stops reading past this and fails the call: an oversize answer is never held whole.
        maxResponseSize: this.limits.maxBytes,
        headersTimeout: this.limits.timeoutMs,
        bodyTimeout: this.limits.timeoutMs,
      });
      this.pools.push(pool);
      // Uncompressed answers, so that the size limit bounds what is read and decoded (no gzip bombs).
      client = new Client({ baseUrl: peer.baseUrl, customHeaders: { 'accept-encoding': 'identity' }, requestOptions: { dispatcher: pool } });
      this.clients.set(peer.country, client);
    }
    return client;
  }

  /** Closes the connections to peers (shutdown); calls still under way are abandoned, not awaited. */
  async close(): Promise<void> {
    await Promise.all(this.pools.map((pool) => pool.destroy()));
  }

  private breakerFor(peer: PeerNode): CircuitBreaker {
    let breaker = this.breakers.get(peer.country);
    if (!breaker) {
      breaker = new CircuitBreaker(this.limits.breaker);
      this.breakers.set(peer.country, breaker);
    }
    return breaker;
  }

  /** Each peer's circuit and where it stands (peers not called yet are not listed). */
  *circuitStates(now = Date.now()): Iterable<readonly [string, CircuitState]> {
    for (const [country, breaker] of this.breakers) yield [country, breaker.state(now)] as const;
  }

  /** GET `[peer]/Patient?...` */
  search(peer: PeerNode, searchParams: Record<string, string>, call: PeerCall): Promise<Json> {
    return this.get(peer, call, (client, options) => client.search({ resourceType: 'Patient', searchParams, options }));
  }

  /** GET `[peer]/Patient/{id}/$summary` */
  summary(peer: PeerNode, patientId: string, call: PeerCall): Promise<Json> {
    return this.get(peer, call, (client, options) => client.operation({ name: '$summary', resourceType: 'Patient', id: patientId, method: 'GET', options }));
  }

  private async get(peer: PeerNode, call: PeerCall, send: (client: Client, options: { headers: Record<string, string>; signal: AbortSignal }) => Promise<unknown>): Promise<Json> {
    const started = performance.now();
    let outcome: PeerCallOutcome = 'bad-answer';
    try {
      const answer = await this.attempt(peer, call, send);
      outcome = 'ok';
      return answer;
    } catch (error) {
      const status = (error as { output?: { statusCode?: number } }).output?.statusCode;
      outcome = status === 503 ? 'circuit-open' : status === 504 ? 'timeout' : status !== undefined && status < 500 ? 'refused' : /cannot be reached/.test(String((error as Error).message)) ? 'unreachable' : 'bad-answer';
      throw error;
    } finally {
      this.limits.observe?.(peer.country, outcome, (performance.now() - started) / 1000);
    }
  }

  private async attempt(peer: PeerNode, call: PeerCall, send: (client: Client, options: { headers: Record<string, string>; signal: AbortSignal }) => Promise<unknown>): Promise<Json> {
    const breaker = this.breakerFor(peer);
    const name = `the node of ${peer.country} (${peer.baseUrl})`;
    const permit = breaker.permit();
    if (!permit) {
      const error = fhirError(503, { code: 'transient', message: `${name} is failing; calls to it are paused for a while` });
      error.output.headers['Retry-After'] = String(Math.max(1, Math.ceil(breaker.retryAfterMs() / 1000)));
      throw error;
    }
    for (let attempt = 1; ; attempt++) {
      const traceparent = childTraceparent(call.traceparent);
      const startMs = Date.now();
      const traced = (failed: boolean) => this.limits.traced?.({ country: peer.country, traceparent, parent: call.traceparent, startMs, endMs: Date.now(), failed });
      try {
        const headers = { authorization: `Bearer ${await call.token()}`, 'x-request-id': call.requestId, traceparent };
        const answer = await send(this.clientFor(peer), { headers, signal: AbortSignal.timeout(this.limits.timeoutMs) });
        if (!isFhirResource(answer)) throw Object.assign(new Error('not FHIR'), { notFhir: true });
        const encoding = Client.httpFor(answer as FhirResource).response?.headers.get('content-encoding');
        // A peer that compresses anyway escapes the size limit on what is decoded: refused.
        if (encoding && encoding !== 'identity') throw Object.assign(new Error('compressed'), { compressed: encoding });
        breaker.succeeded(permit);
        traced(false);
        return answer;
      } catch (error) {
        traced(true);
        const e = error as { name?: string; response?: { status?: number; data?: unknown }; notFhir?: boolean; tooLarge?: boolean; connectTimeout?: boolean; compressed?: string };
        const reason = undiciReason(error);
        if (reason === 'too-large') e.tooLarge = true;
        if (reason === 'connect-timeout') e.connectTimeout = true;
        if (reason === 'timeout') e.name = 'TimeoutError';
        const status = e.response?.status;
        if (status !== undefined && status >= 400 && status < 500 && isFhirResource(e.response?.data)) {
          // The peer answered, and refused: its answer is the answer (nothing about the patient).
          breaker.succeeded(permit);
          const issue = ((e.response!.data as Json)['issue'] as Json[] | undefined)?.[0];
          throw fhirError(status, { code: (issue?.['code'] as 'forbidden') ?? 'forbidden', message: `${name} refused: ${String(issue?.['diagnostics'] ?? 'no reason given')}` });
        }
        const timedOut = e.name === 'TimeoutError' || e.name === 'AbortError';
        const noAnswer = !timedOut && !e.connectTimeout && status === undefined && !e.notFhir && !e.tooLarge && !e.compressed;
        if (noAnswer && attempt === 1) {
          // Nothing came back (connection refused or reset): a GET may be tried once more.
          await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 150));
          continue;
        }
        breaker.failed(permit);
        if (e.connectTimeout) throw fhirError(504, { code: 'timeout', message: `${name} did not accept a connection within ${this.limits.connectTimeoutMs} ms` });
        if (timedOut) throw fhirError(504, { code: 'timeout', message: `${name} did not answer within ${this.limits.timeoutMs} ms` });
        if (e.compressed) throw fhirError(502, { code: 'exception', message: `${name} answered ${e.compressed}-compressed although asked not to; nothing is passed on` });
        if (e.tooLarge) throw fhirError(502, { code: 'too-costly', message: `${name} answered more than ${this.limits.maxBytes} bytes; nothing is passed on` });
        if (status !== undefined && isFhirResource(e.response?.data)) {
          // The peer's own failure (its store is down, say): named as such, its content not passed on.
          throw fhirError(502, { code: 'exception', message: `${name} failed with HTTP ${status}; nothing is passed on` });
        }
        if (e.notFhir || status !== undefined) {
          throw fhirError(502, { code: 'exception', message: `${name} answered ${status !== undefined ? `HTTP ${status}` : 'something'} that is not a FHIR answer; nothing is passed on` });
        }
        throw fhirError(502, { code: 'exception', message: `${name} cannot be reached` });
      }
    }
  }
}
