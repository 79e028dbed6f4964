import { createServer as createHttpListener } from 'node:http';
import Hapi from '@hapi/hapi';
import type { Exchange } from './exchange/exchange.js';
import type { Logger } from 'pino';
import { PatientDataGate } from './access/patient-data-gate.js';
import { RequestBudget } from './access/request-budget.js';
import { AuditTrail } from './audit/audit-trail.js';
import { auditAnchoring } from './audit/audit-anchoring.js';
import { TokenVerifier } from './auth/token-verifier.js';
import type { TrustList } from './auth/trust-list.js';
import type { NodeConfig } from './config.js';
import { abuseGuardPlugin } from './plugins/abuse-guard.js';
import { auditPlugin } from './plugins/audit.js';
import { clientErrorsPlugin } from './plugins/client-errors.js';
import { authenticationPlugin } from './plugins/authentication.js';
import { contentNegotiationPlugin } from './plugins/content-negotiation.js';
import { loggingPlugin } from './plugins/logging.js';
import { metricsPlugin, NodeMetrics } from './plugins/metrics.js';
import { SpanExporter, tracingPlugin } from './plugins/tracing.js';
import { healthRoutes, Readiness, storeCheck, type ReadinessCheck } from './routes/health.js';
import { openApiRoutes } from './routes/openapi.js';
import { operationOutcomePlugin } from './plugins/operation-outcome.js';
import { requestIdPlugin } from './plugins/request-id.js';
import { storageAdmissionPlugin } from './plugins/storage-admission.js';
import type { Store } from './repositories/store.js';
import { fhirRoutes, methodNotAllowed } from './routes/index.js';
import { CrossBorderService } from './services/cross-border-service.js';
import { PeerClient, type PeerAttempt } from './exchange/peer-client.js';
import { AccessLogService } from './services/access-log-service.js';
import { ConsentService } from './services/consent-service.js';
import { PatientService } from './services/patient-service.js';
import { SummaryService } from './services/summary-service.js';
import type { TerminologyCatalogue } from './terminology/terminology-catalogue.js';
import { SummaryTranslation } from './terminology/summary-translation.js';
import type { Validator } from './validation/index.js';

/** Everything a node's HTTP server is built from. */
export interface ServerDependencies {
  config: NodeConfig;
  store: Store;
  logger: Logger;
  /** The profile validator, built once per process (loading definitions takes about 0.5 s). */
  validator: Validator;
  /** Who may sign tokens for this node. */
  trust: TrustList;
  /** The other Member States' nodes and this node's signing key; absent, the node exchanges with none. */
  exchange?: Exchange;
  /** The translation catalogue (PONTIS_TERMINOLOGY); absent, summaries are served as written. */
  terminology?: TerminologyCatalogue;
  /** Parts the node readies after it listens (the seed documents), reported by `/health/ready`. */
  startupChecks?: readonly ReadinessCheck[];
}


declare module '@hapi/hapi' {
  interface ServerApplicationState {
    /** Whether the node should be sent requests; `drain()` on shutdown (src/main.ts). */
    readiness?: Readiness;
    /** The node's Prometheus metrics. */
    metrics?: NodeMetrics;
  }
}

/** The services of a node over its store: every path to patient data goes through one gate. */
export function createServices({
  config,
  store,
  validator,
  trust,
  exchange,
  metrics,
  spans,
}: Pick<ServerDependencies, 'config' | 'store' | 'validator' | 'exchange'> & { trust?: TrustList; metrics?: NodeMetrics; spans?: SpanExporter | undefined }) {
  const budget = new RequestBudget(store.requestCounts, config.limits);
  const gate = new PatientDataGate(store.consents, store.patients, config.consentPolicy, budget);
  const peers =
    exchange && trust
      ? new PeerClient({
          timeoutMs: config.peerTimeoutMs,
          connectTimeoutMs: config.peerConnectTimeoutMs,
          maxBytes: config.maxPayloadBytes,
          breaker: config.peerBreaker,
          ...(metrics ? { observe: metrics.peerCallObserver } : {}),
          ...(spans ? { traced: (attempt: PeerAttempt) => spans.addPeerAttempt(attempt) } : {}),
        })
      : undefined;
  const crossBorder =
    exchange && trust && peers
      ? new CrossBorderService(
          exchange.directory,
          peers,
          exchange.identity,
          trust,
          validator,
          config.documentProfile,
          gate,
        )
      : undefined;
  return {
    crossBorder,
    peers,
    exchange,
    budget,
    gate,
    summaries: new SummaryService(store.summaries, store.patients, validator, gate, config.documentProfile),
    patients: new PatientService(store.patients, gate),
    consents: new ConsentService(store.consents, store.patients, validator, gate),
    accessLog: new AccessLogService(store.audit, gate),
  };
}

