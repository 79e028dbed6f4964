import type { Server, ServerInjectResponse } from '@hapi/hapi';
import pino, { type Logger } from 'pino';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { NodeIdentity } from '../../src/exchange/node-identity.js';
import { PeerDirectory } from '../../src/exchange/peer-directory.js';
import { MemoryDatabase } from '../../src/repositories/memory-database.js';
import { storeOn } from '../../src/repositories/store.js';
import { createServer } from '../../src/server.js';
import { projectRoot } from '../../src/project-root.js';
import { startPortal, type RunningPortal } from '../../src/portal/index.js';
import { loadSeed } from '../../src/seed/seed-loader.js';
import { createServices } from '../../src/server.js';
import { buildTestNode, demoTerminology, demoTrust, sharedValidator, type TestNode } from '../support/test-node.js';
import { memoryBackend } from '../support/stores.js';

/** A node of `country` with the exchange set up (peers at `peerUrls`), on the embedded store. */
async function exchangingNode(country: string, peerUrls: string, env: Record<string, string>): Promise<TestNode> {
  const config = loadConfig({ PONTIS_COUNTRY: country, PONTIS_BASE_URL: `http://${country.toLowerCase()}.example/fhir`, LOG_LEVEL: 'silent', PONTIS_PEER_URLS: peerUrls, ...env });
  const trust = await demoTrust();
  const database = new MemoryDatabase();
  const store = await storeOn(database, config);
  const directory = PeerDirectory.load(config.peerDirectoryPath, country, trust, config.peerUrls);
  const identity = await NodeIdentity.load(config.nodeKeyPath);
  const server = await createServer({ config, store, logger: pino({ level: 'silent' }), validator: sharedValidator(), trust, exchange: { directory, identity }, terminology: demoTerminology() });
  await server.initialize();
  return {
    server,
    store,
    config,
    async cleanup() {
      await server.stop();
      await database.close();
    },
  };
}

/** A node of `country` on the embedded store with its seed data, and its portal with the demo identity provider. */
export interface PortalUnderTest {
  node: TestNode;
  portal: RunningPortal;
  stop(): Promise<void>;
}

/** Starts an in-process node (seeded) and its portal; `idleTimeoutMs` shortens the idle timeout. */
export async function startPortalUnderTest(options: { country?: string; idleTimeoutMs?: number; env?: Record<string, string>; peerUrls?: string; logger?: Logger } = {}): Promise<PortalUnderTest> {
  const country = options.country ?? 'AT';
  const node = options.peerUrls
    ? await exchangingNode(country, options.peerUrls, options.env ?? {})
    : await buildTestNode(memoryBackend, { PONTIS_COUNTRY: country, PONTIS_BASE_URL: `http://${country.toLowerCase()}.example/fhir`, ...options.env }, undefined, { terminology: demoTerminology() });
  const services = createServices({ config: node.config, store: node.store, validator: sharedValidator() });
  await loadSeed({ ...services, patients: node.store.patients }, country);
  const trust = await demoTrust();
  const directory = PeerDirectory.load(join(projectRoot(), 'seed', 'trust', 'peer-directory.json'), country, trust, node.config.peerUrls);
  const portal = await startPortal({
    config: {
      ...node.config,
      host: '127.0.0.1',
      portal: {
        port: 0,
        url: undefined,
        oidc: undefined,
        demoIdpPort: 0,
        cookiePassword: undefined,
        tokenKeyPath: join(projectRoot(), 'seed', 'trust', 'demo-keys', `idp-${country.toLowerCase()}.json`),
        idleTimeoutMs: options.idleTimeoutMs ?? 15 * 60_000,
      },
    },
    api: node.server,
    trust,
    directory,
    logger: options.logger ?? pino({ level: 'silent' }),
  });
  return {
    node,
    portal,
    async stop() {
      await portal.stop();
      await node.cleanup();
    },
  };
}

/** Cookies a browser would hold for one site: set from responses, sent as one header. */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  take(setCookie: string | string[] | undefined | null): void {
    for (const line of ([] as string[]).concat(setCookie ?? [])) {
      const [pair] = line.split(';');
      const at = pair!.indexOf('=');
      const name = pair!.slice(0, at).trim();
      const value = pair!.slice(at + 1).trim();
      if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  get(name: string): string | undefined {
    return this.cookies.get(name);
  }

  delete(name: string): void {
    this.cookies.delete(name);
  }

  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/** A browser-like client of the portal: cookies kept, requests injected. */
export class PortalClient {
  readonly jar = new CookieJar();

  constructor(
    private readonly server: Server,
    private readonly language = 'en',
  ) {}

  async get(url: string, headers: Record<string, string> = {}): Promise<ServerInjectResponse> {
    const response = await this.server.inject({ method: 'GET', url, headers: { cookie: this.jar.header(), 'accept-language': this.language, ...headers } });
    this.jar.take(response.headers['set-cookie']);
    return response;
  }

  /** Posts a form; the crumb of the last page is added unless `crumb: false`. */
  async post(url: string, form: Record<string, string | string[]>, options: { crumb?: boolean } = {}): Promise<ServerInjectResponse> {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(form)) for (const item of ([] as string[]).concat(v)) body.append(k, item);
    if (options.crumb !== false && this.jar.get('pontis_crumb')) body.set('pontis_crumb', this.jar.get('pontis_crumb')!);
    const response = await this.server.inject({
      method: 'POST',
      url,
      payload: body.toString(),
      headers: { cookie: this.jar.header(), 'content-type': 'application/x-www-form-urlencoded', 'accept-language': this.language },
    });
    this.jar.take(response.headers['set-cookie']);
    return response;
  }

  /**
   * Signs `username` in through the real demo identity provider over HTTP (its login form, its
   * redirects), as a browser would, and lands back on the portal: the response of the callback.
   */
  async signIn(portalUrl: string, username: string, password = 'demo'): Promise<ServerInjectResponse> {
    const start = await this.get('/signin');
    let location = start.headers['location'] as string;
    const idp = new CookieJar();
    for (let hop = 0; hop < 10; hop++) {
      if (location.startsWith(portalUrl)) return this.get(location.slice(portalUrl.length));
      const response = await fetch(location, { redirect: 'manual', headers: { cookie: idp.header() } });
      idp.take(response.headers.getSetCookie());
      if (response.status === 200) {
        const html = await response.text();
        const action = /action="([^"]+)"/.exec(html)![1]!;
        const login = await fetch(new URL(action, location), {
          method: 'POST',
          redirect: 'manual',
          headers: { cookie: idp.header(), 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ username, password }).toString(),
        });
        idp.take(login.headers.getSetCookie());
        if (login.status !== 303 && login.status !== 302) throw new Error(`login refused: ${login.status}`);
        location = new URL(login.headers.get('location')!, location).href;
        continue;
      }
      location = new URL(response.headers.get('location')!, location).href;
    }
    throw new Error('sign-in did not come back to the portal');
  }
}

/** The visible text of a page (tags removed, spaces collapsed). */
export function textOf(response: ServerInjectResponse): string {
  return response.payload
    .replace(/<script[\s\S]*?<\/script>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)))
    .replace(/&#x([0-9a-f]+);/gi, (_, n: string) => String.fromCharCode(parseInt(n, 16)))
    .replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"')
    .replace(/&#x27;|&apos;/g, "'")
    .replace(/\s+/g, ' ');
}
