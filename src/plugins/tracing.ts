import { randomFillSync } from 'node:crypto';
import Boom from '@hapi/boom';
import type { Plugin, Request } from '@hapi/hapi';
import type { Logger } from 'pino';
import { accessOf } from '../access/access-context.js';
import type { OtlpExport } from '../config.js';
import { loggableError } from '../logger.js';
import { requestIdOf } from './request-id.js';

/** This request's place in a W3C trace: the trace, this node's span, and the caller's span if any. */
export interface TraceContext {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  sampled: boolean;
}

declare module '@hapi/hapi' {
  interface RequestApplicationState {
    trace?: TraceContext;
  }
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/**
 * A W3C `traceparent` header (version 00, or a later one read as 00), or undefined when it is
 * malformed or names the invalid all-zero trace or span: then the request starts a new trace.
 */
export function parseTraceparent(header: unknown): { traceId: string; parentSpanId: string; sampled: boolean } | undefined {
  if (typeof header !== 'string' || header.length > 512) return undefined;
  const m = TRACEPARENT.exec(header.trim());
  if (!m) return undefined;
  const [, version, traceId, parentSpanId, flags, rest] = m as unknown as [string, string, string, string, string, string | undefined];
  // Version ff is invalid; version 00 has nothing after the flags.
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (/^0+$/.test(traceId) || /^0+$/.test(parentSpanId)) return undefined;
  return { traceId, parentSpanId, sampled: (parseInt(flags, 16) & 1) === 1 };
}

/**
 * Random bytes for trace and span ids, drawn 4 KB at a time: ids must be unique, not secret, and
 * one draw per id (3 µs) was most of what tracing cost a request.
 */
const idEntropy = Buffer.allocUnsafe(4096);
let idEntropyUsed = idEntropy.length;

/** `bytes` random bytes, hex. */
function randomHex(bytes: number): string {
  if (idEntropyUsed + bytes > idEntropy.length) {
    randomFillSync(idEntropy);
    idEntropyUsed = 0;
  }
  idEntropyUsed += bytes;
  return idEntropy.toString('hex', idEntropyUsed - bytes, idEntropyUsed);
}

/** A new span id (8 random bytes, hex). */
export function newSpanId(): string {
  return randomHex(8);
}

/** The `traceparent` value naming `spanId` within `trace`. */
export function formatTraceparent(trace: Pick<TraceContext, 'traceId' | 'sampled'>, spanId: string): string {
  return `00-${trace.traceId}-${spanId}-${trace.sampled ? '01' : '00'}`;
}

/**
 * The `traceparent` of an outgoing call made while serving the request whose traceparent is
 * `parent` (this node's span): same trace, a new span. Without a parent, a new sampled trace.
 */
export function childTraceparent(parent: string | undefined): string {
  const trace = parseTraceparent(parent) ?? { traceId: randomHex(16), sampled: true };
  return formatTraceparent(trace, newSpanId());
}

/** The request's trace context, created on first use from its `traceparent` or anew. */
export function traceOf(request: Request): TraceContext {
  let trace = request.app.trace;
  if (!trace) {
    const given = parseTraceparent(request.headers['traceparent']);
    trace = given
      ? { traceId: given.traceId, spanId: newSpanId(), parentSpanId: given.parentSpanId, sampled: given.sampled }
      : { traceId: randomHex(16), spanId: newSpanId(), sampled: true };
    request.app.trace = trace;
  }
  return trace;
}

/** One finished span, as exported. */
export interface FinishedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** 2 server, 3 client (OTLP SpanKind). */
  kind: 2 | 3;
  startMs: number;
  endMs: number;
  /** Fixed names and values only (route pattern, method, status, peer country). */
  attributes: Record<string, string | number>;
  error: boolean;
}

/**
 * Sends finished spans to an OTLP/HTTP collector as JSON (`/v1/traces`), in batches, off the
 * request path. A collector that is down costs dropped spans, never a request: the queue is
 * bounded and a failed export is logged (without its URL's credentials or headers) and dropped.
 */
