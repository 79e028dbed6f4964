import type { Server, ServerInjectOptions } from '@hapi/hapi';
import fc from 'fast-check';
import type Joi from 'joi';
import { TrustList } from '../../src/auth/trust-list.js';
import { DEMO_TRUST_LIST, loadConfig, type NodeConfig } from '../../src/config.js';
import { NodeIdentity } from '../../src/exchange/node-identity.js';
import { PeerDirectory } from '../../src/exchange/peer-directory.js';
import { storeOn, type Store } from '../../src/repositories/store.js';
import { loadSeed } from '../../src/seed/seed-loader.js';
import { createServer, createServices } from '../../src/server.js';
import { FaultProxy, type PeerFault } from '../support/fault-proxy.js';
import { batchSpec, MARKER_PATTERN, seedLogNeedles, type BatchSpec, type RouteShape } from '../support/fuzz-arbitraries.js';
import { buildRequest, markersIn, type BuildContext, type BuiltRequest, type KnownResources } from '../support/fuzz-requests.js';
import { captureLogs, leaksIn, wholeValue, type LogCapture, type LogNeedles } from '../support/log-capture.js';
import { freePort } from '../support/node-process.js';
import { rawExchange, type RawResponse } from '../support/raw-http.js';
import { memoryBackend, mongoBackend, type Backend } from '../support/stores.js';
import { sharedValidator } from '../support/test-node.js';

/**
 * The fuzz campaign: seeded rounds, each on a fresh AT node (embedded store or the MongoDB-wire
 * server) with a PT peer node behind a fault proxy and an FR peer that refuses connections.
 * Each round sends batches of generated requests (fast-check, `support/fuzz-arbitraries.ts`) to
 * every route with every kind of token, through hapi's inject and over real sockets, and checks:
 *
 * - no 5xx, except 502/504 (and 503 with Retry-After) from reads answered by another country;
 * - every error (>= 400) is a FHIR JSON OperationOutcome with at least one issue;
 * - a forged, expired, absent or non-JWT token, or another country's hospital system, never gets
 *   a 2xx from a route that needs a token, and such a request is answered 401/403 before
 *   anything about its formats, parameters or body;
 * - break-glass with a blank reason releases no patient data;
 * - no log line of either node holds a JWT (`eyJ`), a seed patient's identifier, name or birth
 *   date, or a marker the fuzzer put in a path, query, header, token or body;
 * - after the round, the store holds nothing from a refused write (markers), exactly one
 *   document per accepted create, versions only from accepted updates, no patient left without
 *   a document; and the node still answers `metadata`, over inject and over a socket;
 * - over the campaign, every route of the node's table was reached.
 *
 * Violations do not stop the campaign: each is counted under its kind and kept with the first
 * example and the command that replays its batch (fast-check then shrinks it).
 */

type Json = Record<string, any>;

/** What a campaign runs. */
export interface FuzzOptions {
  seed: number;
  /** Requests to send in total (at least). */
  requests: number;
  /** Requests per round (a round is a fresh pair of nodes). */
  roundRequests: number;
  /** Backends of the AT node's store, taken in turn by the rounds. */
  backends: readonly Backend[];
  /** Largest batch of concurrent requests. */
  maxBatch?: number;
  /** Share of requests sent over a socket, and of those, with an HTTP-level malformation. */
  socketShare?: number;
  rawShare?: number;
  /** Replays batch `path` of the round with seed `seed` only, shrinking it when it fails. */
  path?: string;
  /** Progress lines (one per round). */
  progress?: (line: string) => void;
}

/** One kind of violation, how often it happened, and its first example. */
export interface Violation {
  kind: string;
  count: number;
  example: string;
  reproduce: string;
}

/** What a campaign found and measured. */
export interface FuzzReport {
  seed: number;
  requests: number;
  batches: number;
  elapsedMs: number;
  requestsPerSecond: number;
  byStatus: Record<string, number>;
  byToken: Record<string, Record<string, number>>;
  byTransport: Record<string, number>;
  byRoute: Record<string, Record<string, number>>;
  rounds: { seed: number; backend: string; requests: number; policy: string; stored: Record<string, number>; logLines: number }[];
  unreachedRoutes: string[];
  violations: Violation[];
  /** The shrunk counterexample when replaying one batch (`path`). */
  counterexample?: string;
}

