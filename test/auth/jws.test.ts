import { describe, expect, it } from '@jest/globals';
import { createHmac, generateKeyPairSync, type KeyObject } from 'node:crypto';
import fc from 'fast-check';
import { CompactSign, compactVerify, errors, FlattenedSign, flattenedVerify, importJWK, jwtVerify, SignJWT, type CryptoKey } from 'jose';
import {
  checkJwtClaims,
  decodeDetachedJws,
  decodeJws,
  JwsKey,
  JwsKeyError,
  JwsRefused,
  JwtClaimRefused,
  signCompact,
  signDetached,
  signJwt,
  verifyCompact,
  verifyDetachedJws,
  verifyJwt,
  type JwsAlgorithm,
  type JwtClaimChecks,
} from '../../src/auth/jws.js';

/**
 * src/auth/jws.ts against jose, which other Member States' nodes may use: what one signs, the
 * other verifies; what one refuses (tampered, another algorithm, expired, another audience,
 * critical parameters not understood), the other refuses too. Keys cross as JWKs, as they do
 * through the trust list.
 */

interface Pair {
  alg: JwsAlgorithm;
  /** This module's keys. */
  signer: JwsKey;
  verifier: JwsKey;
  /** jose's keys, imported from the JWKs. */
  joseSigner: CryptoKey;
  joseVerifier: CryptoKey;
  publicKey: KeyObject;
}

function keysOf(alg: JwsAlgorithm, privateKey: KeyObject, publicKey: KeyObject): Promise<Pair> {
  const privateJwk = privateKey.export({ format: 'jwk' });
  const publicJwk = publicKey.export({ format: 'jwk' });
  return Promise.all([importJWK(privateJwk, alg), importJWK(publicJwk, alg)]).then(([joseSigner, joseVerifier]) => ({
    alg,
    signer: JwsKey.fromJwk(privateJwk, alg, 'private'),
    verifier: JwsKey.fromJwk(publicJwk, alg, 'public'),
    joseSigner: joseSigner as CryptoKey,
    joseVerifier: joseVerifier as CryptoKey,
    publicKey,
  }));
}

const generated = {
  ES256: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  RS256: generateKeyPairSync('rsa', { modulusLength: 2048 }),
  EdDSA: generateKeyPairSync('ed25519'),
};
const pairs: Promise<Record<JwsAlgorithm, Pair>> = Promise.all(
  (Object.keys(generated) as JwsAlgorithm[]).map((alg) => keysOf(alg, generated[alg].privateKey, generated[alg].publicKey)),
).then(([ES256, RS256, EdDSA]) => ({ ES256: ES256!, RS256: RS256!, EdDSA: EdDSA! }));
const ALGS: JwsAlgorithm[] = ['ES256', 'RS256', 'EdDSA'];

const NOW = 1_800_000_000;
const AUD = 'https://at.example/fhir';
const ISS = 'https://ncp.pt.example';
const REGISTERED = new Set(['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', '__proto__']);

/** Claims of any JSON shape besides the registered ones, which the tests set themselves. */
const extraClaims = fc.dictionary(
  fc.string({ maxLength: 12 }).filter((k) => !REGISTERED.has(k)),
  fc.jsonValue({ maxDepth: 3 }),
  { maxKeys: 6 },
);
const headerExtras = fc.record({ kid: fc.string({ minLength: 1, maxLength: 40 }), typ: fc.constantFrom('JWT', 'at+jwt', 'pontis-audit-checkpoint+jws') }, { requiredKeys: ['kid'] });
const algorithm = fc.constantFrom(...ALGS);

/** The claims as JSON carries them (what both sides read back). */
const asJson = (value: unknown) => JSON.parse(JSON.stringify(value)) as Record<string, unknown>;

/** Whether `run` throws, and with what, named alike for both libraries. */
type Outcome = 'ok' | `claim ${string} ${string}` | 'signature' | 'algorithm' | 'malformed';

function ours(run: () => unknown): Outcome {
  try {
    run();
    return 'ok';
  } catch (error) {
    if (error instanceof JwtClaimRefused) return `claim ${error.claim} ${error.reason}`;
    if (error instanceof JwsRefused) return error.reason;
    throw error;
  }
}

