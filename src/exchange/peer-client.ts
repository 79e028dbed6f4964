import { Client } from 'fhir-kit-client';
import type * as PeerPool from './peer-pool.js';
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

/** A JSON object naming a FHIR resource type: all a peer's answer is known to be before it is checked. */
export type PeerResource = { resourceType: string } & Record<string, unknown>;

/** A peer's answer: the resource and its bytes (`resource` left out when the caller knew the bytes). */
export interface PeerAnswer {
  bytes: Buffer;
  /** Undefined when `known` recognised the bytes, or when the answer is {@link PeerAnswer.unchanged} (see {@link PeerClient.summary}). */
  resource: PeerResource | undefined;
  /** The entity tag of the peer's 304: which of the copies named in If-None-Match is current (`bytes` then empty). */
  unchanged?: string;
}

/** What a caller already holds of the answer to a GET. */
export interface HeldCopies {
  /** Asked about the bytes of a 2xx answer first: bytes it recognises are returned unparsed. */
  known?: (bytes: Buffer) => boolean;
  /** Entity tags (quoted) of copies the caller holds: sent in If-None-Match; a 304 naming one is {@link PeerAnswer.unchanged}. */
  entityTags?: readonly string[];
}

function isFhirResource(value: unknown): value is PeerResource {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && typeof (value as { resourceType?: unknown }).resourceType === 'string';
}

/** undici's reasons for giving up on a call that are ours to name, by code and by error class. */
const UNDICI_REASONS = [
  ['PONTIS_PEER_DEADLINE', 'PeerDeadlineExceeded', 'timeout'],
  ['UND_ERR_CONNECT_TIMEOUT', 'ConnectTimeoutError', 'connect-timeout'],
  ['UND_ERR_RES_EXCEEDED_MAX_SIZE', 'ResponseExceededMaxSizeError', 'too-large'],
  ['UND_ERR_HEADERS_TIMEOUT', 'HeadersTimeoutError', 'timeout'],
  ['UND_ERR_BODY_TIMEOUT', 'BodyTimeoutError', 'timeout'],
] as const;

/**
 * Why undici gave up on a call: its error, or (from `fetch`-style callers) the cause of one. When
 * that error comes from another realm, only its text may be left, so the class name is looked
 * for too.
 */
function undiciReason(error: unknown): (typeof UNDICI_REASONS)[number][2] | undefined {
  for (const candidate of [error, (error as { cause?: unknown } | undefined)?.cause]) {
    if (candidate === undefined || candidate === null) continue;
    const code = (candidate as { code?: unknown }).code;
    const text = String(candidate);
    const found = UNDICI_REASONS.find(([c, name]) => code === c || text.includes(name))?.[2];
    if (found) return found;
  }
  return undefined;
}

/** Why a call failed, once classified: an HTTP answer that is not passed on, or no usable answer. */
interface CallFailure {
  status?: number;
  /** The peer's answer to a failed call, when it was a FHIR resource. */
  answer?: PeerResource;
  notFhir?: boolean;
  compressed?: string;
}

/** Thrown inside one exchange: what was wrong with the answer, classified by the caller. */
class CallFailed extends Error {
  override name = 'CallFailed';
  constructor(readonly failure: CallFailure) {
    super('the peer call failed');
  }
}

/**
 * Calls to the FHIR API of the other Member States' nodes, with fhir-kit-client over an undici
 * connection pool per peer (so that a slow peer holds no connection another needs): a connect
 * timeout and a total timeout per call, a size limit enforced while reading, one retry with
 * jitter of an idempotent GET that failed for want of an answer, and a circuit breaker per peer.
 * Failures are OperationOutcome errors naming the peer: 502 (it answered wrongly), 504 (it did
 * not accept a connection or answer in time), 503 (its circuit is open). A refusal by the peer
 * (4xx) is passed on with its status. Redirects are not followed (a token is never sent elsewhere).
 */
