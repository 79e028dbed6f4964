import * as oidc from 'openid-client';
import type { SignedInPerson } from './session.js';

/** Where the portal signs people in: an OpenID Connect provider and the portal's registration there. */
export interface RelyingPartySettings {
  issuer: string;
  clientId: string;
  clientSecret: string;
  redirectUrl: string;
}

/** What the portal keeps between sending the browser to the provider and its return (encrypted cookie). */
export interface PendingSignIn {
  state: string;
  nonce: string;
  verifier: string;
  /** When it was started (ms): a sign-in left for longer is refused. */
  at: number;
}

/** Raised when a returning sign-in cannot be accepted; the message names the reason (never a token). */
export class SignInRefused extends Error {
  override name = 'SignInRefused';
}

const ISCO_CODE = /^\d{1,4}$/;
const PERSON_ID = /^[^|\s]{1,200}\|[^|\s]{1,200}$/;

/** The person an ID token describes, for this country's portal; throws {@link SignInRefused}. */
export function personOf(claims: Record<string, unknown>, country: string): SignedInPerson {
  const text = (name: string) => {
    const v = claims[name];
    return typeof v === 'string' && v.length > 0 && v.length <= 300 ? v : undefined;
  };
  const subject = text('sub');
  const name = text('name') ?? [text('given_name'), text('family_name')].filter(Boolean).join(' ');
  if (!subject || !name) throw new SignInRefused('the ID token has no subject or name');
  const claimed = text('country');
  if (claimed !== undefined && claimed !== country) throw new SignInRefused(`the identity provider names ${claimed} as the person's country, not ${country}`);
  const personId = text('person_id');
  if (personId !== undefined) {
    if (!PERSON_ID.test(personId)) throw new SignInRefused('person_id must be system|value');
    return { subject, kind: 'patient', name, personId };
  }
  const role = text('isco08_role');
  if (role === undefined || !ISCO_CODE.test(role)) throw new SignInRefused('the ID token names neither an ISCO-08 role nor a patient identifier');
  const organization = text('organization');
  const organizationId = text('organization_id');
  if (!organization || !organizationId) throw new SignInRefused("the ID token does not name the clinician's organisation");
  return { subject, kind: 'clinician', name, role, organization, organizationId };
}

/**
 * The portal as an OpenID Connect relying party (`openid-client`): authorization code flow with
 * PKCE, state and nonce, and a fresh login each time (`prompt=login`: a shared workstation never
 * signs the next person in silently). The provider's metadata is discovered on first use and again
 * after a failure, so a provider that is down at start-up does not stop the node.
 */
export class OidcRelyingParty {
  private configuration: Promise<oidc.Configuration> | undefined;

  constructor(
    private readonly settings: RelyingPartySettings,
    /** Plain http to the provider: the demo only (production requires https). */
    private readonly allowHttp: boolean,
  ) {}

  private discovered(): Promise<oidc.Configuration> {
    this.configuration ??= oidc
      .discovery(new URL(this.settings.issuer), this.settings.clientId, this.settings.clientSecret, undefined, {
        ...(this.allowHttp ? { execute: [oidc.allowInsecureRequests] } : {}),
        timeout: 5,
      })
      .catch((error: unknown) => {
        this.configuration = undefined;
        throw error;
      });
    return this.configuration;
  }

  /** Where to send the browser to sign in, and what to keep until it comes back. */
  async start(language: string): Promise<{ url: string; pending: PendingSignIn }> {
    const configuration = await this.discovered();
    const verifier = oidc.randomPKCECodeVerifier();
    const pending: PendingSignIn = { state: oidc.randomState(), nonce: oidc.randomNonce(), verifier, at: Date.now() };
    const url = oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: this.settings.redirectUrl,
      scope: 'openid profile pontis',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
      prompt: 'login',
      ui_locales: language,
    });
    return { url: url.href, pending };
  }

  /** The ID token's claims of a sign-in coming back with `query`; throws when anything is off. */
  async finish(query: string, pending: PendingSignIn): Promise<Record<string, unknown>> {
    const configuration = await this.discovered();
    const returned = new URL(this.settings.redirectUrl);
    returned.search = query;
    const tokens = await oidc.authorizationCodeGrant(configuration, returned, {
      pkceCodeVerifier: pending.verifier,
      expectedState: pending.state,
      expectedNonce: pending.nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims();
    if (!claims) throw new SignInRefused('no ID token');
    return claims as Record<string, unknown>;
  }
}