async function jose(run: () => Promise<unknown>): Promise<Outcome> {
  try {
    await run();
    return 'ok';
  } catch (error) {
    if (error instanceof errors.JWTExpired) return `claim ${error.claim} expired`;
    if (error instanceof errors.JWTClaimValidationFailed) return `claim ${error.claim} ${error.reason}`;
    if (error instanceof errors.JWSSignatureVerificationFailed) return 'signature';
    if (error instanceof errors.JOSEAlgNotAllowed) return 'algorithm';
    if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid || error instanceof errors.JOSENotSupported || error instanceof TypeError) return 'malformed';
    throw error;
  }
}

const enc = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

describe('what this module signs, jose verifies (and the other way round)', () => {
  it('JWTs of any claims and header, with every algorithm', async () => {
    const keys = await pairs;
    await fc.assert(
      fc.asyncProperty(algorithm, extraClaims, headerExtras, fc.boolean(), async (alg, extra, header, audArray) => {
        const { signer, verifier, joseSigner, joseVerifier } = keys[alg];
        const claims = { ...extra, iss: ISS, aud: audArray ? ['https://elsewhere.example', AUD] : AUD, iat: NOW - 10, exp: NOW + 60, jti: 'j-1' };
        const options = { algorithms: [alg], issuer: ISS, audience: AUD, clockTolerance: 30, maxTokenAge: 3630, currentDate: new Date(NOW * 1000) };

        const mine = signJwt({ alg, ...header }, claims, signer);
        const byJose = await jwtVerify(mine, joseVerifier, options);
        expect(byJose.payload).toEqual(asJson(claims));
        expect(byJose.protectedHeader).toEqual({ alg, ...header });

        const theirs = await new SignJWT(claims).setProtectedHeader({ alg, ...header }).sign(joseSigner);
        const checks: JwtClaimChecks = { issuer: ISS, audience: AUD, clockToleranceS: 30, maxAgeS: 3630, now: NOW };
        const byUs = verifyJwt(theirs, verifier, { algorithms: [alg], ...checks });
        expect(byUs.claims).toEqual(asJson(claims));
        expect(byUs.header).toEqual({ alg, ...header });
      }),
      { numRuns: 60 },
    );
  });

  it('compact JWS over any bytes (statements such as audit checkpoints)', async () => {
    const keys = await pairs;
    await fc.assert(
      fc.asyncProperty(algorithm, fc.uint8Array({ minLength: 1, maxLength: 300 }), headerExtras, async (alg, payload, header) => {
        const { signer, verifier, joseSigner, joseVerifier } = keys[alg];
        const mine = signCompact({ alg, ...header }, payload, signer);
        expect(Buffer.from((await compactVerify(mine, joseVerifier, { algorithms: [alg] })).payload)).toEqual(Buffer.from(payload));
        const theirs = await new CompactSign(payload).setProtectedHeader({ alg, ...header }).sign(joseSigner);
        expect(verifyCompact(theirs, verifier, { algorithms: [alg] }).payload).toEqual(Buffer.from(payload));
      }),
      { numRuns: 60 },
    );
  });

  it('detached JWS with unencoded payload (RFC 7797, b64 false and critical), as summaries are signed', async () => {
    const keys = await pairs;
    await fc.assert(
      fc.asyncProperty(algorithm, fc.uint8Array({ maxLength: 2000 }), fc.record({ sigT: fc.constant('2026-01-01T00:00:00Z'), jku: fc.webUrl(), kid: fc.string({ minLength: 1 }) }), async (alg, payload, header) => {
        const { signer, verifier, joseSigner, joseVerifier } = keys[alg];
        const mine = signDetached({ ...header, alg }, payload, signer);
        const [protectedHeader, empty, signature] = mine.split('.');
        expect(empty).toBe('');
        const byJose = await flattenedVerify({ protected: protectedHeader!, signature: signature!, payload }, joseVerifier, { algorithms: [alg], crit: { b64: true } });
        expect(byJose.protectedHeader).toEqual({ ...header, alg, b64: false, crit: ['b64'] });

        const theirs = await new FlattenedSign(payload).setProtectedHeader({ ...header, alg, b64: false, crit: ['b64'] }).sign(joseSigner);
        const decoded = decodeDetachedJws(`${theirs.protected}..${theirs.signature}`);
        expect(() => verifyDetachedJws(decoded, payload, verifier, { algorithms: [alg] })).not.toThrow();
        // Another payload: refused by both.
        const other = Buffer.concat([Buffer.from(payload), Buffer.from([1])]);
        expect(ours(() => verifyDetachedJws(decoded, other, verifier))).toBe('signature');
        expect(await jose(() => flattenedVerify({ protected: protectedHeader!, signature: signature!, payload: other }, joseVerifier))).toBe('signature');
      }),
      { numRuns: 40 },
    );
  });
});

