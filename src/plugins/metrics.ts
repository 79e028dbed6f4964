import { auditFactsOf } from '../access/audit-facts.js';
import { timingSafeEqual } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import Boom from '@hapi/boom';
import type { Plugin, Request, ServerRoute } from '@hapi/hapi';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { OperationsSettings } from '../config.js';
import type { CircuitState } from '../exchange/circuit-breaker.js';
import { fhirError } from '../fhir/operation-outcome.js';
import { loggableError } from '../logger.js';
import { methodNotAllowed } from '../routes/method-not-allowed.js';
import type { AuditWriteObserver } from '../audit/audit-trail.js';
import type { PeerCallObserver } from '../exchange/peer-client.js';
import type { ValidationIssue, Validator } from '../validation/index.js';



/** HTTP methods as labels; anything else is `OTHER` (the label set stays fixed). */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const CIRCUIT_STATES: readonly CircuitState[] = ['closed', 'half-open', 'open'];

/**
 * Process metrics (event-loop delay, heap, GC, CPU, file descriptors) are the process's, not a
 * server's: collected once, in a registry of their own, whatever the number of servers built.
 */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: 'pontis_process_', eventLoopMonitoringPrecision: 20 });
  }
  return processRegistry;
}

/**
 * The node's Prometheus metrics. Labels are only route patterns, methods, statuses, peer
 * countries from the directory and fixed outcome words: never anything a request carries (no
 * patient identifier, token, path or free text).
 */
