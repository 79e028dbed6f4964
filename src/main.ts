import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { openStore } from './repositories/store.js';
import { loadSeed } from './seed/seed-loader.js';
import type { Exchange } from './exchange/exchange.js';
import { createServer, createServices } from './server.js';
import { TrustList } from './auth/trust-list.js';
import { NodeIdentity } from './exchange/node-identity.js';
import { PeerDirectory } from './exchange/peer-directory.js';
import type { RunningPortal } from './portal/index.js';
import { loadTerminologyCatalogue } from './terminology/catalogue-loader.js';
import type { TerminologyCatalogue } from './terminology/terminology-catalogue.js';
import { createValidator, DEFAULT_PROFILE_PACKAGES, OffloadingValidator } from './validation/index.js';

/** Starts one Pontis node from the environment and runs until SIGINT/SIGTERM. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`pontis: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config);
  let trust: TrustList;
  try {
    trust = await TrustList.load(config.trustListPath);
  } catch (error) {
    process.stderr.write(`pontis: invalid configuration:\n  PONTIS_TRUST_LIST: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
  if (trust.hasDemoIssuers) {
    if (config.environment === 'production') {
      process.stderr.write('pontis: invalid configuration:\n  PONTIS_TRUST_LIST: holds the DEMO keys of seed/trust, which are public; NODE_ENV=production refuses them\n');
      process.exit(2);
    }
    logger.warn({ trustList: config.trustListPath }, 'DEMO TRUST LIST: its private keys are in the repository; anyone can mint tokens this node accepts. Never use it in production.');
  }
  const loadStarted = performance.now();
  const validatorOptions = { unknownExtensions: config.unknownExtensions };
  const validator = new OffloadingValidator(createValidator(DEFAULT_PROFILE_PACKAGES, validatorOptions), DEFAULT_PROFILE_PACKAGES, config.validationWorkerBytes, validatorOptions, config.validationThreads);
  logger.info({ ms: Math.round(performance.now() - loadStarted), profileSet: validator.profileSet }, 'profiles loaded');
  if (!validator.knows(config.documentProfile)) {
    process.stderr.write(`pontis: invalid configuration:\n  PONTIS_DOCUMENT_PROFILE: ${config.documentProfile} is not a profile in profiles/\n`);
    process.exit(2);
  }
  let terminology: TerminologyCatalogue;
  try {
    const started = performance.now();
    terminology = loadTerminologyCatalogue(config.terminologyPath);
    logger.info({ ms: Math.round(performance.now() - started), catalogue: terminology.citation, ...terminology.counts() }, 'terminology catalogue loaded');
  } catch (error) {
    process.stderr.write(`pontis: invalid configuration:\n  PONTIS_TERMINOLOGY: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
  if (terminology.identity.experimental) {
    logger.warn({ catalogue: terminology.citation }, 'DEMO TERMINOLOGY: its translations are for demonstration and not clinically validated; load your Member State\'s MTC export (PONTIS_TERMINOLOGY).');
  }
  let exchange: Exchange;
  try {
    const directory = PeerDirectory.load(config.peerDirectoryPath, config.country, trust, config.peerUrls);
    const identity = await NodeIdentity.load(config.nodeKeyPath);
    if (identity.issuer !== directory.self.issuer) throw new Error(`the node key is ${identity.issuer}'s, but the directory names ${directory.self.issuer} for ${config.country}`);
    exchange = { directory, identity };
  } catch (error) {
    process.stderr.write(`pontis: invalid configuration:\n  PONTIS_PEER_DIRECTORY / PONTIS_NODE_KEY: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
  const store = await openStore(config);
  const storeDescription = await store.database.describe();
  if (store.database.kind === 'embedded') {
    // What its default bounds derive from (docs/operations.md): the memory and the heap limit as read at start-up.
    const memory = `${Math.round(config.memory.memoryBytes / 2 ** 20)} MiB, ${config.memory.memorySource}; V8 heap limit ${Math.round(config.memory.heapLimitBytes / 2 ** 20)} MiB`;
    logger.warn({ store: storeDescription, memory }, 'EMBEDDED STORE: nothing is persisted; everything is lost when the node stops. Set MONGODB_URI for a real deployment.');
  } else {
    logger.info({ store: storeDescription }, 'connected to MongoDB');
  }
  // The seed documents are stored, and the portal started, after the node listens: the
  // CapabilityStatement, health and every other route answer meanwhile, and /health/ready says
  // `seed: loading` (`portal: starting`) until they are.
  const seeding = config.seedOnStart ?? store.database.kind === 'embedded';
  let seedState: string | undefined = 'loading';
  let portalState: string | undefined = 'starting';
  const startupChecks = [
    ...(seeding ? [{ name: 'seed', check: () => seedState }] : []),
    ...(config.portal ? [{ name: 'portal', check: () => portalState }] : []),
  ];
  const server = await createServer({ config, store, logger, validator, trust, exchange, terminology, startupChecks });
  await server.start();
  logger.info({ url: server.info.uri, fhirBase: config.baseUrl, country: config.country, ms: Math.round(performance.now()) }, 'Pontis node listening');
  let portal: RunningPortal | undefined;
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    // Not ready first, still serving, so that load balancers move away; then no new connections,
    // requests under way given up to the drain timeout; then the store.
    const { shutdownDelayMs, drainTimeoutMs } = config.operations;
    server.app.readiness?.drain();
    logger.info({ signal, shutdownDelayMs, drainTimeoutMs }, 'stopping: reporting not ready');
    if (shutdownDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, shutdownDelayMs));
    await portal?.stop();
    await server.stop({ timeout: drainTimeoutMs });
    logger.info({}, 'stopped: requests drained');
    await validator.close();
    await store.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  if (seeding) {
    try {
      // Through the same services as the API: every seed document is validated and stored as a push is.
      const services = createServices({ config, store, validator });
      const report = await loadSeed({ ...services, patients: store.patients }, config.country);
      seedState = undefined;
      logger.info({ created: report.created, unchanged: report.unchanged, consents: report.consents, country: config.country }, 'seed documents loaded');
    } catch (error) {
      // Never ready with half the seed: the node stops, as it did when the seed came before listening.
      seedState = 'failed';
      throw error;
    }
  }
  // The portal (docs/portal.md): pages over the node's own API, started before the node says it is ready.
  if (config.portal) {
    // Loaded only when configured: its pages, sanitiser and sign-in are a tenth of a start-up.
    const { startPortal } = await import('./portal/index.js');
    const { PortalKeyError } = await import('./portal/portal-tokens.js');
    try {
      portal = await startPortal({ config: { ...config, portal: config.portal }, api: server, trust, directory: exchange.directory, logger });
    } catch (error) {
      if (!(error instanceof PortalKeyError)) throw error;
      process.stderr.write(`pontis: invalid configuration:\n  PONTIS_PORTAL_TOKEN_KEY: ${error.message}\n`);
      process.exit(2);
    }
    portalState = undefined;
    process.stdout.write(`Pontis ${config.country} portal: ${portal.url} (sign-in: ${portal.issuer}${portal.demoIdentityProvider ? ', DEMO identity provider' : ''})\n`);
  }
  // Printed once the node is ready (seed stored, portal up): scripts and tests wait for this line.
  logger.info({ ms: Math.round(performance.now()) }, 'Pontis node ready');
  process.stdout.write(`Pontis ${config.country} node: FHIR API at ${config.baseUrl} (listening on ${server.info.uri})\n`);
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`pontis: could not start: ${message}\n`);
  process.exit(1);
});
