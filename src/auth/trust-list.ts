import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Joi from 'joi';
import type { IssuerKind } from './requester.js';
import { JWS_ALGORITHMS, JwsKey } from './jws.js';
import { parseScopes, type Scope } from './scopes.js';

/** Signature algorithms accepted: asymmetric only (no `none`, no HMAC). */
export const ACCEPTED_ALGORITHMS = JWS_ALGORITHMS;

/** A public JWK as a trust list holds it (`kid` and `alg` required by its schema). */
interface TrustedJwk {
  kid: string;
  alg: string;
  [member: string]: unknown;
}

/** One trusted issuer, with its keys imported. */
export interface TrustedIssuer {
  issuer: string;
  country: string;
  kind: IssuerKind;
  /** Scopes this issuer may grant: tokens' scopes are cut down to these. */
  may: readonly Scope[];
  /** Keys by `kid`, each bound to its `alg`: several allow rotation. */
  keys: ReadonlyMap<string, JwsKey>;
  /** Part of the demo set-up in seed/trust: refused in production. */
  demo: boolean;
}

const jwkSchema = Joi.object({
  kty: Joi.string().valid('EC', 'RSA', 'OKP').required(),
  kid: Joi.string().max(128).required(),
  alg: Joi.string()
    .valid(...ACCEPTED_ALGORITHMS)
    .required(),
  d: Joi.forbidden().messages({ 'any.unknown': 'a trust list holds public keys only; remove "d"' }),
}).unknown(true);

const trustListSchema = Joi.object({
  description: Joi.string(),
  issuers: Joi.array()
    .items(
      Joi.object({
        issuer: Joi.string().uri({ scheme: ['https', 'http'] }).required(),
        country: Joi.string().pattern(/^[A-Z]{2}$/).required(),
        kind: Joi.string().valid('hospital-system', 'identity-provider', 'peer-node', 'operator').required(),
        demo: Joi.boolean().default(false),
        may: Joi.array().items(Joi.string().pattern(/^(system|user|patient)\/([A-Z][A-Za-z]*|\*)\.c?r?u?d?s?$/)).min(1).required(),
        keys: Joi.array().items(jwkSchema).min(1),
        jwksFile: Joi.string(),
      }).xor('keys', 'jwksFile'),
    )
    .unique('issuer')
    .required(),
});

/** Raised when the trust list cannot be used; the node refuses to start. */
export class TrustListError extends Error {
  override name = 'TrustListError';
}

/**
 * The issuers this node trusts: who may sign tokens, with which keys, for which country, and
 * what they may grant. Read from a JSON file at start-up (see docs/security.md).
 */
export class TrustList {
  private constructor(private readonly issuers: ReadonlyMap<string, TrustedIssuer>) {}

  /** Loads and checks a trust list file; `jwksFile` paths are relative to it. */
  static async load(path: string): Promise<TrustList> {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new TrustListError(`trust list ${path} cannot be read: ${error instanceof Error ? error.message : String(error)}`);
    }
    return TrustList.from(raw, dirname(path));
  }

  /** Builds a trust list from its JSON form. */
  static async from(raw: unknown, baseDir = '.'): Promise<TrustList> {
    const { value, error } = trustListSchema.validate(raw, { abortEarly: false });
    if (error) throw new TrustListError(`trust list is invalid: ${error.details.map((d) => `${d.path.join('.')}: ${d.message}`).join('; ')}`);
    const issuers = new Map<string, TrustedIssuer>();
    for (const entry of value.issuers as Array<Record<string, unknown>>) {
      let jwks = entry['keys'] as TrustedJwk[] | undefined;
      if (!jwks) {
        const file = resolve(baseDir, entry['jwksFile'] as string);
        try {
          jwks = (JSON.parse(readFileSync(file, 'utf8')) as { keys: TrustedJwk[] }).keys;
        } catch (e) {
          throw new TrustListError(`JWKS file ${file} cannot be read: ${e instanceof Error ? e.message : String(e)}`);
        }
        const { error: keyError } = Joi.array().items(jwkSchema).min(1).validate(jwks);
        if (keyError) throw new TrustListError(`JWKS file ${file}: ${keyError.message}`);
      }
      const keys = new Map<string, JwsKey>();
      for (const jwk of jwks) {
        try {
          keys.set(jwk.kid, JwsKey.fromJwk(jwk, jwk.alg, 'public'));
        } catch (e) {
          throw new TrustListError(`key ${jwk.kid} of ${String(entry['issuer'])} cannot be used: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      issuers.set(entry['issuer'] as string, {
        issuer: entry['issuer'] as string,
        country: entry['country'] as string,
        kind: entry['kind'] as IssuerKind,
        may: parseScopes((entry['may'] as string[]).join(' ')),
        keys,
        demo: entry['demo'] as boolean,
      });
    }
    return new TrustList(issuers);
  }

  /** The trusted issuer named `iss`, if any. */
  issuer(iss: string): TrustedIssuer | undefined {
    return this.issuers.get(iss);
  }

  /** Whether any issuer is part of the demo set-up. */
  get hasDemoIssuers(): boolean {
    return [...this.issuers.values()].some((i) => i.demo);
  }

  get size(): number {
    return this.issuers.size;
  }
}