/**
 * Builds (without starting) the node's HTTP server. A request passes: request id → logging →
 * authentication (IUA token, trust list) and scope → abuse guard → route → services, whose
 * patient-data gate takes the consent decision → validation of what leaves → audit record
 * (durable before the response) → OperationOutcome for any error.
 */
export async function createServer({ config, store, logger, validator, trust, exchange, terminology, startupChecks = [] }: ServerDependencies): Promise<Hapi.Server> {
  // Node's parser enforces the header size and the time allowed for headers and the whole
  // request; what it refuses is answered by the client-errors plugin.
  const listener = createHttpListener({
    maxHeaderSize: config.http.maxHeaderBytes,
    headersTimeout: config.http.headersTimeoutMs,
    requestTimeout: config.http.requestTimeoutMs,
    connectionsCheckingInterval: 1000,
  });
  const server = Hapi.server({
    port: config.port,
    host: config.host,
    listener,
    router: { stripTrailingSlash: true },
    routes: {
      // Payload and query errors surface as Boom and are answered as OperationOutcomes.
      // No payload timeout of hapi's: after its 408 it waits for the rest of the body, which a
      // stalled client never sends (a request was held 75 s). Node's requestTimeout answers instead.
      payload: { maxBytes: config.maxPayloadBytes, timeout: false },
      timeout: { socket: config.http.requestTimeoutMs + 5000 },
      // No byte ranges: a FHIR answer is whole, and hapi answers a bad Range after every hook.
      response: { emptyStatusCode: 204, ranges: false },
      security: { noSniff: true, xframe: 'deny', hsts: false, referrer: 'no-referrer' },
    },
    debug: false,
  });
  const spans = config.operations.otlp
    ? new SpanExporter(config.operations.otlp, { 'service.name': config.operations.otlp.serviceName, 'pontis.node': config.country }, logger)
    : undefined;
  const metrics = new NodeMetrics();
  const metered = metrics.metered(validator);
  const services = createServices({ config, store, validator: metered, trust, metrics, spans, ...(exchange ? { exchange } : {}) });
  if (services.peers) metrics.watchCircuits(() => services.peers!.circuitStates());
  // Chain heads signed and witnessed by the peers: the trail's anchor outside the database.
  const anchoring = auditAnchoring({ config, store, logger, trust, exchange });
  const trail = new AuditTrail(store.audit, anchoring.checkpointer, metrics.auditWriteObserver);
  const readiness = new Readiness([
    storeCheck(store.database, config.operations.readyTimeoutMs),
    { name: 'profiles', check: () => (validator.knows(config.documentProfile) ? undefined : 'document profile not loaded') },
    { name: 'trust-list', check: () => (trust.size > 0 ? undefined : 'no trusted issuer') },
    { name: 'peer-directory', check: () => (exchange === undefined || exchange.directory.peers().length > 0 ? undefined : 'no peer') },
    ...startupChecks,
  ]);
  server.app.readiness = readiness;
  server.app.metrics = metrics;
  const verifier = new TokenVerifier(trust, config.baseUrl, config.country, store.tokenUses);
  await server.register([
    // First: its onPreResponse turns errors into OperationOutcome responses that the others decorate.
    { plugin: operationOutcomePlugin, options: { logger, maxPayloadBytes: config.maxPayloadBytes } },
    { plugin: clientErrorsPlugin, options: { logger, limits: config.http } },
    { plugin: requestIdPlugin },
    { plugin: tracingPlugin, options: { exporter: spans, country: config.country } },
    { plugin: loggingPlugin, options: { logger } },
    { plugin: metricsPlugin, options: { metrics, settings: config.operations, logger } },
    // After the operation-outcome plugin: it records the final status of every response.
    { plugin: auditPlugin, options: { trail, logger, country: config.country, baseUrl: config.baseUrl } },
    { plugin: authenticationPlugin, options: { verifier, logger } },
    { plugin: abuseGuardPlugin, options: { gate: services.gate } },
    // An embedded store's bound: a write of patient data that may not fit is refused before any work (507).
    { plugin: storageAdmissionPlugin, options: { database: store.database, maxPayloadBytes: config.maxPayloadBytes, logger } },
    // After authentication: a 406 is answered to an authenticated requester only, and audited.
    { plugin: contentNegotiationPlugin },
  ]);
  server.ext('onPostStop', async () => {
    await trail.flush();
    await anchoring.close();
    await services.peers?.close();
  });
  const translation = terminology ? new SummaryTranslation(terminology, { baseUrl: config.baseUrl, country: config.country }) : undefined;
  server.route(fhirRoutes({ config, validator: metered, ...services, witness: anchoring.witness, translation }));
  // Not FHIR, but refused alike: a method a path does not have is a 405 with Allow.
  const operational = [...healthRoutes(readiness), ...openApiRoutes(server, config)];
  server.route([...operational, ...methodNotAllowed(operational)]);
  return server;
}