const PEER_FAULTS: readonly PeerFault[] = ['refuse', 'reset', 'freeze', 'garbage-bytes', 'invalid-json', 'non-fhir-json', 'slow-headers'];
/** Collections of patient data: nothing of a refused write may be in them. */
const PATIENT_DATA = ['summaries', 'summary_versions', 'patients', 'claims', 'consents', 'consent_versions'];
const POLICIES = [
  { PONTIS_CONSENT_DEFAULT: 'opt-in', PONTIS_BREAK_GLASS: 'refused' },
  { PONTIS_CONSENT_DEFAULT: 'opt-out', PONTIS_BREAK_GLASS: 'allowed' },
  { PONTIS_CONSENT_DEFAULT: 'opt-in', PONTIS_BREAK_GLASS: 'allowed' },
  { PONTIS_CONSENT_DEFAULT: 'opt-out', PONTIS_BREAK_GLASS: 'refused' },
];

/** A node of the round: its server, store, log, and listening port. */
interface RoundNode {
  server: Server;
  store: Store;
  config: NodeConfig;
  log: LogCapture;
  port: number;
  /** Status counts by `METHOD route-path`, as the server answered them. */
  routes: Map<string, Map<number, number>>;
  stop(): Promise<void>;
}

let trust: Promise<TrustList> | undefined;

async function startNode(env: Record<string, string>, backend: Backend, seedCountry: 'AT' | 'PT'): Promise<RoundNode> {
  const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'trace', ...env });
  const { database, cleanup } = await backend.open();
  try {
    return await startOn(config, database, cleanup, seedCountry);
  } catch (error) {
    await cleanup();
    throw error;
  }
}

async function startOn(config: NodeConfig, database: Awaited<ReturnType<Backend['open']>>['database'], cleanup: () => Promise<void>, seedCountry: 'AT' | 'PT'): Promise<RoundNode> {
  const trusted = await (trust ??= TrustList.load(DEMO_TRUST_LIST));
  const store = await storeOn(database, config);
  const validator = sharedValidator();
  await loadSeed({ ...createServices({ config, store, validator }), patients: store.patients }, seedCountry);
  const log = captureLogs({ node: config.country });
  const directory = PeerDirectory.load(config.peerDirectoryPath, config.country, trusted, config.peerUrls);
  const identity = await NodeIdentity.load(config.nodeKeyPath);
  const server = await createServer({ config, store, logger: log.logger, validator, trust: trusted, exchange: { directory, identity } });
  const routes = new Map<string, Map<number, number>>();
  server.events.on('response', (request) => {
    const response = request.response as { statusCode?: number; output?: { statusCode: number } } | null;
    const status = response?.output?.statusCode ?? response?.statusCode ?? 0;
    const key = `${request.route.method.toUpperCase()} ${request.route.path}`;
    const counts = routes.get(key) ?? new Map<number, number>();
    counts.set(status, (counts.get(status) ?? 0) + 1);
    routes.set(key, counts);
  });
  await server.start();
  return {
    server,
    store,
    config,
    log,
    port: server.info.port as number,
    routes,
    async stop() {
      await server.stop({ timeout: 2000 });
      await cleanup();
    },
  };
}

/** The routes of a node's table, with the query parameters their schemas name. */
export function routeShapes(server: Server): RouteShape[] {
  return server
    .table()
    .map((r) => {
      const query = r.settings.validate?.query as Joi.ObjectSchema | undefined;
      const described = query && typeof query.describe === 'function' ? (query.describe() as { keys?: Record<string, unknown> }) : undefined;
      return { method: r.method.toUpperCase(), path: r.path, queryKeys: Object.keys(described?.keys ?? {}).sort(), body: r.method === 'post' || r.method === 'put', open: (r.settings.auth as unknown) === false };
    })
    .sort((a, b) => `${a.path} ${a.method}`.localeCompare(`${b.path} ${b.method}`));
}

