import type { Server, ServerInjectOptions, ServerInjectResponse } from '@hapi/hapi';
import type { Consent } from 'fhir/r4.js';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino, { type Logger } from 'pino';
import { mintDemoToken } from '../../src/auth/demo-tokens.js';
import { TrustList } from '../../src/auth/trust-list.js';
import { DEMO_TRUST_LIST, loadConfig, type NodeConfig } from '../../src/config.js';
import { storeOn, type Store } from '../../src/repositories/store.js';
import { createServer, type ServerDependencies } from '../../src/server.js';
import { loadTerminologyCatalogue } from '../../src/terminology/catalogue-loader.js';
import type { TerminologyCatalogue } from '../../src/terminology/terminology-catalogue.js';
import { createValidator, type ProfileValidator } from '../../src/validation/index.js';

let validator: ProfileValidator | undefined;

/** One profile validator per test file (loading definitions takes about half a second). */
export function sharedValidator(): ProfileValidator {
  validator ??= createValidator();
  return validator;
}
import type { Backend } from './stores.js';

let trust: Promise<TrustList> | undefined;

/** The demo trust list of seed/trust, loaded once per test file. */
export function demoTrust(): Promise<TrustList> {
  trust ??= TrustList.load(DEMO_TRUST_LIST);
  return trust;
}

/** Scopes of the default test caller: the demo hospital system of the node's country. */
export const HOSPITAL_SCOPES = 'system/Bundle.crus system/Patient.rs system/Consent.crus';

/** A fresh token of the demo hospital system of `country` for the node at `audience`. */
export function hospitalToken(audience: string, country = 'AT'): Promise<string> {
  return mintDemoToken({ audience, country, scope: HOSPITAL_SCOPES });
}

/**
 * Makes `server.inject` send a fresh token of the country's demo hospital system when a request
 * has no Authorization header, so that tests of storage semantics read as before; the header
 * value `none` sends no Authorization at all.
 */
export function withDefaultToken(server: Server, audience: string, country = 'AT'): Server {
  const inject = server.inject.bind(server);
  server.inject = (async (options: string | ServerInjectOptions) => {
    const opts: ServerInjectOptions = typeof options === 'string' ? { url: options } : { ...options };
    const headers = { ...((opts.headers as Record<string, string> | undefined) ?? {}) };
    if (headers['authorization'] === 'none') delete headers['authorization'];
    else if (headers['authorization'] === undefined) headers['authorization'] = `Bearer ${await hospitalToken(audience, country)}`;
    return inject({ ...opts, headers });
  }) as Server['inject'];
  return server;
}

/** A node built for a test: hapi server (not listening), its store and configuration. */
export interface TestNode {
  server: Server;
  store: Store;
  config: NodeConfig;
  cleanup(): Promise<void>;
}

let demoCatalogue: TerminologyCatalogue | undefined;

/** The demo translation catalogue of terminology/, loaded once per test file. */
export function demoTerminology(): TerminologyCatalogue {
  demoCatalogue ??= loadTerminologyCatalogue(join(ROOT, 'terminology'));
  return demoCatalogue;
}

/** What else a test node is built with (nothing by default, as before). */
export interface TestNodeOptions {
  /** A translation catalogue: `$summary` then honours Accept-Language. */
  terminology?: TerminologyCatalogue;
  /** Parts readied after the start (as the seed is), reported by `/health/ready`. */
  startupChecks?: ServerDependencies['startupChecks'];
}

/** Builds a node on a fresh database of the backend, with silent logs. */
export async function buildTestNode(backend: Backend, env: Record<string, string> = {}, logger: Logger = pino({ level: 'silent' }), options: TestNodeOptions = {}): Promise<TestNode> {
  const config = loadConfig({ PONTIS_COUNTRY: 'AT', PONTIS_BASE_URL: 'http://at.example/fhir', LOG_LEVEL: 'silent', ...env });
  const { database, cleanup } = await backend.open();
  const store = await storeOn(database, config);
  const server = withDefaultToken(await createServer({ config, store, logger, validator: sharedValidator(), trust: await demoTrust(), ...options }), config.baseUrl, config.country);
  await server.initialize();
  return {
    server,
    store,
    config,
    async cleanup() {
      await server.stop();
      await cleanup();
    },
  };
}

/** JSON body of a response. */
export function bodyOf<T = Record<string, unknown>>(response: ServerInjectResponse): T {
  return JSON.parse(response.payload) as T;
}

/** Sends FHIR JSON to the node. */
export function send(server: Server, method: string, url: string, body: unknown, headers: Record<string, string> = {}): Promise<ServerInjectResponse> {
  const options: ServerInjectOptions = {
    method,
    url,
    payload: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': 'application/fhir+json', ...headers },
  };
  return server.inject(options);
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const IPS_EXAMPLES = join(ROOT, 'profiles', 'hl7.fhir.uv.ips-2.0.0', 'package', 'example');

/** File names of the official IPS 2.0.0 example Bundles. */
export function ipsExampleBundles(): string[] {
  return readdirSync(IPS_EXAMPLES)
    .filter((f) => f.startsWith('Bundle-') && f.endsWith('.json'))
    .sort();
}

/** Loosely typed JSON, for tests that mutate documents. */
export type Json = Record<string, any>;

/** A fresh copy of an official IPS example. */
export function ipsExample(file: string): Json {
  return JSON.parse(readFileSync(join(IPS_EXAMPLES, file), 'utf8')) as Json;
}

/** The official all-sections example, a fresh copy. */
export const allSections = (): Json => ipsExample('Bundle-bundle-ips-all-sections.json');
/** The official minimal example, a fresh copy. */
export const minimal = (): Json => ipsExample('Bundle-bundle-minimal.json');

/**
 * A valid document (the official minimal example) with its own identifier, for the patient with
 * national identifier `urn:test:national|<nationalId>`, assembled at `timestamp`.
 */
export function documentFor(nationalId: string, timestamp: string, documentId = `${nationalId}-${timestamp}`): Json {
  const bundle = minimal();
  bundle['identifier'] = { system: 'urn:test:documents', value: documentId };
  bundle['timestamp'] = timestamp;
  patientOf(bundle)['identifier'] = [{ system: 'urn:test:national', value: nationalId }];
  return bundle;
}

/** A privacy Consent of patient `patientId` (the shape this node evaluates) with `provision`; loosely typed too, for tests that mutate it. */
export function privacyConsent(patientId: string, provision: Json): Consent & Json {
  return {
    resourceType: 'Consent',
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: `Patient/${patientId}` },
    dateTime: '2026-01-01T00:00:00Z',
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
    provision,
  };
}

/** The Patient resource of a document. */
export function patientOf(bundle: Json): Json {
  return (bundle['entry'] as Json[]).find((e) => e['resource']['resourceType'] === 'Patient')!['resource'] as Json;
}