export class PeerClient {
  private readonly clients = new Map<string, { client: Client; pool: PeerPool.DeadlineAgent }>();
  private readonly breakers = new Map<string, CircuitBreaker>();
  /** The pool's module, loaded with the first peer call: undici is an eighth of the node's start-up. */
  private pools: Promise<typeof PeerPool> | undefined;

  constructor(private readonly limits: PeerCallLimits) {}

  private async clientFor(peer: PeerNode): Promise<Client> {
    let entry = this.clients.get(peer.country);
    if (entry) return entry.client;
    const { DeadlineAgent } = await (this.pools ??= import('./peer-pool.js'));
    // Another call may have made this peer's pool while the module loaded.
    entry = this.clients.get(peer.country);
    if (!entry) {
      const pool = new DeadlineAgent(
        {
          connect: { timeout: this.limits.connectTimeoutMs },
          // undici stops reading past this and fails the call: an oversize answer is never held whole.
          maxResponseSize: this.limits.maxBytes,
          headersTimeout: this.limits.timeoutMs,
          bodyTimeout: this.limits.timeoutMs,
        },
        // The total timeout of each exchange (a peer dripping its answer is cut off there).
        this.limits.timeoutMs,
      );
      // Uncompressed answers, so that the size limit bounds what is read and decoded (no gzip bombs);
      // redirects not followed, so that a token is never sent elsewhere.
      const client = new Client({
        baseUrl: peer.baseUrl,
        customHeaders: { accept: 'application/fhir+json', 'accept-encoding': 'identity' },
        requestOptions: { dispatcher: pool, redirect: 'manual' },
      });
      entry = { client, pool };
      this.clients.set(peer.country, entry);
    }
    return entry.client;
  }

