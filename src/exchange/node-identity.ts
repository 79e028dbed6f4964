import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CompactSign, FlattenedSign, importJWK, SignJWT, type CryptoKey, type JWK } from 'jose';
import type { Requester } from '../auth/requester.js';

/** Lifetime of a token this node signs on a clinician's behalf: one outbound call. */
export const ON_BEHALF_TTL_S = 60;

/**
 * This node as a signer: its peer-node key (`PONTIS_NODE_KEY`, a private JWK whose public half is
 * in every peer's trust list). It signs the tokens of outbound calls, on behalf of the
 * clinician, and the summaries it sends to peers.
 */
export class NodeIdentity {
  private constructor(
    readonly issuer: string,
    readonly country: string,
    private readonly kid: string,
    private readonly alg: string,
    private readonly key: CryptoKey | Uint8Array,
    /** The public half of the key (JWK with kid, alg, use), published for verifiers of signed summaries. */
    readonly publicJwk: JWK,
  ) {}

  /** Reads a key file: `{ issuer, country, key: <private JWK with kid and alg> }`. */
  static async load(path: string): Promise<NodeIdentity> {
    const file = JSON.parse(readFileSync(path, 'utf8')) as { issuer: string; country: string; key: JWK & { kid: string; alg: string } };
    if (!file.key?.d || !file.key.kid || !file.key.alg) throw new Error(`node key ${path} must hold a private JWK with kid and alg`);
    // Only public members: d (and RSA's primes and exponents, or a symmetric k) never leave.
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, k: _k, oth: _oth, ...publicJwk } = file.key;
    return new NodeIdentity(file.issuer, file.country, file.key.kid, file.key.alg, await importJWK(file.key, file.key.alg), { ...publicJwk, use: 'sig' });
  }

  /**
   * A token for one call to `audience`, carrying the clinician's IUA claims: the peer learns who
   * asks, in which role, for what purpose; the requesting country is this node's.
   */
  onBehalfOf(requester: Requester, audience: string): Promise<string> {
    const iua: Record<string, unknown> = {
      subject_name: requester.name,
      subject_role: { system: 'urn:oid:2.16.840.1.113883.2.9.6.2.7', code: requester.role },
      subject_organization: requester.organization,
      subject_organization_id: requester.organizationId,
      purpose_of_use: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: requester.purpose },
      home_community_id: this.country,
    };
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      scope: 'user/Patient.rs user/Bundle.r',
      client_id: `pontis-node-${this.country.toLowerCase()}`,
      extensions: { ihe_iua: iua, ...(requester.breakGlassReason ? { pontis: { break_glass_reason: requester.breakGlassReason } } : {}) },
    })
      .setProtectedHeader({ alg: this.alg, kid: this.kid, typ: 'JWT' })
      .setIssuer(this.issuer)
      .setSubject(`${requester.issuer}#${requester.subject}`)
      .setAudience(audience)
      .setIssuedAt(now)
      .setExpirationTime(now + ON_BEHALF_TTL_S)
      .setJti(randomUUID())
      .sign(this.key);
  }

  /**
   * A token for one node-to-node call to `audience` in this node's own name (no clinician behind
   * it): system context, `sub` and `client_id` this node's client. `scope` names what the call is
   * for; the receiving route decides by issuer kind, as SMART resource scopes do not cover it.
   */
  asNode(audience: string, scope: string): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const client = `pontis-node-${this.country.toLowerCase()}`;
    return new SignJWT({ scope, client_id: client })
      .setProtectedHeader({ alg: this.alg, kid: this.kid, typ: 'JWT' })
      .setIssuer(this.issuer)
      .setSubject(client)
      .setAudience(audience)
      .setIssuedAt(now)
      .setExpirationTime(now + ON_BEHALF_TTL_S)
      .setJti(randomUUID())
      .sign(this.key);
  }

  /**
   * A compact JWS over a JSON statement of this node (such as a signed audit checkpoint), its
   * `typ` naming what it is, so that no statement can pass for a token or another statement.
   */
  signStatement(typ: string, statement: Record<string, unknown>): Promise<string> {
    return new CompactSign(new TextEncoder().encode(JSON.stringify(statement))).setProtectedHeader({ alg: this.alg, kid: this.kid, typ }).sign(this.key);
  }

  /**
   * A detached JWS (RFC 7515 Appendix F, unencoded payload) over `payload`; `header` adds
   * protected header parameters that are not critical (the signing time `sigT`, the key set `jku`).
   */
  async signDetached(payload: Uint8Array, header: Record<string, string> = {}): Promise<string> {
    const jws = await new FlattenedSign(payload).setProtectedHeader({ ...header, alg: this.alg, kid: this.kid, b64: false, crit: ['b64'] }).sign(this.key);
    return `${jws.protected}..${jws.signature}`;
  }
}