describe('what one refuses, the other refuses', () => {
  it('any change of one character of a token (ours refuses all; jose all but stray bits of the signature’s last character)', async () => {
    const keys = await pairs;
    await fc.assert(
      fc.asyncProperty(algorithm, fc.nat(), fc.nat(63), async (alg, where, by) => {
        const { signer, verifier, joseVerifier } = keys[alg];
        const token = signJwt({ alg, kid: 'k' }, { iss: ISS, aud: AUD, iat: NOW, exp: NOW + 60, scope: 'system/Bundle.r' }, signer);
        const at = where % token.length;
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
        const replacement = alphabet[(alphabet.indexOf(token[at]!) + 1 + by) % alphabet.length]!;
        const tampered = token.slice(0, at) + replacement + token.slice(at + 1);
        expect(ours(() => verifyJwt(tampered, verifier, { audience: AUD, now: NOW }))).not.toBe('ok');
        const joseOutcome = await jose(() => jwtVerify(tampered, joseVerifier, { audience: AUD, currentDate: new Date(NOW * 1000) }));
        if (joseOutcome === 'ok') {
          // jose decodes base64url forgivingly: only the unused low bits of the last character changed.
          expect(at).toBe(token.length - 1);
          expect(Buffer.from(tampered.split('.')[2]!, 'base64url')).toEqual(Buffer.from(token.split('.')[2]!, 'base64url'));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('the time and audience checks decide alike for any exp, nbf, iat, aud, tolerance and maximum age (boundaries included)', async () => {
    const { ES256 } = await pairs;
    const aud = fc.constantFrom<unknown>(AUD, 'https://elsewhere.example', [AUD], ['https://elsewhere.example'], [], 5, undefined);
    /** A time claim: absent, not a number, anywhere, or a second either side of a boundary of the checks. */
    const time = (boundaries: number[]) =>
      fc.oneof(
        fc.constant(undefined),
        fc.constantFrom<unknown>('1800000000', null, 1.5e300, -1.5e300),
        fc.integer({ min: -5000, max: 5000 }).map((o) => NOW + o),
        fc.constantFrom(...boundaries.flatMap((b) => [b - 1, b, b + 1])).map((o) => NOW + o),
      );
    const cases = fc
      .tuple(fc.integer({ min: 0, max: 120 }), fc.option(fc.integer({ min: 0, max: 4000 }), { nil: undefined }))
      .chain(([tolerance, maxAge]) =>
        fc.record({
          tolerance: fc.constant(tolerance),
          maxAge: fc.constant(maxAge),
          exp: time([-tolerance]),
          nbf: time([tolerance]),
          iat: time([tolerance, -(maxAge ?? 0) - tolerance]),
          aud,
        }),
      );
    await fc.assert(
      fc.asyncProperty(cases, async ({ tolerance, maxAge, exp, nbf, iat, aud: audience }) => {
        const claims = Object.fromEntries(Object.entries({ iss: ISS, exp, nbf, iat, aud: audience }).filter(([, v]) => v !== undefined));
        const token = signJwt({ alg: 'ES256' }, claims, ES256.signer);
        const mine = ours(() => verifyJwt(token, ES256.verifier, { issuer: ISS, audience: AUD, clockToleranceS: tolerance, now: NOW, ...(maxAge === undefined ? {} : { maxAgeS: maxAge }) }));
        const theirs = await jose(() =>
          jwtVerify(token, ES256.joseVerifier, { issuer: ISS, audience: AUD, clockTolerance: tolerance, currentDate: new Date(NOW * 1000), ...(maxAge === undefined ? {} : { maxTokenAge: maxAge }) }),
        );
        expect(mine).toBe(theirs);
      }),
      { numRuns: 1000 },
    );
  });

  it.each(ALGS)('%s: a token whose alg is not its key’s, none, or HMAC with the public key as secret (algorithm confusion)', async (alg) => {
    const keys = await pairs;
    const claims = { iss: ISS, aud: AUD, iat: NOW, exp: NOW + 60 };
    const verifier = keys[alg];
    for (const other of ALGS.filter((a) => a !== alg)) {
      const token = signJwt({ alg: other }, claims, keys[other].signer);
      expect(ours(() => verifyJwt(token, verifier.verifier, { now: NOW }))).toBe('algorithm');
      expect(await jose(() => jwtVerify(token, verifier.joseVerifier, { algorithms: [alg], currentDate: new Date(NOW * 1000) }))).toBe('algorithm');
      // The header claims the key's own alg, the signature is by another key type.
      const [, payload, signature] = token.split('.');
      const relabelled = `${enc({ alg })}.${payload}.${signature}`;
      expect(ours(() => verifyJwt(relabelled, verifier.verifier, { now: NOW }))).toBe('signature');
      expect(await jose(() => jwtVerify(relabelled, verifier.joseVerifier, { algorithms: [alg], currentDate: new Date(NOW * 1000) }))).toBe('signature');
    }
    const none = `${enc({ alg: 'none' })}.${enc(claims)}.`;
    expect(ours(() => verifyJwt(none, verifier.verifier, { now: NOW }))).toBe('algorithm');
    expect(await jose(() => jwtVerify(none, verifier.joseVerifier, { algorithms: [alg] }))).toBe('algorithm');
    const spki = verifier.publicKey.export({ format: 'der', type: 'spki' });
    const input = `${enc({ alg: 'HS256' })}.${enc(claims)}`;
    const hmac = `${input}.${createHmac('sha256', spki).update(input).digest('base64url')}`;
    expect(ours(() => verifyJwt(hmac, verifier.verifier, { now: NOW }))).toBe('algorithm');
    expect(await jose(() => jwtVerify(hmac, verifier.joseVerifier, { algorithms: [alg] }))).toBe('algorithm');
  });

  it('critical parameters not understood, in a token, a statement and a detached JWS', async () => {
    const { EdDSA } = await pairs;
    const claims = { iss: ISS, aud: AUD, iat: NOW, exp: NOW + 60 };
    const cases: Array<[string, Record<string, unknown>]> = [
      ['unknown member', { alg: 'EdDSA', crit: ['urn:example:policy'], 'urn:example:policy': 1 }],
      ['member missing from the header', { alg: 'EdDSA', crit: ['exp'] }],
      ['empty list', { alg: 'EdDSA', crit: [] }],
      ['not a list', { alg: 'EdDSA', crit: 'b64', b64: true }],
      ['duplicates', { alg: 'EdDSA', crit: ['b64', 'b64'], b64: false }],
      ['an unencoded payload in a JWT', { alg: 'EdDSA', crit: ['b64'], b64: false }],
    ];
    for (const [what, header] of cases) {
      const input = `${enc(header)}.${enc(claims)}`;
      const token = `${input}.${EdDSA.signer.sign(Buffer.from(input)).toString('base64url')}`;
      expect([what, ours(() => verifyJwt(token, EdDSA.verifier, { now: NOW }))]).toEqual([what, 'malformed']);
      expect([what, await jose(() => jwtVerify(token, EdDSA.joseVerifier, { currentDate: new Date(NOW * 1000) }))]).toEqual([what, 'malformed']);
    }
    // A detached JWS must say b64 false and make it critical; other critical members are refused.
    const payload = Buffer.from('{"resourceType":"Bundle"}');
    for (const [what, header] of [
      ['b64 not critical', { alg: 'EdDSA', b64: false }],
      ['b64 true', { alg: 'EdDSA', b64: true, crit: ['b64'] }],
      ['another critical member', { alg: 'EdDSA', b64: false, crit: ['b64', 'sigD'], sigD: {} }],
    ] as const) {
      const protectedHeader = enc(header);
      const signature = EdDSA.signer.sign(Buffer.concat([Buffer.from(`${protectedHeader}.`), payload])).toString('base64url');
      expect([what, ours(() => verifyDetachedJws(decodeDetachedJws(`${protectedHeader}..${signature}`), payload, EdDSA.verifier))]).toEqual([what, 'malformed']);
      expect([what, await jose(() => flattenedVerify({ protected: protectedHeader, signature, payload }, EdDSA.joseVerifier, { crit: { b64: true } }))]).not.toEqual([what, 'ok']);
    }
  });
});

describe('stricter than jose where that costs nothing', () => {
  it('refuses non-canonical base64url (padding, white space, stray bits) and a b64 parameter in an attached JWS', async () => {
    const { ES256 } = await pairs;
    const token = signJwt({ alg: 'ES256' }, { iss: ISS }, ES256.signer);
    const [h, p, s] = token.split('.') as [string, string, string];
    // 86 characters carry 64 bytes: the last one has 4 bits to spare.
    const last = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.indexOf(s.at(-1)!);
    const strayBits = `${h}.${p}.${s.slice(0, -1)}${'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[last ^ 1]}`;
    expect(await jose(() => jwtVerify(strayBits, ES256.joseVerifier))).toBe('ok');
    expect(ours(() => verifyJwt(strayBits, ES256.verifier))).toBe('malformed');
    for (const bad of [`${h}.${p}.${s}==`, `${h}.${p}.${s.slice(0, 10)} ${s.slice(10)}`, `${h}.${p}.${s.slice(0, 5)}+${s.slice(6)}`, `${h}=.${p}.${s}`]) {
      expect(ours(() => verifyJwt(bad, ES256.verifier))).toBe('malformed');
    }
    const withB64 = signCompactRaw({ alg: 'ES256', b64: true, crit: ['b64'] }, { iss: ISS }, ES256.signer);
    expect(await jose(() => jwtVerify(withB64, ES256.joseVerifier))).toBe('ok');
    expect(ours(() => verifyJwt(withB64, ES256.verifier))).toBe('malformed');
    const b64NotCritical = signCompactRaw({ alg: 'ES256', b64: false }, { iss: ISS }, ES256.signer);
    expect(ours(() => verifyJwt(b64NotCritical, ES256.verifier))).toBe('malformed');
  });

  it('refuses a header or claims set that is not a JSON object in UTF-8, and an empty payload', () => {
    const key = JwsKey.of(generated.EdDSA.privateKey, 'EdDSA');
    for (const [header, payload] of [
      ['[1]', '{}'],
      ['null', '{}'],
      ['{"alg":"EdDSA"}', '[]'],
      ['{"alg":"EdDSA"}', '"text"'],
      ['{"alg":"EdDSA"}', Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])],
      ['{"alg":"EdDSA"}', ''],
    ] as const) {
      const input = `${enc(header)}.${Buffer.from(payload).toString('base64url')}`;
      const token = `${input}.${key.sign(Buffer.from(input)).toString('base64url')}`;
      expect(ours(() => verifyJwt(token, JwsKey.of(generated.EdDSA.publicKey, 'EdDSA')))).toBe('malformed');
    }
    expect(ours(() => decodeJws('a.b'))).toBe('malformed');
    expect(ours(() => decodeJws('a.b.c.d'))).toBe('malformed');
  });

  it('checks a key against its algorithm when imported, and its use when signing or verifying', () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const ed448 = generateKeyPairSync('ed448');
    expect(() => JwsKey.of(p384.publicKey, 'ES256')).toThrow(/curve P-256/);
    expect(() => JwsKey.of(rsa1024.publicKey, 'RS256')).toThrow(/2048 bits/);
    expect(() => JwsKey.of(ed448.publicKey, 'EdDSA')).toThrow(/ed25519/);
    expect(() => JwsKey.of(generated.EdDSA.publicKey, 'ES256')).toThrow(/type ec/);
    expect(() => JwsKey.of(generated.ES256.publicKey, 'HS256')).toThrow(JwsKeyError);
    const jwk = generated.ES256.publicKey.export({ format: 'jwk' });
    expect(() => JwsKey.fromJwk({ ...jwk, alg: 'ES384' }, 'ES256', 'public')).toThrow(/for ES384/);
    expect(() => JwsKey.fromJwk({ ...jwk, use: 'enc' }, 'ES256', 'public')).toThrow(/not for signatures/);
    expect(() => JwsKey.fromJwk({ ...jwk, key_ops: ['sign'] }, 'ES256', 'public')).toThrow(/key_ops/);
    expect(() => JwsKey.fromJwk({ ...jwk, x: 'AAAA' }, 'ES256', 'public')).toThrow(/cannot be imported/);
    expect(() => JwsKey.fromJwk(jwk, 'ES256', 'private')).toThrow(/"d"/);
    expect(() => JwsKey.fromJwk(generated.EdDSA.publicKey.export({ format: 'jwk' }), 'ES256', 'public')).toThrow(/kty EC/);
    // A public key does not sign; a private key is not used to verify.
    const publicKey = JwsKey.fromJwk(jwk, 'ES256', 'public');
    expect(() => signCompact({ alg: 'ES256' }, 'x', publicKey)).toThrow(/cannot sign/);
    const privateKey = JwsKey.of(generated.ES256.privateKey, 'ES256');
    expect(() => verifyCompact(signCompact({ alg: 'ES256' }, 'x', privateKey), privateKey)).toThrow(/does not verify: use its public key/);
    expect(() => signCompact({ alg: 'EdDSA' }, 'x', privateKey)).toThrow(/signs with ES256/);
  });
});

describe('the claim checks', () => {
  const base = { iss: ISS, sub: 's', aud: AUD, iat: NOW, exp: NOW + 300, jti: 'j' };
  const checks: JwtClaimChecks = { issuer: ISS, audience: AUD, clockToleranceS: 30, requiredClaims: ['sub', 'jti'], maxAgeS: 3630, now: NOW };
  const outcome = (claims: Record<string, unknown>) => ours(() => checkJwtClaims(claims, checks));

  it.each<[string, Record<string, unknown>, Outcome]>([
    ['a valid token', base, 'ok'],
    ['exp just inside the tolerance', { ...base, exp: NOW - 29 }, 'ok'],
    ['exp at the tolerance', { ...base, exp: NOW - 30 }, 'claim exp expired'],
    ['nbf inside the tolerance', { ...base, nbf: NOW + 30 }, 'ok'],
    ['nbf beyond it', { ...base, nbf: NOW + 31 }, 'claim nbf check_failed'],
    ['iat in the future beyond the tolerance', { ...base, iat: NOW + 31 }, 'claim iat check_failed'],
    ['iat older than the maximum age', { ...base, iat: NOW - 3661 }, 'claim iat expired'],
    ['iat a string', { ...base, iat: String(NOW) }, 'claim iat invalid'],
    ['another issuer', { ...base, iss: 'https://other.example' }, 'claim iss check_failed'],
    ['another audience', { ...base, aud: 'https://other.example' }, 'claim aud check_failed'],
    ['audience among others', { ...base, aud: ['https://other.example', AUD] }, 'ok'],
    ['jti missing', { ...base, jti: undefined }, 'claim jti missing'],
    ['jti null (present: its type is the caller’s to check)', { ...base, jti: null }, 'ok'],
  ])('%s', (_what, claims, expected) => {
    expect(outcome(Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined)))).toBe(expected);
  });
});

/** A compact JWS with any header (this module's signCompact refuses b64 and crit). */
function signCompactRaw(header: Record<string, unknown>, claims: Record<string, unknown>, key: JwsKey): string {
  const input = `${enc(header)}.${enc(claims)}`;
  return `${input}.${key.sign(Buffer.from(input)).toString('base64url')}`;
}