/** A response as the checks see it, whichever way it came. */
interface Answer {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: Buffer;
}

async function send(node: RoundNode, request: BuiltRequest): Promise<{ answers: Answer[]; incomplete: boolean; unparsable: boolean }> {
  if (request.wire) {
    const exchange = await rawExchange(node.port, request.wire.parts, {
      expected: request.wire.expected,
      timeoutMs: 8000,
      ...(request.wire.abandonAfterMs !== undefined ? { abandonAfterMs: request.wire.abandonAfterMs } : {}),
      headRequest: request.method === 'HEAD',
    });
    return { answers: exchange.responses.map((r: RawResponse) => ({ status: r.status, headers: r.headers, body: r.body })), incomplete: exchange.incomplete, unparsable: exchange.unparsable };
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of request.headers) headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  const options: ServerInjectOptions = { method: request.method, url: request.target, headers, ...(request.body !== undefined ? { payload: request.body } : {}) };
  const response = await node.server.inject(options);
  return { answers: [{ status: response.statusCode, headers: response.headers, body: response.rawPayload }], incomplete: false, unparsable: false };
}

/** Forgeries no node may accept, whatever the token says otherwise. */
const NEVER_VALID = new Set(['expired', 'not-yet-valid', 'issued-in-future', 'too-long-lifetime', 'wrong-audience', 'bad-signature', 'alg-none', 'hs256', 'unknown-kid', 'unknown-issuer', 'other-issuers-key', 'self-signed', 'embedded-jwk', 'truncated']);

/** Whether a request's credentials must never pass authentication: no token, no JWT, a forged one, a foreign hospital's. */
function unauthenticated(request: BuiltRequest): boolean {
  const token = request.spec.token;
  switch (token.kind) {
    case 'absent':
      return true;
    case 'malformed':
      return !token.withJwt;
    case 'forged':
      return NEVER_VALID.has(token.forgery.how);
    case 'honest':
      return token.label === 'hospital-of-another-country';
  }
}

/** A break-glass token whose reason is blank: it has no reason, and break-glass without one is refused. */
function blankBreakGlass(request: BuiltRequest): boolean {
  const token = request.spec.token;
  if (token.kind !== 'honest') return false;
  const { purpose, breakGlassReason } = token.token;
  return (purpose === 'ETREAT' || purpose === 'BTG') && breakGlassReason !== undefined && breakGlassReason.trim() === '';
}

/** Whether a 2xx body releases a patient's data: a document, a Patient, or a search that found someone. */
function releasesPatientData(body: Buffer): boolean {
  try {
    const json = JSON.parse(body.toString('utf8')) as Json;
    if (json['resourceType'] === 'Patient') return true;
    if (json['resourceType'] !== 'Bundle') return false;
    return json['type'] === 'document' || (Array.isArray(json['entry']) && json['entry'].length > 0 && json['type'] !== 'history');
  } catch {
    return false;
  }
}

/** The node's routes as the checks need them. */
export interface RouteSets {
  /** Paths of routes that need no token. */
  open: ReadonlySet<string>;
  /** `METHOD path` of routes that need one. */
  guarded: ReadonlySet<string>;
}

