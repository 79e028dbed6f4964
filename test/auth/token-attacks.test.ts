import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { demoSigningKey, mintDemoToken } from '../../src/auth/demo-tokens.js';
import { memoryBackend } from '../support/stores.js';
import { bodyOf, buildTestNode, type Json, type TestNode } from '../support/test-node.js';

let node: TestNode;
let aud: string;
const SUMMARY = '/fhir/Patient/$summary?identifier=urn:test:national|T1';

beforeAll(async () => {
  node = await buildTestNode(memoryBackend);
  aud = node.config.baseUrl;
});
afterAll(() => node.cleanup());

/** Claims of a valid demo hospital-system token, for tests that forge variants of it. */
function claims(): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: 'https://his.at.demo.pontis.example',
    sub: 'his-1',
    aud,
    iat: now,
    exp: now + 300,
    jti: randomUUID(),
    scope: 'system/Bundle.r',
    client_id: 'his-client',
  };
}

async function signed(payload: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  const key = await demoSigningKey('his', 'AT');
  return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, ...header }).sign(key.key);
}

/** A token with any header at all (jose will not sign critical parameters it does not know). */
async function signedRaw(payload: JWTPayload, header: Record<string, unknown>): Promise<string> {
  const key = await demoSigningKey('his', 'AT');
  const input = `${Buffer.from(JSON.stringify({ alg: key.alg, kid: key.kid, ...header })).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${input}.${key.signer.sign(Buffer.from(input)).toString('base64url')}`;
}

async function call(token: string | undefined, url = SUMMARY) {
  return node.server.inject({ url, headers: { authorization: token === undefined ? 'none' : `Bearer ${token}` } });
}

async function expectRefused(token: string | undefined, message: RegExp, status = 401): Promise<void> {
  const response = await call(token);
  expect(response.statusCode).toBe(status);
  const outcome = bodyOf<Json>(response);
  expect(outcome['resourceType']).toBe('OperationOutcome');
  expect(outcome['issue'][0].diagnostics).toMatch(message);
  if (status === 401) expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
}