export class NodeMetrics {
  readonly registry = new Registry();
  readonly requests = new Histogram({
    name: 'pontis_http_request_duration_seconds',
    help: 'Time from request received to response sent, by route pattern, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly refusals = new Counter({
    name: 'pontis_http_refusals_total',
    help: 'Requests refused for authentication (401), authorisation or consent (403) or a request budget (429)',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  readonly validation = new Histogram({
    name: 'pontis_validation_duration_seconds',
    help: 'Time to validate a resource against its profiles',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly documentBytes = new Histogram({
    name: 'pontis_document_size_bytes',
    help: 'Size of the documents pushed (create) or replaced (update), as received',
    labelNames: ['interaction'] as const,
    buckets: [1024, 4096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304, 16_777_216],
    registers: [this.registry],
  });
  readonly peerCalls = new Histogram({
    name: 'pontis_peer_call_duration_seconds',
    help: "Calls to other Member States' nodes, by peer country and outcome",
    labelNames: ['peer', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly auditWrites = new Histogram({
    name: 'pontis_audit_write_duration_seconds',
    help: 'Time to make one group of audit records durable, by outcome',
    labelNames: ['outcome'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  readonly auditBatch = new Histogram({
    name: 'pontis_audit_write_batch_records',
    help: 'Audit records written together in one group write',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [this.registry],
  });
  readonly consentDecisions = new Counter({
    name: 'pontis_consent_decisions_total',
    help: 'Consent decisions taken for requests, by outcome and whether break-glass was invoked',
    labelNames: ['outcome', 'break_glass'] as const,
    registers: [this.registry],
  });
  private circuits: () => Iterable<readonly [string, CircuitState]> = () => [];

  constructor() {
    const circuits = () => this.circuits();
    new Gauge({
      name: 'pontis_peer_circuit_state',
      help: "Circuit breaker per peer country: 1 on the state it is in (closed, half-open, open)",
      labelNames: ['peer', 'state'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [peer, state] of circuits()) {
          for (const s of CIRCUIT_STATES) this.set({ peer, state: s }, s === state ? 1 : 0);
        }
      },
    });
  }

  /** Where the breaker states are read at each scrape (the peer client's). */
  watchCircuits(source: () => Iterable<readonly [string, CircuitState]>): void {
    this.circuits = source;
  }

  /** An observer of peer calls feeding {@link peerCalls}. */
  readonly peerCallObserver: PeerCallObserver = (peer, outcome, seconds) => this.peerCalls.observe({ peer, outcome }, seconds);

  /** An observer of audit group writes feeding {@link auditWrites} and {@link auditBatch}. */
  readonly auditWriteObserver: AuditWriteObserver = (records, seconds, ok) => {
    this.auditWrites.observe({ outcome: ok ? 'durable' : 'failed' }, seconds);
    if (ok) this.auditBatch.observe(records);
  };

  /** The validator, timed. */
  metered(validator: Validator): Validator {
    const histogram = this.validation;
    return {
      get profileSet() {
        return validator.profileSet;
      },
      knows: (profile) => validator.knows(profile),
      knowsType: (type) => validator.knowsType(type),
      validate(resource, profile, json) {
        const end = histogram.startTimer();
        const result = validator.validate(resource, profile, json);
        if (Array.isArray(result)) {
          end();
          return result;
        }
        return (result as Promise<ValidationIssue[]>).finally(() => end());
      },
      ...(validator.checkDocument
        ? {
            checkDocument(json: string, parsed: Record<string, unknown>, profile?: string) {
              const end = histogram.startTimer();
              return validator.checkDocument!(json, parsed, profile).finally(() => end());
            },
          }
        : {}),
      // Every method the validator has is passed on: one left out would send its callers back
      // to the slower path (a push validated and serialised on the event loop).
      ...(validator.checkPush
        ? {
            checkPush(json: string, parsed: Record<string, unknown>, profile?: string) {
              const end = histogram.startTimer();
              return validator.checkPush!(json, parsed, profile).finally(() => end());
            },
          }
        : {}),
      ...(validator.checkPushText
        ? {
            checkPushText(json: string, profile?: string) {
              const end = histogram.startTimer();
              return validator.checkPushText!(json, profile).finally(() => end());
            },
          }
        : {}),
    };
  }

  /** Everything, in the Prometheus text format. */
  async text(): Promise<string> {
    return (await processMetrics().metrics()) + (await this.registry.metrics());
  }

  /** Content type of {@link text}. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Notes one answered request. */
  observe(request: Request): void {
    const response = request.response;
    const status = Boom.isBoom(response) ? response.output.statusCode : response.statusCode;
    const method = request.method.toUpperCase();
    this.requests.observe(
      { route: request.route.path, method: METHODS.has(method) ? method : 'OTHER', status: String(status) },
      (Date.now() - request.info.received) / 1000,
    );
    if (status === 401 || status === 403 || status === 429) this.refusals.inc({ status: String(status) });
    const decision = request.app.access ? auditFactsOf(request.app.access).decision : undefined;
    if (decision) this.consentDecisions.inc({ outcome: decision.outcome, break_glass: String(decision.breakGlass) });
    const interaction = request.route.settings.plugins?.pontis?.audit || undefined;
    if (interaction?.resourceType === 'Bundle' && (interaction.interaction === 'create' || interaction.interaction === 'update') && Buffer.isBuffer(request.payload)) {
      this.documentBytes.observe({ interaction: interaction.interaction }, request.payload.length);
    }
  }
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** `GET /metrics` on the API port, for whoever holds the operator token (PONTIS_METRICS_TOKEN). */
function metricsRoute(metrics: NodeMetrics, token: string): ServerRoute {
  return {
    method: 'GET',
    path: '/metrics',
    options: { auth: false },
    async handler(request, h) {
      const header = request.headers['authorization'];
      const m = typeof header === 'string' ? /^Bearer (\S+)$/i.exec(header.trim()) : null;
      if (!m || !sameToken(m[1]!, token)) {
        const error = fhirError(401, { code: 'login', message: 'metrics need the operator token: Authorization: Bearer followed by PONTIS_METRICS_TOKEN' });
        error.output.headers['WWW-Authenticate'] = 'Bearer realm="metrics"';
        throw error;
      }
      return h.response(await metrics.text()).type(metrics.contentType).header('Cache-Control', 'no-store');
    },
  };
}

/**
 * Prometheus metrics of the node: every response is noted (route pattern, method, status,
 * duration; refusals; consent decisions; document sizes). `/metrics` is served on a listener of
 * its own (PONTIS_METRICS_PORT, meant for the operator's network only) and/or on the API port
 * behind an operator token (PONTIS_METRICS_TOKEN); with neither, nowhere.
 */
export const metricsPlugin: Plugin<{ metrics: NodeMetrics; settings: OperationsSettings; logger: Logger }> = {
  name: 'pontis-metrics',
  register(server, { metrics, settings, logger }) {
    server.events.on('response', (request: Request) => metrics.observe(request));
    if (settings.metricsToken !== undefined) {
      const route = metricsRoute(metrics, settings.metricsToken);
      server.route([route, ...methodNotAllowed([route])]);
    }
    if (settings.metricsPort === undefined) return;
    const port = settings.metricsPort;
    let listener: HttpServer | undefined;
    server.ext('onPreStart', async () => {
      listener = createServer((req, res) => {
        if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
          res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('only GET /metrics here\n');
          return;
        }
        metrics.text().then(
          (text) => res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' }).end(text),
          (error: unknown) => {
            logger.error({ err: loggableError(error) }, 'metrics could not be collected');
            res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('metrics could not be collected\n');
          },
        );
      });
      await new Promise<void>((resolve, reject) => {
        listener!.once('error', reject);
        listener!.listen(port, settings.metricsHost, () => resolve());
      });
      logger.info({ port, host: settings.metricsHost }, 'metrics listening');
    });
    server.ext('onPostStop', async () => {
      if (!listener) return;
      const closing = listener;
      listener = undefined;
      await new Promise<void>((resolve) => {
        closing.close(() => resolve());
        closing.closeAllConnections();
      });
    });
  },
};
