import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { DEMO_PASSWORD, demoUsers, type DemoUser } from './demo-users.js';
import { demoMemoryAdapter } from './memory-adapter.js';

/** A relying party registered at the demo identity provider (the portal). */
export interface DemoClient {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  /** Origin the browser is sent back to (allowed as a form target on the sign-in page). */
  origin: string;
}

/** A running demo identity provider. */
export interface DemoIdentityProvider {
  /** Its issuer URL (the base of its discovery document). */
  issuer: string;
  users: DemoUser[];
  close(): Promise<void>;
}

/** Claims of the `pontis` scope: what the portal needs to act as the person at the node. */
export const PONTIS_CLAIMS = ['isco08_role', 'organization', 'organization_id', 'person_id', 'country'] as const;

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const STYLE = `body{font-family:arial,sans-serif;margin:0;color:#0b0c0c;background:#f3f2f1}
main{max-width:36rem;margin:2rem auto;background:#fff;padding:1.5rem 2rem;border-top:6px solid #1d70b8}
h1{font-size:1.75rem;margin-top:0}label{display:block;font-weight:700;margin:1rem 0 .25rem}
input{font-size:1.1rem;padding:.4rem;width:100%;box-sizing:border-box;border:2px solid #0b0c0c}
input:focus,button:focus{outline:3px solid #fd0;outline-offset:0;box-shadow:inset 0 0 0 2px #0b0c0c}
button{margin-top:1.25rem;font-size:1.1rem;padding:.5rem 1rem;background:#00703c;color:#fff;border:0;box-shadow:0 2px 0 #002d18;cursor:pointer}
.error{border:4px solid #d4351c;padding:.75rem;color:#0b0c0c}.error strong{color:#d4351c}
table{border-collapse:collapse;width:100%;margin-top:1rem;font-size:.95rem}th,td{text-align:left;border-bottom:1px solid #b1b4b6;padding:.3rem}
.demo{background:#fff7bf;padding:.5rem .75rem;border-left:5px solid #fd0}`;

function page(title: string, body: string): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title><link rel="stylesheet" href="/idp.css"></head><body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`;
}

/** The sign-in form, with the demo accounts listed (every one's password is `demo`). */
function loginPage(uid: string, country: string, users: DemoUser[], error?: string): string {
  const rows = users
    .map((u) => `<tr><td><code>${escapeHtml(u.username)}</code></td><td>${escapeHtml(u.name)}</td><td>${u.kind === 'clinician' ? `ISCO-08 ${escapeHtml(u.role ?? '')}, ${escapeHtml(u.organization ?? '')}` : 'patient'}</td></tr>`)
    .join('');
  return page(
    `Demo identity provider (${country})`,
    `${error ? `<div class="error" role="alert"><strong>${escapeHtml(error)}</strong></div>` : ''}
