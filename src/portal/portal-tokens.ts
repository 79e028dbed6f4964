import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { JwsKey, signJwt } from '../auth/jws.js';
import { ACT_REASON, ISCO_08 } from '../auth/requester.js';
import type { TrustList } from '../auth/trust-list.js';
import type { SignedInPerson } from './session.js';

/** Lifetime of a token the portal mints: one call to the node, made at once. */
export const PORTAL_TOKEN_TTL_S = 60;

/** Scopes of a clinician's token and of a patient's own token. */
export const CLINICIAN_SCOPES = 'user/Patient.rs user/Bundle.r';
export const PATIENT_SCOPES = 'patient/Patient.rs patient/Bundle.r patient/Consent.crus patient/AuditEvent.rs';

/** Why a clinician asks: treatment, or an emergency with its reason (break-glass). */
export type ClinicalPurpose = { purpose: 'TREAT' } | { purpose: 'ETREAT'; reason: string };

/** Raised when the portal's token key cannot be used: the node refuses to start. */
export class PortalKeyError extends Error {
  override name = 'PortalKeyError';
}

/**
 * The portal's token signer. The portal acts at the node as the signed-in person: for each call
 * it mints an IHE IUA token for that person alone (subject, name, ISCO-08 role, organisation, or
 * the patient's identifier, all from the identity provider's ID token), good for one request and
 * 60 s, signed with a key whose issuer is this country's identity provider in the trust list. The
 * node then checks it like any other token: signature, audience, single use, scopes, consent,
 * audit. See docs/portal.md for why the portal holds such a key.
 */
export class PortalTokenSigner {
  private constructor(
    readonly issuer: string,
    private readonly kid: string,
    private readonly key: JwsKey,
    private readonly audience: string,
    private readonly country: string,
  ) {}

  /**
   * Reads a key file `{ issuer, key: <private JWK with kid and alg> }` and checks it against the
   * trust list: the issuer must be an identity provider of `country` holding that `kid`.
   */
  static async load(path: string, trust: TrustList, country: string, audience: string): Promise<PortalTokenSigner> {
    let file: { issuer?: string; key?: { d?: unknown; kid?: string; alg?: string } };
    try {
      file = JSON.parse(readFileSync(path, 'utf8')) as typeof file;
    } catch (error) {
      throw new PortalKeyError(`${path} cannot be read: ${error instanceof Error ? error.message : String(error)}`);
    }
    const { issuer, key } = file;
    if (!issuer || !key?.d || !key.kid || !key.alg) throw new PortalKeyError(`${path} must hold { issuer, key } with a private JWK having kid and alg`);
    const trusted = trust.issuer(issuer);
    if (!trusted || trusted.kind !== 'identity-provider' || trusted.country !== country) {
      throw new PortalKeyError(`the issuer ${issuer} of ${path} is not an identity provider of ${country} in the trust list`);
    }
    if (!trusted.keys.has(key.kid)) throw new PortalKeyError(`the trust list holds no key ${key.kid} for ${issuer}`);
    let signer: JwsKey;
    try {
      signer = JwsKey.fromJwk(key, key.alg, 'private');
    } catch (error) {
      throw new PortalKeyError(`the key of ${path} cannot be used: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (trusted.keys.get(key.kid)!.alg !== signer.alg) throw new PortalKeyError(`the trust list holds key ${key.kid} of ${issuer} for ${trusted.keys.get(key.kid)!.alg}, not ${signer.alg}`);
    return new PortalTokenSigner(issuer, key.kid, signer, audience, country);
  }

  /** A token for one call of a clinician, for `purpose`. */
  clinician(person: SignedInPerson, purpose: ClinicalPurpose): Promise<string> {
    return this.sign(person, CLINICIAN_SCOPES, {
      ihe_iua: {
        subject_name: person.name,
        subject_role: { system: ISCO_08, code: person.role },
        subject_organization: person.organization,
        subject_organization_id: person.organizationId,
        purpose_of_use: { system: ACT_REASON, code: purpose.purpose },
        home_community_id: this.country,
      },
      ...(purpose.purpose === 'ETREAT' ? { pontis: { break_glass_reason: purpose.reason } } : {}),
    });
  }

  /** A token for one call of a patient, bound to their own identifier. */
  patient(person: SignedInPerson): Promise<string> {
    return this.sign(person, PATIENT_SCOPES, {
      ihe_iua: { subject_name: person.name, person_id: person.personId, purpose_of_use: { system: ACT_REASON, code: 'PATRQT' }, home_community_id: this.country },
    });
  }

  private async sign(person: SignedInPerson, scope: string, extensions: Record<string, unknown>): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return signJwt(
      { alg: this.key.alg, kid: this.kid, typ: 'JWT' },
      {
        scope,
        client_id: `pontis-portal-${this.country.toLowerCase()}`,
        extensions,
        iss: this.issuer,
        sub: person.subject,
        aud: this.audience,
        iat: now,
        exp: now + PORTAL_TOKEN_TTL_S,
        jti: randomUUID(),
      },
      this.key,
    );
  }
}
