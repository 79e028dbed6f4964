#!/usr/bin/env node
// npm run bench:tokens: CPU per signature operation, node:crypto KeyObjects (src/auth/jws.ts) against
// jose's WebCrypto path (what the node used before), for each operation a request makes: verify a
// bearer token (every request; a cross-border read verifies two), sign a token (the portal, and a
// node calling a peer), sign and verify a summary's detached signature (RFC 7797) and an audit
// checkpoint. ES256 and EdDSA with the demo keys of seed/trust, RS256 with a generated 2048-bit key.
// Each pair runs interleaved in BENCH_TOKEN_ROUNDS rounds of BENCH_TOKEN_MS ms each; the figure is
// the median round's CPU time (user + system) per operation. Then the node's whole token check
// (TokenVerifier.verify of a read token); BENCH_BASELINE=<folder with an earlier build (dist/,
// node_modules)> runs that build's check beside it on the same tokens. Run after `npm run build`.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CompactSign, compactVerify, decodeJwt, decodeProtectedHeader, FlattenedSign, flattenedVerify, importJWK, jwtVerify, SignJWT } from 'jose';
import { JwsKey, decodeDetachedJws, signCompact, signDetached, signJwt, verifyCompact, verifyDetachedJws, verifyJwt } from '../dist/src/auth/jws.js';
import { TokenVerifier } from '../dist/src/auth/token-verifier.js';
import { TrustList } from '../dist/src/auth/trust-list.js';
import { mintDemoToken } from '../dist/src/auth/demo-tokens.js';
import { DEMO_TRUST_LIST } from '../dist/src/config.js';
import { projectRoot } from '../dist/src/project-root.js';
import { machine } from './lib.mjs';

const ROUNDS = Number(process.env.BENCH_TOKEN_ROUNDS ?? 7);
const ROUND_MS = Number(process.env.BENCH_TOKEN_MS ?? 300);
const AUD = 'http://at.example/fhir';

/** CPU µs per call of `fn` over about ROUND_MS (after a warm-up). */
async function round(fn) {
  let n = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  while (performance.now() - started < ROUND_MS) {
    for (let i = 0; i < 20; i++) await fn();
    n += 20;
  }
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / n;
}

/** Median CPU µs per call of each of `fns`, run interleaved. */
async function compare(fns) {
  for (const fn of fns) for (let i = 0; i < 200; i++) await fn();
  const samples = fns.map(() => []);
  for (let r = 0; r < ROUNDS; r++) for (const [i, fn] of fns.entries()) samples[i].push(await round(fn));
  return samples.map((s) => s.sort((a, b) => a - b)[Math.floor(s.length / 2)]);
}

const demo = (name) => JSON.parse(readFileSync(`${projectRoot()}/seed/trust/demo-keys/${name}.json`, 'utf8'));
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const keys = [
  { label: 'ES256', private: demo('his-at').key, public: undefined },
  { label: 'EdDSA', private: demo('ncp-at').key, public: undefined },
  { label: 'RS256', private: { ...rsa.privateKey.export({ format: 'jwk' }), alg: 'RS256', kid: 'rsa-1' } },
];

const rows = [];
const row = (what, alg, [jose, ours]) => rows.push({ what, alg, jose, ours });

