import { readFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { join } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import Joi from 'joi';
import type { BudgetLimits } from './access/request-budget.js';
import type { ConsentPolicy } from './consent/consent-policy.js';
import type { PortalConfig } from './portal/portal-config.js';
import { projectRoot } from './project-root.js';
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
  /** Limits on how a request arrives (beyond them: an OperationOutcome, and the connection closes). */
  http: HttpLimits;
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
  /**
   * The most the embedded store holds, in its own count of bytes (the documents' serialised
   * bytes, kept off the V8 heap, with their entries), so that a full store refuses writes with
   * 507 instead of the process running out of memory; ignored on MongoDB. By default a share of
   * the machine's or container's memory ({@link embeddedStoreBounds}).
   */
  embeddedMaxBytes: number;
  /** The most the embedded store keeps on the V8 heap (its maps and index entries): a share of the heap limit. */
  embeddedMaxHeapBytes: number;
  /** The memory the embedded store's bounds were derived from, as read at start-up. */
  memory: MemoryLimits;
  /** Canonical of the profile every stored document must meet (IPS Bundle, or the EU rules). */
  documentProfile: string;
  /** Documents at least this large (JSON bytes) are validated on a worker thread. */
  validationWorkerBytes: number;
  /** Worker threads that validate those documents (PONTIS_VALIDATION_THREADS; default one per core). */
  validationThreads: number;
  /** How an extension whose definition is not loaded is reported (PONTIS_UNKNOWN_EXTENSIONS): `warning` or `error`. */
  unknownExtensions: 'warning' | 'error';
  /** `production` refuses the demo trust set-up. */
  environment: string;
  /** Path of the trust list: who may sign tokens, with which keys (docs/security.md). */
  trustListPath: string;
  /** The node's consent policy (docs/consent.md). */
  consentPolicy: ConsentPolicy;
  /** Abuse detection thresholds (0 turns one off). */
  limits: BudgetLimits;
  /** Path of the peer directory: the Member State nodes this node exchanges with (docs/exchange.md). */
  peerDirectoryPath: string;
  /** Base URLs replacing the directory's, by country (`AT=http://...,PT=http://...`). */
  peerUrls: Record<string, string>;
  /** Path of this node's private signing key (a JWK file), for outbound tokens and signed summaries. */
  nodeKeyPath: string;
  /** Whole-call timeout of requests to peers (ms). */
  peerTimeoutMs: number;
  /** Timeout of opening a connection to a peer (ms), at most the whole-call one. */
  peerConnectTimeoutMs: number;
  /** Circuit breaker per peer: failed calls in a row that open it, and how long it stays open (ms). */
  peerBreaker: { threshold: number; openMs: number };
  /**
   * When this node signs its audit chain head and sends it to its peers to witness: after this
   * many records, or this long after the first record not yet anchored, whichever comes first.
   * Records after the last witnessed head are what a database writer could cut off unnoticed.
   */
  auditCheckpoint: { records: number; intervalMs: number };
  /** Folder of the translation catalogue: FHIR CodeSystem supplements and ValueSets with designations (docs/translation.md). */
  terminologyPath: string;
  /** How the node is run and watched: metrics, readiness, shutdown, trace export (docs/operations.md). */
  operations: OperationsSettings;
  /** The clinician and patient portal (docs/portal.md); undefined when `PONTIS_PORTAL_PORT` is unset. */
  portal: PortalConfig | undefined;
}

/** Settings of the operational endpoints and of shutdown. */
export interface OperationsSettings {
  /** Port of a listener that serves only `/metrics`; undefined: none. */
  metricsPort: number | undefined;
  /** Interface of that listener. */
  metricsHost: string;
  /** Operator token that opens `/metrics` on the API port; undefined: not served there. */
  metricsToken: string | undefined;
  /** After SIGTERM, how long the node reports not-ready while still serving, so load balancers move away (ms). */
  shutdownDelayMs: number;
  /** Then how long requests under way may take to finish before connections are closed (ms). */
  drainTimeoutMs: number;
  /** Bound on the store ping of `/health/ready` (ms). */
  readyTimeoutMs: number;
  /** OpenTelemetry trace export (OTLP/HTTP JSON); undefined: off (the default). */
  otlp: OtlpExport | undefined;
}

