import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { JwsKey, signCompact, signDetached, signJwt } from '../auth/jws.js';
import type { Requester } from '../auth/requester.js';

/** A JWK's members, as read from a key file. */
type Jwk = Record<string, unknown>;

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
    /** The private key, bound to its `alg`. */
    private readonly key: JwsKey,
    /** The public half of the key (JWK with kid, alg, use), published for verifiers of signed summaries. */
    readonly publicJwk: Jwk,
  ) {}

  /** Reads a key file: `{ issuer, country, key: <private JWK with kid and alg> }`. */
  static async load(path: string): Promise<NodeIdentity> {
    const file = JSON.parse(readFileSync(path, 'utf8')) as { issuer: string; country: string; key: Jwk & { kid: string; alg: string } };
    if (!file.key?.['d'] || !file.key.kid || !file.key.alg) throw new Error(`node key ${path} must hold a private JWK with kid and alg`);
    let key: JwsKey;
    try {
      key = JwsKey.fromJwk(file.key, file.key.alg, 'private');
    } catch (error) {
      throw new Error(`node key ${path} cannot be used: ${error instanceof Error ? error.message : String(error)}`);
    }
    // Only public members: d (and RSA's primes and exponents, or a symmetric k) never leave.
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, k: _k, oth: _oth, ...publicJwk } = file.key;
    return new NodeIdentity(file.issuer, file.country, file.key.kid, key, { ...publicJwk, use: 'sig' });
  }

  /**
   * A token for one call to `audience`, carrying the clinician's IUA claims: the peer learns who
   * asks, in which role, for what purpose; the requesting country is this node's.
   */
  async onBehalfOf(requester: Requester, audience: string): Promise<string> {
    const iua: Record<string, unknown> = {
      subject_name: requester.name,
      subject_role: { system: 'urn:oid:2.16.840.1.113883.2.9.6.2.7', code: requester.role },
      subject_organization: requester.organization,
      subject_organization_id: requester.organizationId,
      purpose_of_use: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: requester.purpose },
      home_community_id: this.country,
    };
    const now = Math.floor(Date.now() / 1000);
    return signJwt(
      { alg: this.key.alg, kid: this.kid, typ: 'JWT' },
      {
        scope: 'user/Patient.rs user/Bundle.r',
        client_id: `pontis-node-${this.country.toLowerCase()}`,
        extensions: { ihe_iua: iua, ...(requester.breakGlassReason ? { pontis: { break_glass_reason: requester.breakGlassReason } } : {}) },
        iss: this.issuer,
        sub: `${requester.issuer}#${requester.subject}`,
        aud: audience,
        iat: now,
        exp: now + ON_BEHALF_TTL_S,
        jti: randomUUID(),
      },
      this.key,
    );
  }

  /**
   * A token for one node-to-node call to `audience` in this node's own name (no clinician behind
   * it): system context, `sub` and `client_id` this node's client. `scope` names what the call is
   * for; the receiving route decides by issuer kind, as SMART resource scopes do not cover it.
   */
  async asNode(audience: string, scope: string): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const client = `pontis-node-${this.country.toLowerCase()}`;
    return signJwt(
      { alg: this.key.alg, kid: this.kid, typ: 'JWT' },
      { scope, client_id: client, iss: this.issuer, sub: client, aud: audience, iat: now, exp: now + ON_BEHALF_TTL_S, jti: randomUUID() },
      this.key,
    );
  }

  /**
   * A compact JWS over a JSON statement of this node (such as a signed audit checkpoint), its
   * `typ` naming what it is, so that no statement can pass for a token or another statement.
   */
  async signStatement(typ: string, statement: Record<string, unknown>): Promise<string> {
    return signCompact({ alg: this.key.alg, kid: this.kid, typ }, JSON.stringify(statement), this.key);
  }

  /**
   * A detached JWS (RFC 7515 Appendix F, unencoded payload) over `payload`; `header` adds
   * protected header parameters that are not critical (the signing time `sigT`, the key set `jku`).
   */
  async signDetached(payload: Uint8Array, header: Record<string, string> = {}): Promise<string> {
    return signDetached({ ...header, alg: this.key.alg, kid: this.kid }, payload, this.key);
  }
}