for (const k of keys) {
  const alg = k.private.alg;
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = k.private;
  const ourSigner = JwsKey.fromJwk(k.private, alg, 'private');
  const ourVerifier = JwsKey.fromJwk(publicJwk, alg, 'public');
  const joseSigner = await importJWK(k.private, alg);
  const joseVerifier = await importJWK(publicJwk, alg);
  const now = Math.floor(Date.now() / 1000);
  const claims = () => ({
    scope: 'user/Patient.rs user/Bundle.r',
    client_id: 'pontis-node-pt',
    extensions: { ihe_iua: { subject_name: 'Dr. Bench', subject_role: { system: 'urn:oid:2.16.840.1.113883.2.9.6.2.7', code: '221' }, purpose_of_use: { code: 'TREAT' }, home_community_id: 'PT' } },
    iss: 'https://ncp.pt.example',
    sub: 'bench',
    aud: AUD,
    iat: now,
    exp: now + 60,
    jti: randomUUID(),
  });
  const header = { alg, kid: k.private.kid, typ: 'JWT' };
  const token = signJwt(header, claims(), ourSigner);
  const checks = { issuer: 'https://ncp.pt.example', audience: AUD, clockTolerance: 30, requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'scope', 'client_id'], maxTokenAge: 3630 };
  row('verify a token (header and claims read, signature, claim checks)', alg, await compare([
    async () => {
      decodeProtectedHeader(token);
      decodeJwt(token);
      await jwtVerify(token, joseVerifier, { algorithms: [alg], ...checks });
    },
    () => verifyJwt(token, ourVerifier, { algorithms: [alg], issuer: checks.issuer, audience: AUD, clockToleranceS: 30, requiredClaims: checks.requiredClaims, maxAgeS: 3630 }),
  ]));
  row('sign a token', alg, await compare([() => new SignJWT(claims()).setProtectedHeader(header).sign(joseSigner), () => signJwt(header, claims(), ourSigner)]));
  const statement = Buffer.from(JSON.stringify({ iss: 'https://ncp.pt.example', chain: 'bench-1-abcd', seq: 1000, hash: 'a'.repeat(64), iat: now }));
  const checkpoint = signCompact({ alg, kid: k.private.kid, typ: 'pontis-audit-checkpoint+jws' }, statement, ourSigner);
  row('sign an audit checkpoint', alg, await compare([
    () => new CompactSign(statement).setProtectedHeader({ alg, kid: k.private.kid, typ: 'pontis-audit-checkpoint+jws' }).sign(joseSigner),
    () => signCompact({ alg, kid: k.private.kid, typ: 'pontis-audit-checkpoint+jws' }, statement, ourSigner),
  ]));
  row('verify an audit checkpoint', alg, await compare([() => compactVerify(checkpoint, joseVerifier, { algorithms: [alg] }), () => verifyCompact(checkpoint, ourVerifier, { algorithms: [alg] })]));
  // A summary's canonical content: 8 KiB (the demo summaries are 3 to 12 KiB).
  const summary = Buffer.alloc(8192, 'x');
  const detachedHeader = { sigT: '2026-01-01T00:00:00Z', jku: `${AUD}/.well-known/jwks.json`, alg, kid: k.private.kid };
  const detached = signDetached(detachedHeader, summary, ourSigner);
  const [protectedHeader, , signature] = detached.split('.');
  row('sign a summary (detached, 8 KiB)', alg, await compare([
    () => new FlattenedSign(summary).setProtectedHeader({ ...detachedHeader, b64: false, crit: ['b64'] }).sign(joseSigner),
    () => signDetached(detachedHeader, summary, ourSigner),
  ]));
  row('verify a summary (detached, 8 KiB)', alg, await compare([
    () => flattenedVerify({ protected: protectedHeader, signature, payload: summary }, joseVerifier, { algorithms: [alg], crit: { b64: true } }),
    () => verifyDetachedJws(decodeDetachedJws(detached), summary, ourVerifier, { algorithms: [alg] }),
  ]));
}

// The node's whole token check as a read request makes it (trust list lookup, signature, claims,
// the Requester built; a read token's single use is claimed by its audit record, so no store call).
const trust = await TrustList.load(DEMO_TRUST_LIST);
const verifier = new TokenVerifier(trust, AUD, 'AT', { firstUse: async () => true });
const readTokens = await Promise.all(Array.from({ length: 1000 }, () => mintDemoToken({ audience: AUD })));
let next = 0;
const checks = [() => verifier.verify(readTokens[next++ % readTokens.length])];
const baseline = process.env.BENCH_BASELINE;
if (baseline) {
  const { TokenVerifier: BaselineVerifier } = await import(`${baseline}/dist/src/auth/token-verifier.js`);
  const { TrustList: BaselineTrust } = await import(`${baseline}/dist/src/auth/trust-list.js`);
  const before = new BaselineVerifier(await BaselineTrust.load(DEMO_TRUST_LIST), AUD, 'AT', { firstUse: async () => true });
  let n = 0;
  checks.push(() => before.verify(readTokens[n++ % readTokens.length]));
}
const [whole, wholeBefore] = await compare(checks);

const us = (v) => `${v.toFixed(1).padStart(7)} µs`;
const lines = [
  `token signatures, CPU per operation (median of ${ROUNDS} interleaved rounds of ${ROUND_MS} ms), ${machine()}`,
  `${'operation'.padEnd(64)} ${'alg'.padEnd(6)} ${'jose'.padStart(10)} ${'node:crypto'.padStart(11)}  ratio`,
  ...rows.map((r) => `${r.what.padEnd(64)} ${r.alg.padEnd(6)} ${us(r.jose)} ${us(r.ours).padStart(11)}  ${(r.ours / r.jose).toFixed(2)}`),
  `TokenVerifier.verify of a demo read token (ES256, the whole check): this build ${us(whole).trim()}` +
    (wholeBefore === undefined ? '' : `, ${baseline} ${us(wholeBefore).trim()} (${(whole / wholeBefore).toFixed(2)})`),
];
process.stdout.write(`${lines.join('\n')}\n`);
