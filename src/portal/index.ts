import { randomBytes } from 'node:crypto';
import type { Server } from '@hapi/hapi';
import type { Logger } from 'pino';
import type { TrustList } from '../auth/trust-list.js';
import type { NodeConfig } from '../config.js';
import type { PeerDirectory } from '../exchange/peer-directory.js';
import { NodeApi } from './node-api.js';
import { OidcRelyingParty } from './oidc-relying-party.js';
import type { PortalConfig } from './portal-config.js';
import { createPortalServer, type PortalContext } from './portal-server.js';
import { PortalTokenSigner } from './portal-tokens.js';
import { SignedOutSessions } from './session.js';

/** A running portal (and the demo identity provider, when it runs). */
export interface RunningPortal {
  url: string;
  /** The portal's hapi server (listening at `url`). */
  server: Server;
  /** The OpenID Connect issuer people sign in with. */
  issuer: string;
  /** Whether that issuer is the demo identity provider of this process. */
  demoIdentityProvider: boolean;
  stop(): Promise<void>;
}

/** Everything the portal is started from: the node's settings, its FHIR server, trust and peers. */
export interface PortalDependencies {
  config: NodeConfig & { portal: PortalConfig };
  /** The node's FHIR API server: the portal's only way to patient data (server.inject). */
  api: Server;
  trust: TrustList;
  directory: PeerDirectory | undefined;
  logger: Logger;
}

/**
 * Starts the portal of a node: its token signer (checked against the trust list), its HTTP
 * server, and, when no identity provider is configured, the demo one (never in production: the
 * configuration refuses it). Throws when the token key cannot be used.
 */
export async function startPortal({ config, api, trust, directory, logger }: PortalDependencies): Promise<RunningPortal> {
  const settings = config.portal;
  const signer = await PortalTokenSigner.load(settings.tokenKeyPath, trust, config.country, config.baseUrl);
  const displayHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const ctx: PortalContext = {
    country: config.country,
    url: settings.url ?? '',
    api: new NodeApi(api, signer, '/fhir'),
    // Set once the portal's own URL (its port) is known, below.
    relyingParty: undefined as unknown as OidcRelyingParty,
    directory,
    consentDefault: config.consentPolicy.defaultDecision,
    demo: trust.hasDemoIssuers,
    signedOut: new SignedOutSessions(),
    tokenIssuer: signer.issuer,
    logger,
  };
  const server = await createPortalServer(ctx, {
    host: config.host,
    port: settings.port,
    // Random per process in development: sessions end with the process (production requires one).
    cookiePassword: settings.cookiePassword ?? randomBytes(32).toString('hex'),
    idleTimeoutMs: settings.idleTimeoutMs,
  });
  await server.start();
  const url = settings.url ?? `http://${displayHost}:${server.info.port}`;
  ctx.url = url;
  let oidc = settings.oidc;
  let closeIdp = async () => {};
  if (!oidc) {
    const clientSecret = randomBytes(24).toString('base64url');
    const clientId = `pontis-portal-${config.country.toLowerCase()}`;
    const redirectUrl = `${url}/auth/callback`;
    // Loaded only when it runs: oidc-provider is for the demo, and says so on import.
    const { startDemoIdentityProvider } = await import('../demo-idp/demo-identity-provider.js');
    const idp = await startDemoIdentityProvider({ country: config.country, host: config.host, publicHost: displayHost, port: settings.demoIdpPort, client: { clientId, clientSecret, redirectUri: redirectUrl, origin: new URL(url).origin } });
    closeIdp = idp.close;
    oidc = { issuer: idp.issuer, clientId, clientSecret, redirectUrl };
    logger.warn({ issuer: idp.issuer }, 'DEMO IDENTITY PROVIDER: demo users with the password "demo" can sign in to the portal. Never use it in production.');
  }
  ctx.relyingParty = new OidcRelyingParty(
    { issuer: oidc.issuer, clientId: oidc.clientId, clientSecret: oidc.clientSecret, redirectUrl: oidc.redirectUrl ?? `${url}/auth/callback` },
    config.environment !== 'production',
  );
  return {
    url,
    server,
    issuer: oidc.issuer,
    demoIdentityProvider: !settings.oidc,
    async stop() {
      await server.stop({ timeout: 2000 });
      await closeIdp();
    },
  };
}