/** Where and how spans are exported, from the standard `OTEL_*` variables. */
export interface OtlpExport {
  /** Full URL spans are POSTed to (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, or `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`). */
  url: string;
  /** `service.name` of the spans (`OTEL_SERVICE_NAME`). */
  serviceName: string;
  /** Extra headers of export requests (`OTEL_EXPORTER_OTLP_HEADERS`, `k=v,k=v`); may hold a secret, never logged. */
  headers: Record<string, string>;
}

/** How a request must arrive: header size and the time allowed for headers and body. */
export interface HttpLimits {
  /** Largest request line and headers together, in bytes (431 beyond). */
  maxHeaderBytes: number;
  /** Time from connection (or the previous request) to the end of the headers (408 beyond). */
  headersTimeoutMs: number;
  /** Time to receive the whole request, body included (408 beyond; checked every second). */
  requestTimeoutMs: number;
}

const ISO_ALPHA2 = /^[A-Z]{2}$/;
/** The demo trust set-up of seed/trust (refused in production). */
export const DEMO_TRUST_LIST = join(projectRoot(), 'seed', 'trust', 'trust-list.json');

/** The memory this process may use, as read at start-up: what the embedded store's bounds derive from. */
export interface MemoryLimits {
  /** Bytes the process may use: its container's limit (cgroup) when below the machine's memory, else the machine's. */
  memoryBytes: number;
  /** Where {@link memoryBytes} was read (the start-up line and a refused bound name it). */
  memorySource: string;
  /** The V8 heap limit (`--max-old-space-size`, else V8's default for the machine). */
  heapLimitBytes: number;
}

/** Where memory limits are read from: the system, or a test's figures. */
export interface MemoryProbe {
  /** The machine's memory (`os.totalmem()`). */
  totalmem(): number;
  /**
   * The cgroup limit libuv finds for this process, its own cgroup's path included
   * (`process.constrainedMemory()`, Node 20.19+): 0 or a huge number when there is none.
   */
  constrainedMemory(): number | undefined;
  /** A file's text; undefined when it cannot be read. */
  readFile(path: string): string | undefined;
  /** The V8 heap limit. */
  heapLimit(): number;
}

/** Cgroup limit files as a container sees its own: v2 (`max` when none), v1 (a huge number when none). */
const CGROUP_LIMIT_FILES = ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes'];

const systemProbe: MemoryProbe = {
  totalmem,
  constrainedMemory: () => process.constrainedMemory?.(),
  readFile(path) {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  },
  heapLimit: () => getHeapStatistics().heap_size_limit,
};

/**
 * The memory this process may use: the smallest of the machine's memory and the cgroup limits
 * found (Node's, then the files, for a libuv that reads only one cgroup version); a limit of
 * none (`max`, 0, or more than the machine has) counts as none.
 */
export function readMemoryLimits(probe: MemoryProbe = systemProbe): MemoryLimits {
  let memoryBytes = probe.totalmem();
  let memorySource = 'the machine (os.totalmem())';
  const consider = (bytes: number | undefined, source: string): void => {
    if (bytes !== undefined && Number.isFinite(bytes) && bytes > 0 && bytes < memoryBytes) {
      memoryBytes = bytes;
      memorySource = source;
    }
  };
  consider(probe.constrainedMemory(), "the container's cgroup limit (process.constrainedMemory())");
  for (const path of CGROUP_LIMIT_FILES) {
    const text = probe.readFile(path)?.trim();
    if (text !== undefined && /^\d+$/.test(text)) consider(Number(text), `the container's cgroup limit (${path})`);
  }
  return { memoryBytes, memorySource, heapLimitBytes: probe.heapLimit() };
}

let systemLimits: MemoryLimits | undefined;
/** This process's limits, read once. */
function systemMemoryLimits(): MemoryLimits {
  systemLimits ??= readMemoryLimits();
  return systemLimits;
}

const MIB = 1024 * 1024;
/** What the node needs besides the store: definitions, caches and requests of the main thread. */
const PROCESS_BYTES = 256 * MIB;
/** What each validation worker needs: its own copy of the definitions (about 80 MB) and its heap. */
const VALIDATION_WORKER_BYTES = 128 * MIB;
/**
 * The process's memory (RSS) per byte the embedded store counts: the allocator's pages around
 * the serialised documents and the store's heap part. Measured 1.2: 3,134 MiB of RSS for 2,394
 * MiB counted at 100,000 documents, about 270 MiB of it the node's own (BENCHMARKS.md, issue
 * 16); 1.3 for the malloc retention seen early on.
 */