/** What is wrong with an answer, if anything. */
export function problemsOf(request: BuiltRequest, answer: Answer, routes: RouteSets = { open: new Set(), guarded: new Set() }): string[] {
  const problems: string[] = [];
  const { status } = answer;
  if (unauthenticated(request)) {
    if (status >= 200 && status < 300 && !routes.open.has(request.spec.template)) problems.push(`${status} to a request that must not authenticate (${request.tokenLabel})`);
    // Authentication comes first: before it, a caller learns nothing of formats, parameters or bodies.
    // Only where the request surely reaches the route: through inject (no parser limits), ids of
    // the node's own resources in the path (odd ones are refused by the router), no cookie (parsed first).
    const method = request.method === 'HEAD' ? 'GET' : request.method;
    const routed = !request.wire && Object.values(request.spec.params).every((p) => p.ref !== 'literal') && !request.headers.some(([name]) => name === 'cookie');
    if (routed && routes.guarded.has(`${method} ${request.spec.template}`) && status !== 401 && status !== 403) {
      problems.push(`${status} before authentication (${request.tokenLabel}): should be 401 or 403`);
    }
  }
  if (status >= 200 && status < 300 && request.method === 'GET' && blankBreakGlass(request) && releasesPatientData(answer.body)) {
    problems.push(`break-glass with a blank reason released patient data (${status})`);
  }
  if (status >= 500) {
    const peerAnswer = request.crossBorder && (status === 502 || status === 504 || (status === 503 && answer.headers['retry-after'] !== undefined));
    if (!peerAnswer) problems.push(`status ${status}`);
  }
  if (status >= 400 && request.method !== 'HEAD') {
    const type = String(answer.headers['content-type'] ?? '');
    if (!/^application\/(fhir\+)?json(;|$)/.test(type)) problems.push(`error ${status} with Content-Type ${JSON.stringify(type)}`);
    let body: Json | undefined;
    try {
      body = JSON.parse(answer.body.toString('utf8')) as Json;
    } catch {
      problems.push(`error ${status} whose body is not JSON (${answer.body.length} bytes)`);
    }
    if (body) {
      const issues = body['issue'];
      if (body['resourceType'] !== 'OperationOutcome') problems.push(`error ${status} with a ${String(body['resourceType'])}, not an OperationOutcome`);
      else if (!Array.isArray(issues) || issues.length === 0) problems.push(`error ${status}: OperationOutcome without issues`);
      else if (issues.some((i: Json) => typeof i?.['severity'] !== 'string' || typeof i?.['code'] !== 'string')) problems.push(`error ${status}: an issue without severity or code`);
    }
  }
  return problems;
}

function describeRequest(r: BuiltRequest): string {
  const raw = r.spec.raw ? JSON.stringify(r.spec.raw).slice(0, 120) : '';
  const via = r.wire ? `socket${raw ? ` ${raw}` : ''}` : 'inject';
  const target = r.target.length > 160 ? `${r.target.slice(0, 160)}…` : r.target;
  return `${r.method.slice(0, 20)} ${target} via ${via}, token ${r.tokenLabel}${r.body ? `, body ${r.body.length} bytes` : ''}`;
}

/** Known resources of the node's store, in an order that does not depend on generated ids. */
async function knownResources(store: Store): Promise<KnownResources> {
  const db = store.database;
  const patients = await db.collection<{ _id: string; identifierKeys?: string[]; hasSummary?: boolean }>('patients').find({ hasSummary: true }, { fields: ['identifierKeys'] });
  const summaries = await db.collection<{ _id: string; identifierKey: string; versionId: number }>('summaries').find({}, { fields: ['identifierKey', 'versionId'] });
  const consents = await db.collection<{ _id: string; patientId: string; versionId: number }>('consents').find({}, { fields: ['versionId', 'patientId'] });
  const byKey = <T>(list: T[], key: (t: T) => string) => list.sort((a, b) => key(a).localeCompare(key(b)));
  return {
    patients: byKey(patients, (p) => (p.identifierKeys ?? []).join(',')).map((p) => p._id),
    bundles: byKey(summaries, (s) => s.identifierKey).map((s) => ({ id: s._id, version: s.versionId })),
    consents: byKey(consents, (c) => `${c.versionId}`).map((c) => ({ id: c._id, version: c.versionId })),
  };
}

/** Statuses counted by the server for a route. */
function routeCount(node: RoundNode, key: string, status: number): number {
  return node.routes.get(key)?.get(status) ?? 0;
}

