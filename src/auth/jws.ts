import { constants, createPrivateKey, createPublicKey, sign as signBytes, verify as verifyBytes, type JsonWebKey, type KeyObject } from 'node:crypto';

/**
 * JSON Web Signatures (RFC 7515) and the claim checks of JSON Web Tokens (RFC 7519), signed and
 * verified with node:crypto `KeyObject`s: compact JWS, the detached JWS with unencoded payload
 * of RFC 7797 (`b64: false`, `crit: ["b64"]`), JWTs.
 *
 * Why not `jose`: its verification goes through WebCrypto, whose promise and key wrapping cost
 * about 2.5 times the CPU of `crypto.verify` on the same key (ES256: ~160 µs per token against
 * ~60 µs; see BENCHMARKS.md, `npm run bench:tokens`), and every request verifies a token. What
 * this module signs is standard JWS, which `jose` (or any other library) verifies, and the other
 * way round: test/auth/jws.test.ts proves both directions.
 *
 * It is as strict as `jose`, stricter where that costs nothing: the header's `alg` must be the
 * key's own and among those allowed; a `crit` member not understood is refused, and so is a `b64`
 * parameter where the payload must be encoded; base64url must be canonical (no padding, white
 * space, `+` or `/`, or stray bits); header and JWT payload must be JSON objects in well-formed
 * UTF-8; a key's type must fit its algorithm (P-256 for ES256, Ed25519 for EdDSA, RSA of at least
 * 2048 bits for RS256), and a public key verifies, a private key signs.
 */

/** The signature algorithms supported: asymmetric only (no `none`, no HMAC). */
export const JWS_ALGORITHMS = ['ES256', 'RS256', 'EdDSA'] as const;
export type JwsAlgorithm = (typeof JWS_ALGORITHMS)[number];

/** A JOSE header as signed: `alg` first, then what the caller adds (`kid`, `typ`, ...). */
export interface JwsHeader {
  alg: JwsAlgorithm;
  kid?: string;
  typ?: string;
  [parameter: string]: unknown;
}

/** Why a JWS was refused: not a JWS as required, an algorithm not accepted, a signature that does not verify. */
export type JwsFailure = 'malformed' | 'algorithm' | 'signature';

/** A JWS that proves nothing; `reason` says which kind of failure. */
export class JwsRefused extends Error {
  override name = 'JwsRefused';
  constructor(
    message: string,
    readonly reason: JwsFailure,
  ) {
    super(message);
  }
}

/**
 * A JWT whose signature verifies but whose claims do not hold: `claim` names it; `reason` is
 * `missing`, `invalid` (not of its type), `expired` (`exp` passed, or `iat` older than the
 * maximum age) or `check_failed` (another value than expected, `nbf` in the future, `iat` in the future).
 */
export class JwtClaimRefused extends Error {
  override name = 'JwtClaimRefused';
  constructor(
    message: string,
    readonly claim: string,
    readonly reason: 'missing' | 'invalid' | 'expired' | 'check_failed',
  ) {
    super(message);
  }
}

/** A key that cannot be used with its algorithm (wrong type, curve or size, a JWK that does not import). */
export class JwsKeyError extends Error {
  override name = 'JwsKeyError';
}

