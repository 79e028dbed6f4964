import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { openStore } from './repositories/store.js';
import { loadSeed } from './seed/seed-loader.js';
import { createServer } from './server.js';
import { SummaryService } from './services/summary-service.js';
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
  const loadStarted = performance.now();
  const validator = new OffloadingValidator(createValidator(), DEFAULT_PROFILE_PACKAGES, config.validationWorkerBytes);
  logger.info({ ms: Math.round(performance.now() - loadStarted), profileSet: validator.profileSet }, 'profiles loaded');
  if (!validator.knows(config.documentProfile)) {
    process.stderr.write(`pontis: invalid configuration:\n  PONTIS_DOCUMENT_PROFILE: ${config.documentProfile} is not a profile in profiles/\n`);
    process.exit(2);
  }
  const store = await openStore(config);
  const storeDescription = await store.database.describe();
  if (store.database.kind === 'embedded') {
    logger.warn({ store: storeDescription }, 'EMBEDDED STORE: nothing is persisted; everything is lost when the node stops. Set MONGODB_URI for a real deployment.');
  } else {
    logger.info({ store: storeDescription }, 'connected to MongoDB');
  }
  if (config.seedOnStart ?? store.database.kind === 'embedded') {
    const report = await loadSeed(new SummaryService(store.summaries, store.patients, validator, config.documentProfile), config.country);
    logger.info({ created: report.created, unchanged: report.unchanged, country: config.country }, 'seed documents loaded');
  }
  const server = await createServer({ config, store, logger, validator });
  await server.start();
  logger.info({ url: server.info.uri, fhirBase: config.baseUrl, country: config.country }, 'Pontis node listening');
  process.stdout.write(`Pontis ${config.country} node: FHIR API at ${config.baseUrl} (listening on ${server.info.uri})\n`);

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    await server.stop({ timeout: 10_000 });
    await validator.close();
    await store.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`pontis: could not start: ${message}\n`);
  process.exit(1);
});