export class SpanExporter {
  private queue: FinishedSpan[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  private lastFailureLogged = 0;
  /** Spans dropped because the queue was full or an export failed. */
  dropped = 0;

  constructor(
    private readonly target: OtlpExport,
    private readonly resource: Record<string, string>,
    private readonly logger: Logger,
    private readonly limits = { batch: 256, queue: 4096, intervalMs: 2000, timeoutMs: 5000 },
  ) {}

  /** Queues the client span of one attempt of a call to a peer node. */
  addPeerAttempt(attempt: { country: string; traceparent: string; parent: string | undefined; startMs: number; endMs: number; failed: boolean }): void {
    const span = parseTraceparent(attempt.traceparent);
    if (!span?.sampled) return;
    const parentSpanId = parseTraceparent(attempt.parent)?.parentSpanId;
    this.add({
      traceId: span.traceId,
      // The attempt's own span id is the "parent" field of the header it sent.
      spanId: span.parentSpanId,
      ...(parentSpanId ? { parentSpanId } : {}),
      name: `GET peer ${attempt.country}`,
      kind: 3,
      startMs: attempt.startMs,
      endMs: attempt.endMs,
      attributes: { 'http.request.method': 'GET', 'pontis.peer': attempt.country },
      error: attempt.failed,
    });
  }

  /** Queues a finished span. */
  add(span: FinishedSpan): void {
    if (this.queue.length >= this.limits.queue) {
      this.dropped += 1;
      return;
    }
    this.queue.push(span);
    if (this.queue.length >= this.limits.batch) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.limits.intervalMs).unref();
  }

  /** Sends everything queued; resolves when sent or dropped. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.sending) await this.sending;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.limits.batch);
      this.sending = this.send(batch);
      await this.sending;
      this.sending = undefined;
    }
  }

  private async send(batch: FinishedSpan[]): Promise<void> {
    const attribute = (key: string, value: string | number) => ({ key, value: typeof value === 'number' ? { intValue: String(value) } : { stringValue: value } });
    const body = {
      resourceSpans: [
        {
          resource: { attributes: Object.entries(this.resource).map(([k, v]) => attribute(k, v)) },
          scopeSpans: [
            {
              scope: { name: 'pontis' },
              spans: batch.map((s) => ({
                traceId: s.traceId,
                spanId: s.spanId,
                ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
                name: s.name,
                kind: s.kind,
                // Millisecond clocks: nanoseconds are the milliseconds with six zeros.
                startTimeUnixNano: `${Math.round(s.startMs)}000000`,
                endTimeUnixNano: `${Math.round(s.endMs)}000000`,
                attributes: Object.entries(s.attributes).map(([k, v]) => attribute(k, v)),
                status: { code: s.error ? 2 : 1 },
              })),
            },
          ],
        },
      ],
    };
    try {
      const response = await fetch(this.target.url, {
        method: 'POST',
        headers: { ...this.target.headers, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.limits.timeoutMs),
      });
      await response.arrayBuffer();
      if (!response.ok) throw Object.assign(new Error('export refused'), { code: `HTTP ${response.status}` });
    } catch (error) {
      this.dropped += batch.length;
      const now = Date.now();
      if (now - this.lastFailureLogged > 60_000) {
        this.lastFailureLogged = now;
        this.logger.warn({ err: loggableError(error), spans: batch.length }, 'trace export failed; spans dropped');
      }
    }
  }
}

/**
 * W3C Trace Context: each request joins the trace of its `traceparent` (or starts one) with a
 * span of its own, named in the `traceresponse` header, in the request's log line, and in the
 * `traceparent` of every call to a peer node made for it (the access context carries it). With
 * an OTLP endpoint configured, a server span per request is exported (route pattern, method,
 * status; never the path, query or headers).
 */
export const tracingPlugin: Plugin<{ exporter?: SpanExporter | undefined; country: string }> = {
  name: 'pontis-tracing',
  register(server, { exporter, country }) {
    server.ext('onRequest', (request, h) => {
      const trace = traceOf(request);
      accessOf(request, requestIdOf(request)).traceparent = formatTraceparent(trace, trace.spanId);
      return h.continue;
    });
    server.ext('onPreResponse', (request, h) => {
      const trace = traceOf(request);
      const value = formatTraceparent(trace, trace.spanId);
      const response = request.response;
      if (Boom.isBoom(response)) response.output.headers['traceresponse'] = value;
      else response.header('traceresponse', value);
      return h.continue;
    });
    if (!exporter) return;
    server.events.on('response', (request: Request) => {
      const trace = traceOf(request);
      if (!trace.sampled) return;
      const response = request.response;
      const status = Boom.isBoom(response) ? response.output.statusCode : response.statusCode;
      exporter.add({
        traceId: trace.traceId,
        spanId: trace.spanId,
        ...(trace.parentSpanId ? { parentSpanId: trace.parentSpanId } : {}),
        name: `${request.method.toUpperCase()} ${request.route.path}`,
        kind: 2,
        startMs: request.info.received,
        endMs: Date.now(),
        attributes: { 'http.request.method': request.method.toUpperCase(), 'http.route': request.route.path, 'http.response.status_code': status, 'pontis.node': country },
        error: status >= 500,
      });
    });
    server.ext('onPostStop', () => exporter.flush());
  },
};