/** Runs a campaign; never throws for what it finds (see the report's violations). */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const maxBatch = options.maxBatch ?? 12;
  const started = performance.now();
  const report: FuzzReport = {
    seed: options.seed,
    requests: 0,
    batches: 0,
    elapsedMs: 0,
    requestsPerSecond: 0,
    byStatus: {},
    byToken: {},
    byTransport: {},
    byRoute: {},
    rounds: [],
    unreachedRoutes: [],
    violations: [],
  };
  const violations = new Map<string, Violation>();
  const needles: LogNeedles = { substrings: ['eyJ'], patterns: [MARKER_PATTERN, ...seedLogNeedles().map(wholeValue)] };
  const reproduce = options.path !== undefined;
  let allRoutes: string[] = [];
  const reached = new Set<string>();

  for (let round = 0; reproduce ? round < 1 : report.requests < options.requests; round++) {
    const roundSeed = options.seed + round;
    const backend = options.backends[round % options.backends.length] ?? memoryBackend;
    const policy = POLICIES[roundSeed % POLICIES.length]!;
    const backendName = backend === mongoBackend ? 'mongodb' : 'embedded';
    let roundRequests = 0;
    const record = (kind: string, example: string, batch: number) => {
      const known = violations.get(kind);
      if (known) known.count++;
      else {
        violations.set(kind, {
          kind,
          count: 1,
          example,
          reproduce:
            batch >= 0
              ? `FUZZ_SEED=${roundSeed} FUZZ_PATH=${batch} FUZZ_BACKEND=${backendName} npm run fuzz`
              : `FUZZ_SEED=${roundSeed} FUZZ_REQUESTS=${roundRequests} FUZZ_ROUND_REQUESTS=${roundRequests} FUZZ_BACKEND=${backendName} npm run fuzz (found after the round: replays the whole round)`,
        });
      }
    };

    // PT: a peer node (embedded store, PT seed) reached through a fault proxy; FR: connection refused.
    // Whatever started is stopped, also when the round fails half-way.
    const closers: (() => Promise<void>)[] = [];
    try {
      const ptPort = await freePort();
      const proxy = await FaultProxy.start({ host: '127.0.0.1', port: ptPort }, 0, { dripMs: 50, hugeBytes: 4 * 2 ** 20 });
      closers.push(() => proxy.close());
      const common = { PONTIS_LIMIT_PER_REQUESTER: '5000', PONTIS_LIMIT_PER_PATIENT: '2000', PONTIS_BODY_TIMEOUT_MS: '1000', PONTIS_HEADERS_TIMEOUT_MS: '1000' };
      const pt = await startNode({ ...common, PORT: String(ptPort), PONTIS_COUNTRY: 'PT', PONTIS_BASE_URL: proxy.url(), PONTIS_CONSENT_DEFAULT: 'opt-out' }, memoryBackend, 'PT');
      closers.push(() => pt.stop());
      const at = await startNode(
        {
          ...common,
          ...policy,
          PONTIS_COUNTRY: 'AT',
          PONTIS_BASE_URL: 'http://at.fuzz.example/fhir',
          PONTIS_PEER_URLS: `PT=${proxy.url()},FR=http://127.0.0.1:1/fhir`,
          PONTIS_PEER_TIMEOUT_MS: '400',
          PONTIS_PEER_CONNECT_TIMEOUT_MS: '200',
          PONTIS_MAX_PAYLOAD_BYTES: String(2 ** 20),
        },
        backend,
        'AT',
      );
      closers.push(() => at.stop());
      const routes = routeShapes(at.server);
      allRoutes = routes.map((r) => `${r.method} ${r.path}`);
      const routeSets: RouteSets = {
        open: new Set(routes.filter((r) => r.open && r.method !== '*').map((r) => r.path)),
        guarded: new Set(routes.filter((r) => !r.open && r.method !== '*').map((r) => `${r.method} ${r.path}`)),
      };
      const seeded = { summaries: await at.store.database.collection('summaries').count({}) };
      const ctx: BuildContext = { audience: at.config.baseUrl, known: { patients: [], bundles: [], consents: [] }, markerCount: 0,
        lastToken: undefined,
        async stored(of, id) {
          const known = (of === 'bundle' ? ctx.known.bundles : ctx.known.consents).find((r) => r.id === id);
          if (!known) return undefined;
          // A document's version 1 is kept in its record (DEVELOPERS.md, "Push").
          const version =
            of === 'bundle' && known.version === 1
              ? (await at.store.database.collection<{ _id: string; first?: { json: string } }>('summaries').findOne({ _id: id }))?.first
              : await at.store.database.collection<{ _id: string; json: string }>(of === 'bundle' ? 'summary_versions' : 'consent_versions').findOne({ _id: `${id}@${known.version}` });
          return version ? (JSON.parse(version.json) as Json) : undefined;
        },
      };
      /** Markers by the outcome of the request that carried them. */
      const accepted = new Set<string>();
      const unanswered = new Set<string>();
      const refused = new Map<string, string>();
      let batchIndex = 0;

      const runBatch = async (batch: BatchSpec): Promise<string[]> => {
        const found: string[] = [];
        await proxy.set(batch.peerFault as PeerFault);
        ctx.known = await knownResources(at.store);
        const built: BuiltRequest[] = [];
        for (const spec of batch.requests) built.push(await buildRequest(spec, ctx));
        const results = await Promise.all(built.map((r) => send(at, r).then((result) => ({ request: r, result }))));
        // Log lines are written synchronously; a turn of the loop lets late ones (audit flushes) in.
        await new Promise((resolve) => setImmediate(resolve));
        const failures = new Map<string, string>();
        for (const [name, node] of [['AT', at], ['PT', pt]] as const) {
          const lines = node.log.take();
          for (const leak of leaksIn(lines, needles)) found.push(`log line of ${name} holds ${leak.needle.startsWith('zqmk') ? 'a fuzz marker' : JSON.stringify(leak.needle)} :: ${leak.line}`);
          if (name === 'AT') for (const [requestId, site] of failureSites(lines)) failures.set(requestId, site);
        }
        for (const { request, result } of results) {
          roundRequests++;
          report.requests++;
          const transport = request.wire ? (request.spec.raw ? `socket, ${request.spec.raw.kind}` : 'socket') : 'inject';
          report.byTransport[transport] = (report.byTransport[transport] ?? 0) + 1;
          const status = result.answers[0]?.status;
          const statusKey = status === undefined ? 'no answer' : String(status);
          report.byStatus[statusKey] = (report.byStatus[statusKey] ?? 0) + 1;
          const byToken = (report.byToken[request.tokenLabel] ??= {});
          byToken[statusKey] = (byToken[statusKey] ?? 0) + 1;
          if (result.unparsable) found.push(`unparsable HTTP answer :: ${describeRequest(request)}`);
          const abandoned = request.wire?.abandonAfterMs !== undefined;
          if (result.answers.length === 0 && !abandoned) found.push(`no answer :: ${describeRequest(request)}`);
          for (const answer of result.answers) {
            // A 5xx is named by where the node failed (its log line of the same request id).
            const site = answer.status >= 500 ? failures.get(String(answer.headers['x-request-id'] ?? '')) : undefined;
            for (const p of problemsOf(request, answer, routeSets)) found.push(`${p}${site ? ` at ${site}` : ''} :: ${describeRequest(request)}`);
          }
          const outcome = result.answers.length === 0 || (request.wire?.expected ?? 1) > 1 ? 'unknown' : status! >= 200 && status! < 300 ? 'accepted' : 'refused';
          for (const m of request.markers) {
            if (outcome === 'accepted') accepted.add(m);
            else if (outcome === 'unknown') unanswered.add(m);
            else refused.set(m, `${statusKey} ${describeRequest(request)}`);
          }
        }
        report.batches++;
        return found;
      };

      const quota = Math.min(options.roundRequests, options.requests - report.requests);
      const property = fc.asyncProperty(batchSpec({ routes, socketShare: options.socketShare ?? 0.2, rawShare: options.rawShare ?? 0.4, maxBatch, peerFaults: PEER_FAULTS }), async (batch) => {
        const index = batchIndex++;
        // Runs beyond the round's quota are generated (the sequence stays the seed's) but not sent.
        if (!reproduce && roundRequests >= quota) return;
        const found = await runBatch(batch);
        if (reproduce) {
          if (found.length > 0) throw new Error(found.join('\n'));
          return;
        }
        for (const f of found) {
          const [kind, ...example] = f.split(' :: ');
          record(normaliseKind(kind!), `${kind} :: ${example.join(' :: ')}`, index);
        }
      });
      const numRuns = reproduce ? 1 : Math.max(1, Math.ceil((2 * quota) / ((maxBatch + 1) / 2)));
      const details = await fc.check(property, { seed: roundSeed, numRuns, ...(reproduce ? { path: options.path } : { endOnFailure: true }) });
      if (details.failed) {
        if (reproduce) report.counterexample = fc.defaultReportMessage(details) ?? 'failed';
        else record('fuzz harness error', String(details.errorInstance ?? details.error), details.counterexamplePath ? Number(details.counterexamplePath.split(':')[0]) : -1);
      }

      // The node is alive and answers metadata, through inject and over a socket.
      const metadata = await at.server.inject({ url: '/fhir/metadata' });
      if (metadata.statusCode !== 200 || JSON.parse(metadata.payload)['resourceType'] !== 'CapabilityStatement') record('metadata not answered after the round (inject)', `status ${metadata.statusCode}`, -1);
      const overSocket = await rawExchange(at.port, [Buffer.from('GET /fhir/metadata HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')], { expected: 1, timeoutMs: 5000 });
      if (overSocket.responses[0]?.status !== 200) record('metadata not answered after the round (socket)', `status ${overSocket.responses[0]?.status ?? 'none'}`, -1);

      // The store holds nothing of a refused write, and exactly what the accepted ones made.
      const stored: Record<string, number> = {};
      for (const name of PATIENT_DATA) {
        const docs = await at.store.database.collection<{ _id: string }>(name).find({});
        stored[name] = docs.length;
        for (const doc of docs) {
          for (const m of markersIn(JSON.stringify(doc))) {
            if (accepted.has(m) || unanswered.has(m)) continue;
            record(`stored in ${name} from a refused request`, `${m} from ${refused.get(m) ?? 'a request the fuzzer did not send'}`, -1);
          }
        }
      }
      const created = routeCount(at, 'POST /fhir/Bundle', 201);
      if (stored['summaries'] !== seeded.summaries + created) record('documents stored differ from accepted creates', `${stored['summaries']} documents; ${seeded.summaries} seeded + ${created} created (201)`, -1);
      const versions = (await at.store.database.collection<{ _id: string; versionId: number }>('summaries').find({}, { fields: ['versionId'] })).reduce((n, s) => n + s.versionId, 0);
      // Version 1 of each document is kept in its record; later versions apart.
      if (stored['summary_versions'] !== versions - stored['summaries']!) record('document versions stored differ from the documents\' versions', `${stored['summary_versions']} versions stored apart, documents name ${versions - stored['summaries']!} after their first`, -1);
      const updated = routeCount(at, 'PUT /fhir/Bundle/{id}', 200);
      if (versions - stored['summaries']! > updated) record('more document versions than accepted updates', `${versions - stored['summaries']!} later versions, ${updated} updates answered 200`, -1);
      const hidden = await at.store.database.collection('patients').count({ hasSummary: false });
      if (hidden > 0) record('patients stored without a document (claims of refused pushes)', `${hidden} patient records have no document`, -1);

      // Whatever the round's end logged.
      await new Promise((resolve) => setTimeout(resolve, 50));
      for (const [name, node] of [['AT', at], ['PT', pt]] as const) {
        for (const leak of leaksIn(node.log.take(), needles)) record(`log line of ${name} holds ${leak.needle.startsWith('zqmk') ? 'a fuzz marker' : JSON.stringify(leak.needle)}`, leak.line, -1);
      }
      for (const [key, counts] of at.routes) {
        reached.add(key);
        const byRoute = (report.byRoute[key] ??= {});
        for (const [status, n] of counts) byRoute[String(status)] = (byRoute[String(status)] ?? 0) + n;
      }
      report.rounds.push({ seed: roundSeed, backend: backend.name, requests: roundRequests, policy: `${policy.PONTIS_CONSENT_DEFAULT}, break-glass ${policy.PONTIS_BREAK_GLASS}`, stored, logLines: at.log.count() + pt.log.count() });
      options.progress?.(`round ${round} (seed ${roundSeed}, ${backend.name}): ${roundRequests} requests, ${report.requests} in all, ${violations.size} kinds of violation so far`);
    } finally {
      for (const close of closers.reverse()) await close().catch(() => undefined);
    }
  }

  report.elapsedMs = Math.round(performance.now() - started);
  report.requestsPerSecond = Math.round((report.requests / report.elapsedMs) * 1000);
  report.unreachedRoutes = reproduce ? [] : allRoutes.filter((r) => !reached.has(r));
  report.violations = [...violations.values()].sort((a, b) => b.count - a.count);
  return report;
}