describe('a request is refused with 401 and an OperationOutcome when', () => {
  it('it carries no token', async () => {
    await expectRefused(undefined, /Bearer token is required/);
  });

  it('the Authorization header is not a Bearer token', async () => {
    const response = await node.server.inject({ url: SUMMARY, headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    expect(response.statusCode).toBe(401);
    expect(bodyOf<Json>(response)['issue'][0].diagnostics).toMatch(/must be "Bearer <JWT>"/);
  });

  it('the token is not a JWT', async () => {
    await expectRefused('not-a-token', /not a signed JWT/);
  });

  it('the token is unsigned (alg none)', async () => {
    const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    await expectRefused(`${enc({ alg: 'none', typ: 'JWT' })}.${enc(claims())}.`, /algorithm "none" is not accepted/);
  });

  it('the token is signed with HMAC (HS256)', async () => {
    const key = await demoSigningKey('his', 'AT');
    const token = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', kid: key.kid }).sign(new TextEncoder().encode(JSON.stringify(key.kid)));
    await expectRefused(token, /algorithm "HS256" is not accepted/);
  });

  it('the signature does not verify (payload changed after signing)', async () => {
    const token = await signed(claims());
    const [h, , s] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...claims(), scope: 'system/Bundle.crud' })).toString('base64url');
    await expectRefused(`${h}.${forged}.${s}`, /signature does not verify/);
  });

  it('the token is signed by a key not in the trust list, under a trusted kid', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const key = await demoSigningKey('his', 'AT');
    const token = await new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', kid: key.kid }).sign(privateKey);
    await expectRefused(token, /signature does not verify/);
  });

  it('the kid names no key of the issuer', async () => {
    await expectRefused(await signed(claims(), { kid: 'unknown-kid' }), /no key of this issuer/);
  });

  it('the issuer is unknown', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const kid = (await exportJWK(publicKey)).x!.slice(0, 8);
    const token = await new SignJWT({ ...claims(), iss: 'https://evil.example' }).setProtectedHeader({ alg: 'ES256', kid }).sign(privateKey);
    await expectRefused(token, /not in this node's trust list/);
  });

  it('the audience is another node', async () => {
    await expectRefused(await signed({ ...claims(), aud: 'http://pt.example/fhir' }), /not meant for this node \(aud\)/);
  });

  it('the token has expired', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectRefused(await signed({ ...claims(), iat: now - 900, exp: now - 600 }), /expired/);
  });

  it('the token is not valid yet', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectRefused(await signed({ ...claims(), nbf: now + 600 }), /not valid yet/);
  });

  it('the token was issued in the future', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectRefused(await signed({ ...claims(), iat: now + 600, exp: now + 900 }), /^the token was issued in the future or too long ago \(iat\)$/);
  });

  it('a time claim is not a number', async () => {
    await expectRefused(await signed({ ...claims(), exp: String(Math.floor(Date.now() / 1000) + 300) } as unknown as JWTPayload), /^claim exp is invalid$/);
  });

  it('the header names a critical parameter this node does not understand, or an unencoded payload', async () => {
    await expectRefused(await signedRaw(claims(), { crit: ['urn:example:policy'], 'urn:example:policy': 'x' }), /^the token is invalid$/);
    await expectRefused(await signedRaw(claims(), { crit: ['b64'], b64: true }), /^the token is invalid$/);
    await expectRefused(await signedRaw(claims(), { crit: ['b64'], b64: false }), /^the token is invalid$/);
  });

  it('the signature is written in base64url that is not canonical (stray bits: the same signature bytes)', async () => {
    const token = await signed(claims());
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const stray = token.slice(0, -1) + alphabet[alphabet.indexOf(token.at(-1)!) ^ 1];
    await expectRefused(stray, /^the token is invalid$/);
    await expectRefused(`${token}=`, /^the token is invalid$/);
  });

  it('the header names the algorithm of another key type than the kid’s', async () => {
    const token = await signed(claims());
    const [, payload, signature] = token.split('.');
    const header = Buffer.from(JSON.stringify({ alg: 'EdDSA', kid: (await demoSigningKey('his', 'AT')).kid })).toString('base64url');
    await expectRefused(`${header}.${payload}.${signature}`, /signs with ES256, not EdDSA/);
  });

  it('the token lives longer than an hour', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectRefused(await signed({ ...claims(), exp: now + 7200 }), /lifetime exceeds/);
  });

  it.each(['iss', 'sub', 'exp', 'iat', 'jti', 'scope', 'client_id'])('claim %s is missing', async (claim) => {
    const payload = claims();
    delete payload[claim];
    await expectRefused(await signed(payload), new RegExp(`^claim ${claim} is required$`));
  });

  it('a user token lacks the IUA claims (subject_role)', async () => {
    const token = await mintDemoToken({ audience: aud, claims: { extensions: { ihe_iua: { subject_name: 'Dr. X', purpose_of_use: 'TREAT' } } } });
    await expectRefused(token, /extensions\.ihe_iua\.subject_role is required/);
  });

  it('the token is replayed (same jti), even within its lifetime', async () => {
    const token = await signed(claims());
    expect((await call(token)).statusCode).not.toBe(401);
    await expectRefused(token, /already used \(jti\)/);
  });
});

describe('a trusted token is refused with 403 when', () => {
  it('it lacks the scope the route needs', async () => {
    const token = await mintDemoToken({ audience: aud, scope: 'system/Patient.rs' });
    await expectRefused(token, /does not grant r on Bundle/, 403);
  });

  it('it asks for scopes its issuer may not grant (cut to nothing)', async () => {
    // The identity provider may not grant system scopes: the token keeps none.
    const token = await mintDemoToken({ audience: aud, issuer: 'idp', scope: 'system/Bundle.crud' });
    await expectRefused(token, /does not grant r on Bundle/, 403);
  });

  it("a hospital system of another country pushes to this node", async () => {
    const token = await mintDemoToken({ audience: aud, country: 'PT', scope: 'system/Bundle.c' });
    await expectRefused(token, /hospital-system of PT may not act at the node of AT/, 403);
  });

  it('a peer node speaks for requesters of a third country', async () => {
    const token = await mintDemoToken({ audience: aud, issuer: 'ncp', country: 'PT', homeCountry: 'FR' });
    await expectRefused(token, /node of PT cannot speak for requesters of FR/, 403);
  });
});

describe('open routes', () => {
  it('serve the CapabilityStatement without a token', async () => {
    expect((await node.server.inject({ url: '/fhir/metadata', headers: { authorization: 'none' } })).statusCode).toBe(200);
  });
});
