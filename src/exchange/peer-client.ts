import { Client } from 'fhir-kit-client';
import { fhirError } from '../fhir/operation-outcome.js';
import { CircuitBreaker } from './circuit-breaker.js';
import type { PeerNode } from './peer-directory.js';

/** Limits of calls to peers. */
export interface PeerCallLimits {
  /** Whole call, connection to last byte (ms). */
  timeoutMs: number;
  /** Largest answer accepted (bytes of JSON). */
  maxBytes: number;
}

/** What one call sends besides its path: a fresh token per attempt, and the request id. */
export interface PeerCall {
  token: () => Promise<string>;
  requestId: string;
}

type Json = Record<string, unknown>;

function isFhirResource(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && typeof (value as Json)['resourceType'] === 'string';
}

/**
 * Calls to the FHIR API of the other Member States' nodes, with fhir-kit-client: a total
 * timeout per call, one retry with jitter of an idempotent GET that failed for want of an
 * answer, and a circuit breaker per peer. Failures are OperationOutcome errors naming the peer:
 * 502 (it answered wrongly), 504 (it did not answer in time), 503 (its circuit is open). A
 * refusal by the peer (4xx) is passed on with its status.
 */
export class PeerClient {
  private readonly clients = new Map<string, Client>();
  private readonly breakers = new Map<string, CircuitBreaker>();

  constructor(private readonly limits: PeerCallLimits) {}

  private clientFor(peer: PeerNode): Client {
    let client = this.clients.get(peer.country);
    if (!client) {
      client = new Client({ baseUrl: peer.baseUrl });
      this.clients.set(peer.country, client);
    }
    return client;
  }

  private breakerFor(peer: PeerNode): CircuitBreaker {
    let breaker = this.breakers.get(peer.country);
    if (!breaker) {
      breaker = new CircuitBreaker();
      this.breakers.set(peer.country, breaker);
    }
    return breaker;
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
    const breaker = this.breakerFor(peer);
    const name = `the node of ${peer.country} (${peer.baseUrl})`;
    if (!breaker.allows()) {
      const error = fhirError(503, { code: 'transient', message: `${name} is failing; calls to it are paused for a while` });
      error.output.headers['Retry-After'] = '30';
      throw error;
    }
    for (let attempt = 1; ; attempt++) {
      try {
        const headers = { authorization: `Bearer ${await call.token()}`, 'x-request-id': call.requestId };
        const answer = await send(this.clientFor(peer), { headers, signal: AbortSignal.timeout(this.limits.timeoutMs) });
        if (!isFhirResource(answer)) throw Object.assign(new Error('not FHIR'), { notFhir: true });
        if (Buffer.byteLength(JSON.stringify(answer)) > this.limits.maxBytes) throw Object.assign(new Error('too large'), { tooLarge: true });
        breaker.succeeded();
        return answer;
      } catch (error) {
        const e = error as { name?: string; response?: { status?: number; data?: unknown }; notFhir?: boolean; tooLarge?: boolean };
        const status = e.response?.status;
        if (status !== undefined && status >= 400 && status < 500 && isFhirResource(e.response?.data)) {
          // The peer answered, and refused: its answer is the answer (nothing about the patient).
          breaker.succeeded();
          const issue = ((e.response!.data as Json)['issue'] as Json[] | undefined)?.[0];
          throw fhirError(status, { code: (issue?.['code'] as 'forbidden') ?? 'forbidden', message: `${name} refused: ${String(issue?.['diagnostics'] ?? 'no reason given')}` });
        }
        const timedOut = e.name === 'TimeoutError' || e.name === 'AbortError';
        const noAnswer = !timedOut && status === undefined && !e.notFhir && !e.tooLarge;
        if (noAnswer && attempt === 1) {
          // Nothing came back (connection refused or reset): a GET may be tried once more.
          await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 150));
          continue;
        }
        breaker.failed();
        if (timedOut) throw fhirError(504, { code: 'timeout', message: `${name} did not answer within ${this.limits.timeoutMs} ms` });
        if (e.tooLarge) throw fhirError(502, { code: 'too-costly', message: `${name} answered more than ${this.limits.maxBytes} bytes; nothing is passed on` });
        if (e.notFhir || status !== undefined) {
          throw fhirError(502, { code: 'exception', message: `${name} answered ${status !== undefined ? `HTTP ${status}` : 'something'} that is not a FHIR answer; nothing is passed on` });
        }
        throw fhirError(502, { code: 'exception', message: `${name} cannot be reached` });
      }
    }
  }
}