/** What each algorithm's keys must be. */
const KEY_KINDS: Record<JwsAlgorithm, { kty: string; crv?: string; asymmetricKeyType: string; namedCurve?: string }> = {
  ES256: { kty: 'EC', crv: 'P-256', asymmetricKeyType: 'ec', namedCurve: 'prime256v1' },
  RS256: { kty: 'RSA', asymmetricKeyType: 'rsa' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519', asymmetricKeyType: 'ed25519' },
};

/** Smallest RSA modulus accepted (RFC 7518 section 3.3, and what jose requires). */
const MIN_RSA_BITS = 2048;

/** Public members of each key type's JWK: all a verifier needs, nothing private. */
const PUBLIC_MEMBERS: Record<string, readonly string[]> = { EC: ['kty', 'crv', 'x', 'y'], RSA: ['kty', 'n', 'e'], OKP: ['kty', 'crv', 'x'] };

function isAlgorithm(alg: unknown): alg is JwsAlgorithm {
  return alg === 'ES256' || alg === 'RS256' || alg === 'EdDSA';
}

/**
 * A key bound to its algorithm: public to verify, private to sign. Made only by {@link JwsKey.of}
 * or {@link JwsKey.fromJwk}, which check that the key fits the algorithm, so that a header can
 * never pick how a key is used (algorithm confusion).
 */
export class JwsKey {
  private constructor(
    readonly alg: JwsAlgorithm,
    readonly key: KeyObject,
    /** Length of a signature by this key, in bytes. */
    private readonly signatureBytes: number,
  ) {}

  /** `key` for `alg`; throws {@link JwsKeyError} when its type, curve or size does not fit. */
  static of(key: KeyObject, alg: string): JwsKey {
    if (!isAlgorithm(alg)) throw new JwsKeyError(`algorithm ${JSON.stringify(alg)} is not one of ${JWS_ALGORITHMS.join(', ')}`);
    const kind = KEY_KINDS[alg];
    if (key.type !== 'public' && key.type !== 'private') throw new JwsKeyError(`${alg} needs an asymmetric key, not a ${key.type} one`);
    if (key.asymmetricKeyType !== kind.asymmetricKeyType) throw new JwsKeyError(`${alg} needs a key of type ${kind.asymmetricKeyType}, not ${String(key.asymmetricKeyType)}`);
    const details = key.asymmetricKeyDetails ?? {};
    if (kind.namedCurve !== undefined && details.namedCurve !== kind.namedCurve) throw new JwsKeyError(`${alg} needs a key on curve ${kind.crv}`);
    if (alg === 'RS256' && (details.modulusLength ?? 0) < MIN_RSA_BITS) throw new JwsKeyError(`${alg} needs an RSA key of at least ${MIN_RSA_BITS} bits`);
    return new JwsKey(alg, key, alg === 'RS256' ? Math.ceil(details.modulusLength! / 8) : 64);
  }

  /**
   * Imports a JWK for `alg` (`createPublicKey`/`createPrivateKey` with `format: 'jwk'`): a
   * `public` key from its public members only, a `private` one from a JWK with `d`. The JWK's
   * `kty` and `crv` must fit `alg`; its `alg`, `use` and `key_ops`, when present, must allow the use.
   */
  static fromJwk(jwk: unknown, alg: string, type: 'public' | 'private'): JwsKey {
    if (jwk === null || typeof jwk !== 'object' || Array.isArray(jwk)) throw new JwsKeyError('a JWK is a JSON object');
    const members = jwk as Record<string, unknown>;
    if (!isAlgorithm(alg)) throw new JwsKeyError(`algorithm ${JSON.stringify(alg)} is not one of ${JWS_ALGORITHMS.join(', ')}`);
    const kind = KEY_KINDS[alg];
    if (members['kty'] !== kind.kty || (kind.crv !== undefined && members['crv'] !== kind.crv)) {
      throw new JwsKeyError(`${alg} needs a JWK with kty ${kind.kty}${kind.crv ? ` and crv ${kind.crv}` : ''}`);
    }
    if (members['alg'] !== undefined && members['alg'] !== alg) throw new JwsKeyError(`the JWK is for ${String(members['alg'])}, not ${alg}`);
    if (members['use'] !== undefined && members['use'] !== 'sig') throw new JwsKeyError('the JWK is not for signatures (use)');
    const operation = type === 'public' ? 'verify' : 'sign';
    if (members['key_ops'] !== undefined && !(Array.isArray(members['key_ops']) && members['key_ops'].includes(operation))) {
      throw new JwsKeyError(`the JWK's key_ops do not include ${operation}`);
    }
    let key: KeyObject;
    try {
      if (type === 'public') {
        const publicJwk = Object.fromEntries(PUBLIC_MEMBERS[kind.kty]!.filter((m) => members[m] !== undefined).map((m) => [m, members[m]]));
        key = createPublicKey({ key: publicJwk as JsonWebKey, format: 'jwk' });
      } else {
        if (typeof members['d'] !== 'string') throw new Error('a private JWK has "d"');
        key = createPrivateKey({ key: members as JsonWebKey, format: 'jwk' });
      }
    } catch (error) {
      throw new JwsKeyError(`the JWK cannot be imported as a ${type} ${alg} key: ${error instanceof Error ? error.message : String(error)}`);
    }
    return JwsKey.of(key, alg);
  }

  /** The signature of `data` (ES256 as R || S, IEEE P1363, as JWS requires). */
  sign(data: Uint8Array): Buffer {
    if (this.key.type !== 'private') throw new JwsKeyError('a public key cannot sign');
    switch (this.alg) {
      case 'ES256':
        return signBytes('sha256', data, { key: this.key, dsaEncoding: 'ieee-p1363' });
      case 'RS256':
        return signBytes('sha256', data, { key: this.key, padding: constants.RSA_PKCS1_PADDING });
      case 'EdDSA':
        return signBytes(null, data, this.key);
    }
  }

  /** Whether `signature` is this key's over `data`; false for a signature of the wrong length or form. */
  verify(data: Uint8Array, signature: Uint8Array): boolean {
    if (this.key.type !== 'public') throw new JwsKeyError('a private key does not verify: use its public key');
    if (signature.length !== this.signatureBytes) return false;
    try {
      switch (this.alg) {
        case 'ES256':
          return verifyBytes('sha256', data, { key: this.key, dsaEncoding: 'ieee-p1363' }, signature);
        case 'RS256':
          return verifyBytes('sha256', data, { key: this.key, padding: constants.RSA_PKCS1_PADDING }, signature);
        case 'EdDSA':
          return verifyBytes(null, data, this.key, signature);
      }
    } catch {
      return false;
    }
  }
}

// base64url -----------------------------------------------------------------------------------

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * Decodes canonical unpadded base64url (RFC 7515 section 2): Buffer's own decoder skips what is
 * not of the alphabet, so the text is checked first, including that the last character carries
 * no bits beyond the data (else two texts would name the same bytes).
 */
function decodeBase64url(text: string, what: string): Buffer {
  const rest = text.length % 4;
  if (rest === 1 || !BASE64URL.test(text)) throw new JwsRefused(`the ${what} is not base64url`, 'malformed');
  if (rest !== 0 && (ALPHABET.indexOf(text[text.length - 1]!) & (rest === 2 ? 0x0f : 0x03)) !== 0) {
    throw new JwsRefused(`the ${what} is not canonical base64url`, 'malformed');
  }
  return Buffer.from(text, 'base64url');
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A JSON object from UTF-8 bytes; anything else (another JSON value, bad UTF-8, not JSON) is refused. */
function jsonObject(bytes: Uint8Array, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(bytes));
  } catch {
    throw new JwsRefused(`the ${what} is not JSON in UTF-8`, 'malformed');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new JwsRefused(`the ${what} is not a JSON object`, 'malformed');
  return value as Record<string, unknown>;
}

function encodeJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

// Headers -------------------------------------------------------------------------------------

/** What a verification accepts beyond the key's own algorithm. */
export interface JwsVerifyOptions {
  /** Algorithms accepted (default: all of {@link JWS_ALGORITHMS}); the header's must also be the key's. */
  algorithms?: readonly string[];
  /** The `typ` the header must have, exactly. */
  typ?: string;
}

/**
 * Checks a protected header before its signature: `crit` (only `b64`, and only for an unencoded
 * payload), `b64` where it belongs and nowhere else, `alg` allowed and the key's, `typ`.
 */
function checkHeader(header: Readonly<Record<string, unknown>>, key: JwsKey, options: JwsVerifyOptions, unencoded: boolean): void {
  const crit = header['crit'];
  if (crit !== undefined) {
    if (!Array.isArray(crit) || crit.length === 0 || crit.some((p) => typeof p !== 'string' || p.length === 0) || new Set(crit).size !== crit.length) {
      throw new JwsRefused('"crit" must be an array of distinct non-empty strings', 'malformed');
    }
    for (const parameter of crit as string[]) {
      if (!(unencoded && parameter === 'b64')) throw new JwsRefused(`the critical header parameter ${JSON.stringify(parameter)} is not understood`, 'malformed');
      if (header[parameter] === undefined) throw new JwsRefused(`the critical header parameter ${JSON.stringify(parameter)} is missing`, 'malformed');
    }
  }
  if (unencoded) {
    if (header['b64'] !== false || !Array.isArray(crit) || !crit.includes('b64')) throw new JwsRefused('a detached JWS here has an unencoded payload: "b64": false, critical', 'malformed');
  } else if (header['b64'] !== undefined) {
    throw new JwsRefused('"b64" is not expected: the payload is base64url-encoded', 'malformed');
  }
  const alg = header['alg'];
  if (typeof alg !== 'string' || alg.length === 0) throw new JwsRefused('"alg" is missing', 'malformed');
  if (!isAlgorithm(alg) || (options.algorithms !== undefined && !options.algorithms.includes(alg))) {
    throw new JwsRefused(`algorithm ${JSON.stringify(alg)} is not accepted`, 'algorithm');
  }
  if (alg !== key.alg) throw new JwsRefused(`the key signs with ${key.alg}, not ${alg}`, 'algorithm');
  if (options.typ !== undefined && header['typ'] !== options.typ) throw new JwsRefused(`"typ" must be ${JSON.stringify(options.typ)}`, 'malformed');
}

// Compact JWS ---------------------------------------------------------------------------------

/** A compact JWS taken apart and decoded, not verified: read its header to pick the key, then {@link verifyJws}. */
export interface DecodedJws {
  /** The protected header (a JSON object). */
  readonly header: Readonly<Record<string, unknown>>;
  /** The payload's bytes. */
  readonly payload: Buffer;
  /** `BASE64URL(header) . BASE64URL(payload)`: what the signature covers. */
  readonly signingInput: string;
  /** The signature as sent (base64url), decoded when verified. */
  readonly signature: string;
}

/** Takes a compact JWS apart (three parts, header a JSON object, payload not empty); throws {@link JwsRefused} (`malformed`). */
export function decodeJws(compact: string): DecodedJws {
  if (typeof compact !== 'string') throw new JwsRefused('a compact JWS is a string', 'malformed');
  const first = compact.indexOf('.');
  const second = first < 0 ? -1 : compact.indexOf('.', first + 1);
  if (second < 0 || compact.indexOf('.', second + 1) >= 0) throw new JwsRefused('a compact JWS has three parts', 'malformed');
  if (second === first + 1) throw new JwsRefused('the JWS has no payload', 'malformed');
  const header = jsonObject(decodeBase64url(compact.slice(0, first), 'protected header'), 'protected header');
  const payload = decodeBase64url(compact.slice(first + 1, second), 'payload');
  return { header, payload, signingInput: compact.slice(0, second), signature: compact.slice(second + 1) };
}

/** Verifies a decoded compact JWS with `key` (header checks, then the signature); throws {@link JwsRefused}. */
export function verifyJws(jws: DecodedJws, key: JwsKey, options: JwsVerifyOptions = {}): void {
  checkHeader(jws.header, key, options, false);
  const signature = decodeBase64url(jws.signature, 'signature');
  if (!key.verify(Buffer.from(jws.signingInput, 'latin1'), signature)) throw new JwsRefused('the signature does not verify', 'signature');
}

/** {@link decodeJws} and {@link verifyJws}: the verified JWS. */
export function verifyCompact(compact: string, key: JwsKey, options: JwsVerifyOptions = {}): DecodedJws {
  const jws = decodeJws(compact);
  verifyJws(jws, key, options);
  return jws;
}

/** A compact JWS of `payload` signed by `key`; `header.alg` must be the key's, and `b64`/`crit` are not for this form. */
export function signCompact(header: JwsHeader, payload: Uint8Array | string, key: JwsKey): string {
  if (header.alg !== key.alg) throw new JwsKeyError(`the key signs with ${key.alg}, not ${header.alg}`);
  if (header['b64'] !== undefined || header['crit'] !== undefined) throw new JwsKeyError('a compact JWS here has an encoded payload and no critical parameters');
  const input = `${encodeJson(header)}.${Buffer.from(payload).toString('base64url')}`;
  return `${input}.${key.sign(Buffer.from(input, 'latin1')).toString('base64url')}`;
}

// Detached JWS with unencoded payload (RFC 7797) -----------------------------------------------

/** A detached compact JWS (`header..signature`) taken apart, not verified. */
export interface DecodedDetachedJws {
  readonly header: Readonly<Record<string, unknown>>;
  /** The protected header as sent (base64url): the start of what the signature covers. */
  readonly protectedHeader: string;
  readonly signature: string;
}

/** Takes a detached compact JWS apart (`header..signature`, header a JSON object); throws {@link JwsRefused} (`malformed`). */
export function decodeDetachedJws(detached: string): DecodedDetachedJws {
  if (typeof detached !== 'string') throw new JwsRefused('a detached JWS is a string', 'malformed');
  const parts = detached.split('.');
  if (parts.length !== 3 || parts[1] !== '') throw new JwsRefused('a detached JWS is header..signature', 'malformed');
  const header = jsonObject(decodeBase64url(parts[0]!, 'protected header'), 'protected header');
  return { header, protectedHeader: parts[0]!, signature: parts[2]! };
}

/**
 * Verifies a detached JWS over the unencoded `payload` (RFC 7797: `b64` false and critical, the
 * signing input the header's base64url, a dot, then the payload's bytes); throws {@link JwsRefused}.
 */
export function verifyDetachedJws(jws: DecodedDetachedJws, payload: Uint8Array, key: JwsKey, options: JwsVerifyOptions = {}): void {
  checkHeader(jws.header, key, options, true);
  const signature = decodeBase64url(jws.signature, 'signature');
  const input = Buffer.concat([Buffer.from(`${jws.protectedHeader}.`, 'latin1'), payload]);
  if (!key.verify(input, signature)) throw new JwsRefused('the signature does not verify', 'signature');
}

/**
 * A detached compact JWS (`header..signature`) over the unencoded `payload` (RFC 7515 Appendix F,
 * RFC 7797): the header as given, then `b64: false` and `crit: ["b64"]`.
 */
export function signDetached(header: JwsHeader, payload: Uint8Array, key: JwsKey): string {
  if (header.alg !== key.alg) throw new JwsKeyError(`the key signs with ${key.alg}, not ${header.alg}`);
  const protectedHeader = encodeJson({ ...header, b64: false, crit: ['b64'] });
  const signature = key.sign(Buffer.concat([Buffer.from(`${protectedHeader}.`, 'latin1'), payload]));
  return `${protectedHeader}..${signature.toString('base64url')}`;
}

// JWT -----------------------------------------------------------------------------------------

/** The claims of a JWT (a JSON object), as read, not yet checked. */
export type JwtClaims = Readonly<Record<string, unknown>>;

/** The claims set of a decoded compact JWS: its payload, a JSON object; throws {@link JwsRefused} (`malformed`). */
export function jwtClaimsOf(jws: DecodedJws): JwtClaims {
  return jsonObject(jws.payload, 'JWT claims set');
}

/** What a JWT's claims must satisfy (the checks of jose's `jwtVerify`, in its order). */
export interface JwtClaimChecks {
  /** `iss` must be this. */
  issuer?: string;
  /** `aud` must be this, or an array holding it. */
  audience?: string;
  /** Seconds of clock skew allowed in the time checks (default 0). */
  clockToleranceS?: number;
  /** Claims that must be present (with any value). */
  requiredClaims?: readonly string[];
  /** Oldest `iat` accepted, in seconds before now (makes `iat` required). */
  maxAgeS?: number;
  /** Now, in seconds since the epoch (default: the clock). */
  now?: number;
}

function numericDate(claims: JwtClaims, claim: string): number | undefined {
  const value = claims[claim];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new JwtClaimRefused(`"${claim}" must be a number`, claim, 'invalid');
  return value;
}

/**
 * Checks `claims` against `checks`: presence of the required claims (and of `iss`, `aud`, `iat`
 * when they are checked), `iss`, `aud`, then `nbf`, `exp` and the age of `iat`, each with the
 * clock tolerance; throws {@link JwtClaimRefused}.
 */
export function checkJwtClaims(claims: JwtClaims, checks: JwtClaimChecks): void {
  const { issuer, audience, maxAgeS } = checks;
  const tolerance = checks.clockToleranceS ?? 0;
  const present = [...(issuer === undefined ? [] : ['iss']), ...(audience === undefined ? [] : ['aud']), ...(maxAgeS === undefined ? [] : ['iat']), ...(checks.requiredClaims ?? [])];
  for (const claim of present) if (!Object.hasOwn(claims, claim)) throw new JwtClaimRefused(`"${claim}" is required`, claim, 'missing');
  if (issuer !== undefined && claims['iss'] !== issuer) throw new JwtClaimRefused('unexpected "iss"', 'iss', 'check_failed');
  if (audience !== undefined) {
    const aud = claims['aud'];
    if (!(aud === audience || (Array.isArray(aud) && aud.includes(audience)))) throw new JwtClaimRefused('unexpected "aud"', 'aud', 'check_failed');
  }
  const now = checks.now ?? Math.floor(Date.now() / 1000);
  const iat = numericDate(claims, 'iat');
  const nbf = numericDate(claims, 'nbf');
  if (nbf !== undefined && nbf > now + tolerance) throw new JwtClaimRefused('"nbf" is in the future', 'nbf', 'check_failed');
  const exp = numericDate(claims, 'exp');
  if (exp !== undefined && exp <= now - tolerance) throw new JwtClaimRefused('"exp" has passed', 'exp', 'expired');
  if (maxAgeS !== undefined) {
    const age = now - iat!;
    if (age - tolerance > maxAgeS) throw new JwtClaimRefused('"iat" is too far in the past', 'iat', 'expired');
    if (age < -tolerance) throw new JwtClaimRefused('"iat" is in the future', 'iat', 'check_failed');
  }
}

/** Verifies a JWT: {@link verifyCompact}, its claims a JSON object, {@link checkJwtClaims}. */
export function verifyJwt(token: string, key: JwsKey, options: JwsVerifyOptions & JwtClaimChecks = {}): { header: Readonly<Record<string, unknown>>; claims: JwtClaims } {
  const jws = decodeJws(token);
  const claims = jwtClaimsOf(jws);
  verifyJws(jws, key, options);
  checkJwtClaims(claims, options);
  return { header: jws.header, claims };
}

/** A JWT of `claims` (serialised as given) signed by `key`. */
export function signJwt(header: JwsHeader, claims: Readonly<Record<string, unknown>>, key: JwsKey): string {
  return signCompact(header, JSON.stringify(claims), key);
}