/**
 * Where the node failed, by request id: the error type and the first frame in src/ (or else the
 * first frame) of each logged error. Stacks name code, never request content.
 */
function failureSites(lines: readonly string[]): Map<string, string> {
  const sites = new Map<string, string>();
  for (const line of lines) {
    if (!/"level":(50|60)/.test(line)) continue;
    try {
      const entry = JSON.parse(line) as { requestId?: string; err?: { type?: string; stack?: string } };
      if (!entry.requestId || !entry.err?.stack) continue;
      const frames = entry.err.stack.split('\n').map((f) => /\(?(\/[^()\s]+:\d+):\d+\)?$/.exec(f.trim())?.[1]).filter((f): f is string => f !== undefined);
      const frame = frames.find((f) => f.includes('/src/')) ?? frames[0] ?? 'unknown';
      sites.set(entry.requestId, `${entry.err.type ?? 'Error'} ${frame.replace(/^.*?\/(src|node_modules)\//, '$1/')}`);
    } catch {
      continue;
    }
  }
  return sites;
}

/** Groups violations by what went wrong, not by the varying details (markers, sizes). */
function normaliseKind(kind: string): string {
  return kind
    .replace(/\(\d+ bytes\)/g, '(n bytes)')
    .replace(/zqmk[0-9a-f]{8}/gi, 'marker')
    .replace(/"[^"]{40,}"/g, '"…"');
}

