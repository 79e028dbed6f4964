import Joi from 'joi';
import { IPS_BUNDLE_PROFILE } from './validation/profiles.js';

/** Settings of one Pontis node, read from the environment at start-up. */
export interface NodeConfig {
  /** TCP port the FHIR API listens on. */
  port: number;
  /** Interface the FHIR API binds to. */
  host: string;
  /** MongoDB connection string; undefined selects the embedded, non-persistent store. */
  mongodbUri: string | undefined;
  /** Database name used on the MongoDB server. */
  mongodbDatabase: string;
  /** ISO 3166-1 alpha-2 code of the Member State this node speaks for. */
  country: string;
  /** Public base URL of this node's FHIR API (used in Location headers and links). */
  baseUrl: string;
  /** pino log level. */
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Largest accepted request body, in bytes. */
  maxPayloadBytes: number;
  /**
   * Load this country's demo documents from `seed/` at start-up. Unset: yes on the embedded
   * store, no on MongoDB (demo data never lands in a real database by default).
   */
  seedOnStart: boolean | undefined;
  /**
   * How long a node instance may keep answering from its own record of which document is a
   * patient's current summary before asking the database again. Only matters when several
   * instances share one database; 0 always asks.
   */
  currentSummaryTtlMs: number;
  /** Bytes of serialised documents kept in memory (immutable versions only). */
  documentCacheBytes: number;
  /** Canonical of the profile every stored document must meet (IPS Bundle, or the EU rules). */
  documentProfile: string;
  /** Documents at least this large (JSON bytes) are validated on a worker thread. */
  validationWorkerBytes: number;
}

const ISO_ALPHA2 = /^[A-Z]{2}$/;

/** Environment variables understood by the node, with their rules. Unknown variables are ignored. */
const environmentSchema = Joi.object({
  PORT: Joi.number().integer().min(0).max(65535).default(8080),
  HOST: Joi.string().hostname().default('127.0.0.1'),
  MONGODB_URI: Joi.string()
    .uri({ scheme: ['mongodb', 'mongodb+srv'] })
    .empty(''),
  MONGODB_DATABASE: Joi.string()
    .pattern(/^[A-Za-z0-9_-]{1,63}$/)
    .message('"MONGODB_DATABASE" must be 1 to 63 letters, digits, "_" or "-"'),
  PONTIS_COUNTRY: Joi.string()
    .uppercase()
    .pattern(ISO_ALPHA2)
    .message('"PONTIS_COUNTRY" must be an ISO 3166-1 alpha-2 code such as AT or PT')
    .default('AT'),
  PONTIS_BASE_URL: Joi.string().uri({ scheme: ['http', 'https'] }),
  LOG_LEVEL: Joi.string()
    .valid('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent')
    .default('info'),
  PONTIS_MAX_PAYLOAD_BYTES: Joi.number()
    .integer()
    .min(1024)
    .max(64 * 1024 * 1024)
    .default(5 * 1024 * 1024),
  PONTIS_SEED: Joi.boolean().truthy('1').falsy('0'),
  PONTIS_CURRENT_SUMMARY_TTL_MS: Joi.number().integer().min(0).max(60_000).default(1000),
  PONTIS_DOCUMENT_PROFILE: Joi.string()
    .uri({ scheme: ['http', 'https'] })
    .default(IPS_BUNDLE_PROFILE),
  PONTIS_VALIDATION_WORKER_BYTES: Joi.number().integer().min(0).default(512 * 1024),
  PONTIS_DOCUMENT_CACHE_BYTES: Joi.number()
    .integer()
    .min(0)
    .default(64 * 1024 * 1024),
})
  .unknown(true)
  .prefs({ convert: true, abortEarly: false });

/** Raised when the environment does not describe a valid node; the message names each variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Reads and checks the node's configuration. Throws {@link ConfigError} naming every invalid
 * variable, so that a misconfigured node refuses to start instead of running half-right.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): NodeConfig {
  const { value, error } = environmentSchema.validate(env);
  if (error) {
    const problems = error.details.map((d) => `${String(d.path[0])}: ${d.message}`);
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const port = value.PORT as number;
  const host = value.HOST as string;
  const country = value.PONTIS_COUNTRY as string;
  const displayHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return {
    port,
    host,
    mongodbUri: value.MONGODB_URI as string | undefined,
    mongodbDatabase: (value.MONGODB_DATABASE as string | undefined) ?? `pontis_${country.toLowerCase()}`,
    country,
    baseUrl: ((value.PONTIS_BASE_URL as string | undefined) ?? `http://${displayHost}:${port}/fhir`).replace(/\/+$/, ''),
    logLevel: value.LOG_LEVEL as NodeConfig['logLevel'],
    maxPayloadBytes: value.PONTIS_MAX_PAYLOAD_BYTES as number,
    seedOnStart: value.PONTIS_SEED as boolean | undefined,
    currentSummaryTtlMs: value.PONTIS_CURRENT_SUMMARY_TTL_MS as number,
    documentCacheBytes: value.PONTIS_DOCUMENT_CACHE_BYTES as number,
    documentProfile: value.PONTIS_DOCUMENT_PROFILE as string,
    validationWorkerBytes: value.PONTIS_VALIDATION_WORKER_BYTES as number,
  };
}