const MEMORY_PER_STORED_BYTE = 1.3;
/**
 * The share of the heap limit the store's own heap part (maps, `_id`s, index entries: about
 * 4.6 KB a pushed document) may take; the rest holds the definitions, caches, requests and the
 * collector's room.
 */
const EMBEDDED_HEAP_SHARE = 0.5;
const MIN_EMBEDDED_BYTES = MIB;

/** The embedded store's bounds on a node with `limits`, given the node's own needs. */
export interface EmbeddedStoreBounds {
  /** The default of `PONTIS_EMBEDDED_MAX_BYTES`: half of {@link ceilingBytes}, room for collections, requests and the allocator's slack. */
  defaultBytes: number;
  /** The most `PONTIS_EMBEDDED_MAX_BYTES` may be: what the memory left beside the node's own holds. */
  ceilingBytes: number;
  /** What the node's own needs are taken as (the main thread, the validation workers, the document cache). */
  processBytes: number;
  /** The store's heap sub-bound: {@link EMBEDDED_HEAP_SHARE} of the heap limit. */
  heapBytes: number;
}

/**
 * The embedded store's bounds. Its documents are kept off the V8 heap (serialised Buffers), so
 * its bytes are bounded by the memory the machine or container has, less what the node itself
 * needs, at {@link MEMORY_PER_STORED_BYTE} of memory a counted byte; what it keeps on the heap is
 * bounded by a share of the heap limit.
 */
export function embeddedStoreBounds(limits: MemoryLimits, node: { validationThreads: number; documentCacheBytes: number }): EmbeddedStoreBounds {
  const processBytes = PROCESS_BYTES + node.validationThreads * VALIDATION_WORKER_BYTES + node.documentCacheBytes;
  const ceilingBytes = Math.max(MIN_EMBEDDED_BYTES, Math.floor((limits.memoryBytes - processBytes) / MEMORY_PER_STORED_BYTE));
  return {
    defaultBytes: Math.max(MIN_EMBEDDED_BYTES, Math.floor(ceilingBytes / 2)),
    ceilingBytes,
    processBytes,
    heapBytes: Math.floor(limits.heapLimitBytes * EMBEDDED_HEAP_SHARE),
  };
}

