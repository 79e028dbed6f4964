import Hapi from '@hapi/hapi';
import type { Logger } from 'pino';
import type { NodeConfig } from './config.js';
import { contentNegotiationPlugin } from './plugins/content-negotiation.js';
import { loggingPlugin } from './plugins/logging.js';
import { operationOutcomePlugin } from './plugins/operation-outcome.js';
import { requestIdPlugin } from './plugins/request-id.js';
import type { Store } from './repositories/store.js';
import { fhirRoutes } from './routes/index.js';
import { SummaryService } from './services/summary-service.js';
import type { Validator } from './validation/index.js';

/** Everything a node's HTTP server is built from. */
export interface ServerDependencies {
  config: NodeConfig;
  store: Store;
  logger: Logger;
  /** The profile validator, built once per process (loading definitions takes about 0.5 s). */
  validator: Validator;
}

/**
 * Builds (without starting) the node's HTTP server: plugins for request ids, logging, content
 * negotiation and OperationOutcome errors, then the FHIR routes.
 */
export async function createServer({ config, store, logger, validator }: ServerDependencies): Promise<Hapi.Server> {
  const server = Hapi.server({
    port: config.port,
    host: config.host,
    router: { stripTrailingSlash: true },
    routes: {
      // Payload and query errors surface as Boom and are answered as OperationOutcomes.
      payload: { maxBytes: config.maxPayloadBytes },
      response: { emptyStatusCode: 204 },
      security: { noSniff: true, xframe: 'deny', hsts: false, referrer: 'no-referrer' },
    },
    debug: false,
  });
  await server.register([
    // First: its onPreResponse turns errors into OperationOutcome responses that the others decorate.
    { plugin: operationOutcomePlugin, options: { logger, maxPayloadBytes: config.maxPayloadBytes } },
    { plugin: requestIdPlugin },
    { plugin: loggingPlugin, options: { logger } },
    { plugin: contentNegotiationPlugin },
  ]);
  const summaries = new SummaryService(store.summaries, store.patients, validator, config.documentProfile);
  server.route(fhirRoutes({ config, summaries, patients: store.patients, validator }));
  return server;
}