/** The report as text: the figures, then each violation with its example and reproduction. */
export function formatReport(report: FuzzReport, command: string): string {
  const lines: string[] = [];
  lines.push(`seed ${report.seed}: ${report.requests} requests in ${report.batches} batches, ${(report.elapsedMs / 1000).toFixed(1)} s, ${report.requestsPerSecond} requests/s`);
  lines.push(`by status: ${Object.entries(report.byStatus).sort().map(([s, n]) => `${s}: ${n}`).join(', ')}`);
  lines.push('by token kind:');
  for (const [label, counts] of Object.entries(report.byToken).sort()) lines.push(`  ${label}: ${Object.entries(counts).sort().map(([s, n]) => `${s}×${n}`).join(' ')}`);
  lines.push(`by transport: ${Object.entries(report.byTransport).sort().map(([s, n]) => `${s}: ${n}`).join(', ')}`);
  lines.push('by route (as the node answered):');
  for (const [route, counts] of Object.entries(report.byRoute).sort()) lines.push(`  ${route}: ${Object.entries(counts).sort().map(([s, n]) => `${s}×${n}`).join(' ')}`);
  for (const r of report.rounds) lines.push(`round seed ${r.seed} on ${r.backend} (${r.policy}): ${r.requests} requests; stored ${Object.entries(r.stored).map(([c, n]) => `${c} ${n}`).join(', ')}; ${r.logLines} log lines`);
  if (report.unreachedRoutes.length > 0) lines.push(`routes never reached: ${report.unreachedRoutes.join(', ')}`);
  if (report.violations.length === 0) lines.push('no violations');
  for (const v of report.violations) {
    lines.push(`VIOLATION ×${v.count}: ${v.kind}`);
    lines.push(`  e.g. ${v.example.slice(0, 600)}`);
    lines.push(`  replay: ${v.reproduce}`);
  }
  if (report.counterexample) lines.push(report.counterexample);
  lines.push(`re-run: ${command}`);
  return lines.join('\n');
}
