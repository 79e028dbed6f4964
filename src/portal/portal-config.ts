/** Settings of the clinician and patient portal (docs/portal.md), from the environment. */
export interface PortalConfig {
  /** Port the portal listens on (0: any free port). */
  port: number;
  /** Public base URL of the portal; undefined: `http://<host>:<port>` once listening. */
  url: string | undefined;
  /**
   * The OpenID Connect provider the portal signs people in with; undefined: the demo identity
   * provider (oidc-provider, seed users), started in this process (refused in production).
   */
  oidc: { issuer: string; clientId: string; clientSecret: string; redirectUrl: string | undefined } | undefined;
  /** Port of the demo identity provider when it runs (0: any free port). */
  demoIdpPort: number;
  /** Password of the encrypted session cookie (at least 32 characters); undefined: random per process. */
  cookiePassword: string | undefined;
  /**
   * JWK file (`{ issuer, key }`) of the portal's token signer: tokens for the signed-in person are
   * minted with it, and its issuer must be this country's identity provider in the trust list.
   */
  tokenKeyPath: string;
  /** A session unused this long ends (ms). */
  idleTimeoutMs: number;
}