  /** Closes the connections to peers (shutdown); calls still under way are abandoned, not awaited. */
  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map(({ pool }) => pool.destroy()));
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

  /** GET `[peer]/Patient?...`: the peer's answer, a FHIR resource. */
  async search(peer: PeerNode, searchParams: Record<string, string>, call: PeerCall): Promise<PeerResource> {
    const answer = await this.get(peer, call, `/Patient?${new URLSearchParams(searchParams).toString()}`);
    return answer.resource!;
  }

  /**
   * GET `[peer]/Patient/{id}/$summary`. `known` is asked about the bytes first: bytes it
   * recognises (a copy already received and checked) are returned unparsed. With `entityTags`,
   * the peer may answer 304 naming one of them: {@link PeerAnswer.unchanged}, no bytes.
   */
  summary(peer: PeerNode, patientId: string, call: PeerCall, known?: (bytes: Buffer) => boolean, entityTags?: readonly string[]): Promise<PeerAnswer> {
    return this.get(peer, call, `/Patient/${encodeURIComponent(patientId)}/$summary`, { ...(known ? { known } : {}), ...(entityTags?.length ? { entityTags } : {}) });
  }

  private async get(peer: PeerNode, call: PeerCall, path: string, held: HeldCopies = {}): Promise<PeerAnswer> {
    const started = performance.now();
    let outcome: PeerCallOutcome = 'bad-answer';
    try {
      const answer = await this.attempt(peer, call, path, held);
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

  /**
   * One HTTP exchange through fhir-kit-client: the resource of a 2xx FHIR answer and its bytes
   * (serialised once from what was parsed: the signature covers the canonical form, not the
   * bytes), or a {@link CallFailure} thrown.
   */
  private async exchange(peer: PeerNode, path: string, headers: Record<string, string>, { known, entityTags }: HeldCopies): Promise<PeerAnswer> {
    let answer: unknown;
    try {
      // No AbortSignal: the peer's pool times the exchange out (DeadlineAgent).
      answer = await (await this.clientFor(peer)).request(path, { options: { headers } });
    } catch (error) {
      const response = (error as { response?: { status?: unknown; data?: unknown } }).response;
      if (typeof response?.status !== 'number') throw error;
      // fhir-kit-client takes any status but 2xx for a failure; a 304 is the peer confirming a
      // copy named in If-None-Match. Only a tag that was named counts (a bare 304 is no answer).
      if (response.status === 304 && entityTags) {
        const tag = (error as { config?: { headers?: { get?: (name: string) => string | null } } }).config?.headers?.get?.('etag');
        if (typeof tag === 'string' && entityTags.includes(tag)) return { bytes: Buffer.alloc(0), resource: undefined, unchanged: tag };
      }
      // fhir-kit-client hands a body that is not JSON back as text: only a resource is kept.
      throw new CallFailed({ status: response.status, ...(isFhirResource(response.data) ? { answer: response.data } : {}) });
    }
    const encoding = Client.httpFor(answer as never).response?.headers.get('content-encoding');
    // A peer that compresses anyway escapes the size limit on what is decoded: refused.
    if (encoding && encoding !== 'identity') throw new CallFailed({ compressed: encoding });
    if (!isFhirResource(answer)) throw new CallFailed({ notFhir: true });
    const bytes = Buffer.from(JSON.stringify(answer), 'utf8');
    if (known?.(bytes)) return { bytes, resource: undefined };
    return { bytes, resource: answer };
  }

  private async attempt(peer: PeerNode, call: PeerCall, path: string, held: HeldCopies): Promise<PeerAnswer> {
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
        const headers: Record<string, string> = {
          authorization: `Bearer ${await call.token()}`,
          'x-request-id': call.requestId,
          traceparent,
        };
        if (held.entityTags) headers['if-none-match'] = held.entityTags.join(', ');
        const answer = await this.exchange(peer, path, headers, held);
        breaker.succeeded(permit);
        traced(false);
        return answer;
      } catch (error) {
        traced(true);
        const e: CallFailure = error instanceof CallFailed ? error.failure : {};
        const { name: errorName, code } = error as { name?: string; code?: string };
        const reason = undiciReason(error);
        const tooLarge = reason === 'too-large';
        const connectTimeout = reason === 'connect-timeout';
        // The pool cut the exchange off at the total timeout (DeadlineAgent). fetch may hand back
        // only "terminated" for it (the reason is lost across realms), so the time it took counts too.
        const outlived = Date.now() - startMs >= this.limits.timeoutMs;
        const timedOut = reason === 'timeout' || outlived || errorName === 'TimeoutError' || errorName === 'AbortError' || code === 'UND_ERR_ABORTED';
        const status = e.status;
        if (status !== undefined && status >= 400 && status < 500 && e.answer) {
          // The peer answered, and refused: its answer is the answer (nothing about the patient).
          breaker.succeeded(permit);
          const issue = (e.answer['issue'] as Array<{ code?: unknown; diagnostics?: unknown }> | undefined)?.[0];
          throw fhirError(status, { code: (issue?.code as 'forbidden') ?? 'forbidden', message: `${name} refused: ${String(issue?.diagnostics ?? 'no reason given')}` });
        }
        const noAnswer = !timedOut && !connectTimeout && status === undefined && !e.notFhir && !tooLarge && !e.compressed;
        if (noAnswer && attempt === 1) {
          // Nothing came back (connection refused or reset): a GET may be tried once more.
          await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 150));
          continue;
        }
        breaker.failed(permit);
        if (connectTimeout) throw fhirError(504, { code: 'timeout', message: `${name} did not accept a connection within ${this.limits.connectTimeoutMs} ms` });
        if (timedOut) throw fhirError(504, { code: 'timeout', message: `${name} did not answer within ${this.limits.timeoutMs} ms` });
        if (e.compressed) throw fhirError(502, { code: 'exception', message: `${name} answered ${e.compressed}-compressed although asked not to; nothing is passed on` });
        if (tooLarge) throw fhirError(502, { code: 'too-costly', message: `${name} answered more than ${this.limits.maxBytes} bytes; nothing is passed on` });
        if (status !== undefined && e.answer) {
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