/** `bytes` in MiB, rounded, for messages. */
function mib(bytes: number): string {
  return `${Math.round(bytes / MIB)} MiB`;
}

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
  PONTIS_MAX_HEADER_BYTES: Joi.number()
    .integer()
    .min(4 * 1024)
    .max(64 * 1024)
    .default(16 * 1024),
  PONTIS_HEADERS_TIMEOUT_MS: Joi.number().integer().min(1000).max(120_000).default(10_000),
  PONTIS_REQUEST_TIMEOUT_MS: Joi.number()
    .integer()
    .min(Joi.ref('PONTIS_HEADERS_TIMEOUT_MS'))
    .max(600_000)
    .default(30_000)
    .messages({ 'number.min': '"PONTIS_REQUEST_TIMEOUT_MS" must be at least PONTIS_HEADERS_TIMEOUT_MS' }),
  PONTIS_SEED: Joi.boolean().truthy('1').falsy('0'),
  PONTIS_CURRENT_SUMMARY_TTL_MS: Joi.number().integer().min(0).max(60_000).default(1000),
  PONTIS_DOCUMENT_PROFILE: Joi.string()
    .uri({ scheme: ['http', 'https'] })
    .default(IPS_BUNDLE_PROFILE),
  // From 64 KiB a push's validation and hashing pay for the hand-over to the worker (issue 16, BENCHMARKS.md).
  PONTIS_VALIDATION_WORKER_BYTES: Joi.number().integer().min(0).default(64 * 1024),
  // Each worker holds its own copy of the definitions (about 80 MB).
  PONTIS_VALIDATION_THREADS: Joi.number().integer().min(1).max(64).default(availableParallelism()),
  PONTIS_UNKNOWN_EXTENSIONS: Joi.string().valid('warning', 'error').default('warning'),
  NODE_ENV: Joi.string().default('development'),
  PONTIS_TRUST_LIST: Joi.string().default(DEMO_TRUST_LIST),
  PONTIS_CONSENT_DEFAULT: Joi.string().valid('opt-in', 'opt-out').default('opt-in'),
  PONTIS_BREAK_GLASS: Joi.string().valid('allowed', 'refused').default('refused'),
  PONTIS_BREAK_GLASS_WITHHELD: Joi.string().valid('withhold', 'release').default('withhold'),
  PONTIS_READ_ROLES: Joi.string()
    .pattern(/^\d{1,4}(,\d{1,4})*$/)
    .message('"PONTIS_READ_ROLES" must be ISCO-08 codes separated by commas, such as 221,2221')
    .default('221,2221,2222,2261,2262'),
  PONTIS_LIMIT_PER_REQUESTER: Joi.number().integer().min(0).default(600),
  PONTIS_LIMIT_PER_PATIENT: Joi.number().integer().min(0).default(120),
  PONTIS_LIMIT_WINDOW_S: Joi.number().integer().min(1).max(86_400).default(60),
  PONTIS_PEER_DIRECTORY: Joi.string().default(join(projectRoot(), 'seed', 'trust', 'peer-directory.json')),
  PONTIS_PEER_URLS: Joi.string()
    .pattern(/^[A-Z]{2}=https?:\/\/[^,\s]+(,[A-Z]{2}=https?:\/\/[^,\s]+)*$/)
    .message('"PONTIS_PEER_URLS" must be CC=URL pairs separated by commas, such as AT=http://127.0.0.1:8081/fhir'),
  PONTIS_NODE_KEY: Joi.string(),
  PONTIS_PEER_TIMEOUT_MS: Joi.number().integer().min(100).max(120_000).default(5000),
  PONTIS_PEER_CONNECT_TIMEOUT_MS: Joi.number()
    .integer()
    .min(100)
    .max(Joi.ref('PONTIS_PEER_TIMEOUT_MS'))
    .default(2000)
    .messages({ 'number.max': '"PONTIS_PEER_CONNECT_TIMEOUT_MS" must be at most PONTIS_PEER_TIMEOUT_MS' }),
  PONTIS_PEER_BREAKER_FAILURES: Joi.number().integer().min(1).max(1000).default(5),
  PONTIS_PEER_BREAKER_PAUSE_MS: Joi.number().integer().min(100).max(3_600_000).default(30_000),
  PONTIS_DOCUMENT_CACHE_BYTES: Joi.number()
    .integer()
    .min(0)
    .default(64 * 1024 * 1024),
  // Its default and its most depend on the machine's memory: embeddedStoreBounds, in loadConfig.
  PONTIS_EMBEDDED_MAX_BYTES: Joi.number().integer().min(MIN_EMBEDDED_BYTES),
  PONTIS_AUDIT_CHECKPOINT_RECORDS: Joi.number().integer().min(1).max(1_000_000).default(1000),
  PONTIS_AUDIT_CHECKPOINT_MS: Joi.number().integer().min(100).max(86_400_000).default(60_000),
  PONTIS_TERMINOLOGY: Joi.string().default(join(projectRoot(), 'terminology')),
  PONTIS_METRICS_PORT: Joi.number().integer().min(1).max(65535).invalid(Joi.ref('PORT')).messages({ 'any.invalid': '"PONTIS_METRICS_PORT" must differ from PORT' }),
  PONTIS_METRICS_HOST: Joi.string().hostname().default('127.0.0.1'),
  PONTIS_METRICS_TOKEN: Joi.string()
    .pattern(/^[A-Za-z0-9._~+/=-]{32,512}$/)
    .message('"PONTIS_METRICS_TOKEN" must be 32 to 512 token characters (letters, digits, ._~+/=-)'),
  PONTIS_SHUTDOWN_DELAY_MS: Joi.number().integer().min(0).max(120_000).default(0),
  PONTIS_DRAIN_TIMEOUT_MS: Joi.number().integer().min(100).max(600_000).default(10_000),
  PONTIS_READY_TIMEOUT_MS: Joi.number().integer().min(50).max(30_000).default(1000),
  OTEL_SDK_DISABLED: Joi.boolean().truthy('true').falsy('false').default(false),
  OTEL_TRACES_EXPORTER: Joi.string().valid('otlp', 'none').default('otlp'),
  OTEL_EXPORTER_OTLP_ENDPOINT: Joi.string().uri({ scheme: ['http', 'https'] }).empty(''),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: Joi.string().uri({ scheme: ['http', 'https'] }).empty(''),
  OTEL_EXPORTER_OTLP_PROTOCOL: Joi.string().valid('http/json').messages({ 'any.only': '"OTEL_EXPORTER_OTLP_PROTOCOL" must be http/json (the only protocol this node exports)' }),
  OTEL_EXPORTER_OTLP_HEADERS: Joi.string()
    .pattern(/^[^=,\s]+=[^,]*(,[^=,\s]+=[^,]*)*$/)
    .message('"OTEL_EXPORTER_OTLP_HEADERS" must be key=value pairs separated by commas'),
  OTEL_SERVICE_NAME: Joi.string().max(200).default('pontis'),
  // The portal (docs/portal.md): off unless PONTIS_PORTAL_PORT is set.
  PONTIS_PORTAL_PORT: Joi.number().integer().min(0).max(65535),
  PONTIS_PORTAL_URL: Joi.string().uri({ scheme: ['http', 'https'] }),
  PONTIS_OIDC_ISSUER: Joi.string().uri({ scheme: ['http', 'https'] }),
  PONTIS_OIDC_CLIENT_ID: Joi.string().max(200).when('PONTIS_OIDC_ISSUER', { is: Joi.exist(), then: Joi.required() }),
  PONTIS_OIDC_CLIENT_SECRET: Joi.string().min(16).max(500).when('PONTIS_OIDC_ISSUER', { is: Joi.exist(), then: Joi.required() }),
  PONTIS_OIDC_REDIRECT_URL: Joi.string().uri({ scheme: ['http', 'https'] }),
  PONTIS_DEMO_IDP_PORT: Joi.number().integer().min(0).max(65535).default(0),
  PONTIS_PORTAL_COOKIE_PASSWORD: Joi.string().min(32).max(500),
  PONTIS_PORTAL_TOKEN_KEY: Joi.string(),
  PONTIS_PORTAL_IDLE_MINUTES: Joi.number().integer().min(1).max(240).default(15),
})
  .unknown(true)
  .prefs({ convert: true, abortEarly: false });