<p class="demo">A DEMONSTRATION identity provider: never use it for real people. Every password is <code>${DEMO_PASSWORD}</code>.</p>
<form method="post" action="/interaction/${escapeHtml(uid)}/login" autocomplete="off">
<label for="username">User name</label><input id="username" name="username" required autocapitalize="none" spellcheck="false">
<label for="password">Password</label><input id="password" name="password" type="password" required>
<button type="submit">Sign in</button></form>
<table><caption>Demo accounts</caption><thead><tr><th scope="col">User name</th><th scope="col">Name</th><th scope="col">Who</th></tr></thead><tbody>${rows}</tbody></table>`,
  );
}

function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > 4096) reject(new Error('form too large'));
    });
    req.on('end', () => resolve(new URLSearchParams(body)));
    req.on('error', reject);
  });
}

/**
 * Starts the demo OpenID Connect provider of `country` (oidc-provider) on `host:port`, its issuer
 * URL naming `publicHost` when given: the country's demo clinicians and seed patients sign in with
 * password `demo`; the ID token carries their ISCO-08 role and organisation, or their national
 * identifier. Its signing key, cookie keys and sessions live in memory and die with the process.
 * Never for production (the node refuses).
 */
export async function startDemoIdentityProvider(options: { country: string; host: string; port: number; client: DemoClient; publicHost?: string }): Promise<DemoIdentityProvider> {
  const { country, host, client } = options;
  const users = demoUsers(country);
  const bySubject = new Map(users.map((u) => [u.subject, u]));
  const byUsername = new Map(users.map((u) => [u.username, u]));
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  // The browser is sent here: the name it can reach (a wildcard bind address is not one).
  const shown = options.publicHost ?? host;
  const issuer = `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig', kid: randomBytes(8).toString('hex') };

  const configuration: Configuration = {
    adapter: demoMemoryAdapter(),
    clients: [
      {
        client_id: client.clientId,
        client_secret: client.clientSecret,
        redirect_uris: [client.redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: [jwk as never] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    scopes: ['openid', 'profile', 'pontis'],
    claims: { openid: ['sub'], profile: ['name', 'given_name', 'family_name'], pontis: [...PONTIS_CLAIMS] },
    // The portal reads the person's role and organisation from the ID token itself.
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false }, rpInitiatedLogout: { enabled: false } },
    pkce: { required: () => true },
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
    interactions: { url: (_ctx: KoaContextWithOIDC, interaction) => `/interaction/${interaction.uid}` },
    // The portal is the country's own service: its users are not asked to consent to it.
    async loadExistingGrant(ctx: KoaContextWithOIDC) {
      const clientId = ctx.oidc.client!.clientId;
      const existing = ctx.oidc.session?.grantIdFor(clientId);
      if (existing) {
        const grant = await ctx.oidc.provider.Grant.find(existing);
        if (grant) return grant;
      }
      const grant = new ctx.oidc.provider.Grant({ clientId, accountId: ctx.oidc.session!.accountId! });
      grant.addOIDCScope('openid profile pontis');
      await grant.save();
      return grant;
    },
    async findAccount(_ctx, subject) {
      const user = bySubject.get(subject);
      if (!user) return undefined;
      return {
        accountId: subject,
        async claims() {
          return {
            sub: subject,
            name: user.name,
            given_name: user.givenName,
            family_name: user.familyName,
            country: user.country,
            ...(user.role ? { isco08_role: user.role } : {}),
            ...(user.organization ? { organization: user.organization } : {}),
            ...(user.organizationId ? { organization_id: user.organizationId } : {}),
            ...(user.personId ? { person_id: user.personId } : {}),
          };
        },
      };
    },
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = page('Sign-in failed', `<p>${escapeHtml(String(out['error_description'] ?? out['error'] ?? 'error'))}</p>`);
    },
  };
  const provider = new Provider(issuer, configuration);
  const callback = provider.callback();
  const headers = {
    'content-security-policy': `default-src 'none'; style-src 'self'; form-action 'self' ${client.origin}; frame-ancestors 'none'; base-uri 'none'`,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
  };
  const send = (res: ServerResponse, status: number, html: string) => res.writeHead(status, { ...headers, 'content-type': 'text/html; charset=utf-8' }).end(html);

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/idp.css') {
      res.writeHead(200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'max-age=3600', 'x-content-type-options': 'nosniff' }).end(STYLE);
      return;
    }
    const interaction = /^\/interaction\/([A-Za-z0-9_-]{1,100})(\/login)?$/.exec(path);
    if (!interaction) {
      callback(req, res);
      return;
    }
    void (async () => {
      try {
        const details = await provider.interactionDetails(req, res);
        if (details.uid !== interaction[1]) return send(res, 400, page('Sign-in failed', '<p>This sign-in page has expired. Go back to the portal and sign in again.</p>'));
        if (!interaction[2]) {
          if (req.method !== 'GET') return send(res, 405, page('Not allowed', '<p>Use the form.</p>'));
          return send(res, 200, loginPage(details.uid, country, users));
        }
        if (req.method !== 'POST') return send(res, 405, page('Not allowed', '<p>Use the form.</p>'));
        const form = await readForm(req);
        const user = byUsername.get(form.get('username')?.trim().toLowerCase() ?? '');
        if (!user || form.get('password') !== DEMO_PASSWORD) {
          return send(res, 401, loginPage(details.uid, country, users, 'Unknown user name or wrong password.'));
        }
        await provider.interactionFinished(req, res, { login: { accountId: user.subject } }, { mergeWithLastSubmission: false });
      } catch {
        if (!res.headersSent) send(res, 400, page('Sign-in failed', '<p>This sign-in page has expired. Go back to the portal and sign in again.</p>'));
      }
    })();
  });
  return {
    issuer,
    users,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