/** Raised when the environment does not describe a valid node; the message names each variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** A percent-encoded header part (as OTEL_EXPORTER_OTLP_HEADERS allows), or as given when it is not valid encoding. */
function percentDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Trace export from the standard OTEL_* variables: only when an endpoint is named and export is not turned off. */
function otlpExport(value: Record<string, unknown>): OtlpExport | undefined {
  if (value['OTEL_SDK_DISABLED'] === true || value['OTEL_TRACES_EXPORTER'] === 'none') return undefined;
  const traces = value['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] as string | undefined;
  const base = value['OTEL_EXPORTER_OTLP_ENDPOINT'] as string | undefined;
  const url = traces ?? (base === undefined ? undefined : `${base.replace(/\/+$/, '')}/v1/traces`);
  if (url === undefined) return undefined;
  const headers = Object.fromEntries(
    ((value['OTEL_EXPORTER_OTLP_HEADERS'] as string | undefined) ?? '')
      .split(',')
      .filter(Boolean)
      .map((pair) => {
        const at = pair.indexOf('=');
        return [percentDecoded(pair.slice(0, at).trim()), percentDecoded(pair.slice(at + 1).trim())];
      }),
  );
  return { url, serviceName: value['OTEL_SERVICE_NAME'] as string, headers };
}

/**
 * A `PONTIS_EMBEDDED_MAX_BYTES` the memory cannot hold, as a configuration problem: a bound
 * above it would not be met with 507 but with the process killed for want of memory.
 */
function embeddedBoundRefusal(value: Record<string, unknown>, memory: MemoryLimits): string | undefined {
  const given = value['PONTIS_EMBEDDED_MAX_BYTES'];
  const threads = value['PONTIS_VALIDATION_THREADS'];
  const cache = value['PONTIS_DOCUMENT_CACHE_BYTES'];
  if (typeof given !== 'number' || typeof threads !== 'number' || typeof cache !== 'number') return undefined;
  const bounds = embeddedStoreBounds(memory, { validationThreads: threads, documentCacheBytes: cache });
  if (given <= bounds.ceilingBytes) return undefined;
  return (
    `PONTIS_EMBEDDED_MAX_BYTES: "PONTIS_EMBEDDED_MAX_BYTES" must be at most ${bounds.ceilingBytes} bytes (${mib(bounds.ceilingBytes)}) on this node: ` +
    `it has ${mib(memory.memoryBytes)}, ${memory.memorySource}; the node itself needs about ${mib(bounds.processBytes)}, and the store takes about ` +
    `${MEMORY_PER_STORED_BYTE} bytes of memory a byte it counts; give the node more memory, or use MongoDB (MONGODB_URI)`
  );
}

/**
 * Reads and checks the node's configuration. Throws {@link ConfigError} naming every invalid
 * variable, so that a misconfigured node refuses to start instead of running half-right.
 * `memory`: what the machine or container has, read from the system unless given (tests).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, memory: MemoryLimits = systemMemoryLimits()): NodeConfig {
  const { value, error } = environmentSchema.validate(env);
  const problems = (error?.details ?? []).map((d) => `${String(d.path[0])}: ${d.message}`);
  const boundRefusal = embeddedBoundRefusal(value as Record<string, unknown>, memory);
  if (boundRefusal !== undefined) problems.push(boundRefusal);
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  const portalProblems = portalRefusals(value);
  if (portalProblems.length > 0) throw new ConfigError(`invalid configuration:\n  ${portalProblems.join('\n  ')}`);
  const port = value.PORT as number;
  const host = value.HOST as string;
  const country = value.PONTIS_COUNTRY as string;
  const displayHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  const embedded = embeddedStoreBounds(memory, { validationThreads: value.PONTIS_VALIDATION_THREADS as number, documentCacheBytes: value.PONTIS_DOCUMENT_CACHE_BYTES as number });
  return {
    port,
    host,
    mongodbUri: value.MONGODB_URI as string | undefined,
    mongodbDatabase: (value.MONGODB_DATABASE as string | undefined) ?? `pontis_${country.toLowerCase()}`,
    country,
    baseUrl: ((value.PONTIS_BASE_URL as string | undefined) ?? `http://${displayHost}:${port}/fhir`).replace(/\/+$/, ''),
    logLevel: value.LOG_LEVEL as NodeConfig['logLevel'],
    maxPayloadBytes: value.PONTIS_MAX_PAYLOAD_BYTES as number,
    http: {
      maxHeaderBytes: value.PONTIS_MAX_HEADER_BYTES as number,
      headersTimeoutMs: value.PONTIS_HEADERS_TIMEOUT_MS as number,
      requestTimeoutMs: value.PONTIS_REQUEST_TIMEOUT_MS as number,
    },
    seedOnStart: value.PONTIS_SEED as boolean | undefined,
    currentSummaryTtlMs: value.PONTIS_CURRENT_SUMMARY_TTL_MS as number,
    documentCacheBytes: value.PONTIS_DOCUMENT_CACHE_BYTES as number,
    embeddedMaxBytes: (value.PONTIS_EMBEDDED_MAX_BYTES as number | undefined) ?? embedded.defaultBytes,
    embeddedMaxHeapBytes: embedded.heapBytes,
    memory,
    documentProfile: value.PONTIS_DOCUMENT_PROFILE as string,
    validationWorkerBytes: value.PONTIS_VALIDATION_WORKER_BYTES as number,
    validationThreads: value.PONTIS_VALIDATION_THREADS as number,
    unknownExtensions: value.PONTIS_UNKNOWN_EXTENSIONS as NodeConfig['unknownExtensions'],
    environment: value.NODE_ENV as string,
    trustListPath: value.PONTIS_TRUST_LIST as string,
    consentPolicy: {
      defaultDecision: value.PONTIS_CONSENT_DEFAULT as ConsentPolicy['defaultDecision'],
      breakGlass: value.PONTIS_BREAK_GLASS as ConsentPolicy['breakGlass'],
      breakGlassWithheld: value.PONTIS_BREAK_GLASS_WITHHELD as NonNullable<ConsentPolicy['breakGlassWithheld']>,
      readRoles: (value.PONTIS_READ_ROLES as string).split(','),
    },
    limits: {
      perRequester: value.PONTIS_LIMIT_PER_REQUESTER as number,
      perPatient: value.PONTIS_LIMIT_PER_PATIENT as number,
      windowMs: (value.PONTIS_LIMIT_WINDOW_S as number) * 1000,
    },
    peerDirectoryPath: value.PONTIS_PEER_DIRECTORY as string,
    peerUrls: Object.fromEntries(
      ((value.PONTIS_PEER_URLS as string | undefined) ?? '')
        .split(',')
        .filter(Boolean)
        .map((pair) => [pair.slice(0, 2), pair.slice(3)]),
    ),
    // The demo key of this country's node (seed/trust) unless one is given.
    nodeKeyPath: (value.PONTIS_NODE_KEY as string | undefined) ?? join(projectRoot(), 'seed', 'trust', 'demo-keys', `ncp-${country.toLowerCase()}.json`),
    peerTimeoutMs: value.PONTIS_PEER_TIMEOUT_MS as number,
    // A default connect timeout longer than a short whole-call one would never fire.
    peerBreaker: { threshold: value.PONTIS_PEER_BREAKER_FAILURES as number, openMs: value.PONTIS_PEER_BREAKER_PAUSE_MS as number },
    peerConnectTimeoutMs: Math.min(value.PONTIS_PEER_CONNECT_TIMEOUT_MS as number, value.PONTIS_PEER_TIMEOUT_MS as number),
    auditCheckpoint: { records: value.PONTIS_AUDIT_CHECKPOINT_RECORDS as number, intervalMs: value.PONTIS_AUDIT_CHECKPOINT_MS as number },
    terminologyPath: value.PONTIS_TERMINOLOGY as string,
    operations: {
      metricsPort: value.PONTIS_METRICS_PORT as number | undefined,
      metricsHost: value.PONTIS_METRICS_HOST as string,
      metricsToken: value.PONTIS_METRICS_TOKEN as string | undefined,
      shutdownDelayMs: value.PONTIS_SHUTDOWN_DELAY_MS as number,
      drainTimeoutMs: value.PONTIS_DRAIN_TIMEOUT_MS as number,
      readyTimeoutMs: value.PONTIS_READY_TIMEOUT_MS as number,
      otlp: otlpExport(value),
    },
    portal: portalConfigOf(value, country),
  };
}

/**
 * What production refuses of a portal: the demo identity provider, a random cookie password
 * (sessions would not survive a restart nor be shared by instances), the demo token key, and
 * anything but https for the identity provider and the portal.
 */
function portalRefusals(value: Record<string, unknown>): string[] {
  if (value['PONTIS_PORTAL_PORT'] === undefined || value['NODE_ENV'] !== 'production') return [];
  const problems: string[] = [];
  const issuer = value['PONTIS_OIDC_ISSUER'] as string | undefined;
  if (!issuer) problems.push('PONTIS_OIDC_ISSUER: required for the portal in production (the demo identity provider is refused)');
  else if (!issuer.startsWith('https:')) problems.push('PONTIS_OIDC_ISSUER: must be an https URL in production');
  const url = value['PONTIS_PORTAL_URL'] as string | undefined;
  if (!url?.startsWith('https:')) problems.push("PONTIS_PORTAL_URL: the portal's public https URL is required in production");
  if (!value['PONTIS_PORTAL_COOKIE_PASSWORD']) problems.push('PONTIS_PORTAL_COOKIE_PASSWORD: required in production (at least 32 characters)');
  if (!value['PONTIS_PORTAL_TOKEN_KEY']) problems.push('PONTIS_PORTAL_TOKEN_KEY: required in production (the demo identity provider key is refused)');
  return problems;
}

/** The portal's settings, when `PONTIS_PORTAL_PORT` is set. */
function portalConfigOf(value: Record<string, unknown>, country: string): PortalConfig | undefined {
  if (value['PONTIS_PORTAL_PORT'] === undefined) return undefined;
  const issuer = value['PONTIS_OIDC_ISSUER'] as string | undefined;
  return {
    port: value['PONTIS_PORTAL_PORT'] as number,
    url: (value['PONTIS_PORTAL_URL'] as string | undefined)?.replace(/\/+$/, ''),
    oidc: issuer
      ? {
          issuer,
          clientId: value['PONTIS_OIDC_CLIENT_ID'] as string,
          clientSecret: value['PONTIS_OIDC_CLIENT_SECRET'] as string,
          redirectUrl: value['PONTIS_OIDC_REDIRECT_URL'] as string | undefined,
        }
      : undefined,
    demoIdpPort: value['PONTIS_DEMO_IDP_PORT'] as number,
    cookiePassword: value['PONTIS_PORTAL_COOKIE_PASSWORD'] as string | undefined,
    // The demo identity provider's key of seed/trust unless one is given (refused in production above).
    tokenKeyPath: (value['PONTIS_PORTAL_TOKEN_KEY'] as string | undefined) ?? join(projectRoot(), 'seed', 'trust', 'demo-keys', `idp-${country.toLowerCase()}.json`),
    idleTimeoutMs: (value['PONTIS_PORTAL_IDLE_MINUTES'] as number) * 60_000,
  };
}
