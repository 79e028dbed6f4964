import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { TrustList } from '../../src/auth/trust-list.js';
import { DEMO_TRUST_LIST } from '../../src/config.js';
import { NodeIdentity } from '../../src/exchange/node-identity.js';
import { canonicalJson, SignatureRefused, signedContent, signedSummary, signSummary, verifySummary } from '../../src/exchange/summary-signature.js';
import { projectRoot } from '../../src/project-root.js';
import { minimal, type Json } from '../support/test-node.js';

const AT_ISSUER = 'https://ncp.at.demo.pontis.example';
const atKey = () => NodeIdentity.load(`${projectRoot()}/seed/trust/demo-keys/ncp-at.json`);

/** The same JSON value with every object's members in reverse order. */
function reversed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversed);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversed(v)]));
}

describe('RFC 8785 canonical JSON (the test vectors of the RFC)', () => {
  it('writes numbers as ECMAScript does, from their IEEE 754 bits (Appendix B)', () => {
    const vectors: Array<[string, string]> = [
      ['0000000000000000', '0'],
      ['8000000000000000', '0'],
      ['0000000000000001', '5e-324'],
      ['8000000000000001', '-5e-324'],
      ['7fefffffffffffff', '1.7976931348623157e+308'],
      ['ffefffffffffffff', '-1.7976931348623157e+308'],
      ['4340000000000000', '9007199254740992'],
      ['c340000000000000', '-9007199254740992'],
      ['4430000000000000', '295147905179352830000'],
      ['44b52d02c7e14af5', '9.999999999999997e+22'],
      ['44b52d02c7e14af6', '1e+23'],
      ['44b52d02c7e14af7', '1.0000000000000001e+23'],
      ['444b1ae4d6e2ef4e', '999999999999999700000'],
      ['444b1ae4d6e2ef4f', '999999999999999900000'],
      ['444b1ae4d6e2ef50', '1e+21'],
      ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
      ['3eb0c6f7a0b5ed8d', '0.000001'],
      ['41b3de4355555553', '333333333.3333332'],
      ['41b3de4355555554', '333333333.33333325'],
      ['41b3de4355555555', '333333333.3333333'],
      ['41b3de4355555556', '333333333.3333334'],
      ['41b3de4355555557', '333333333.33333343'],
      ['becbf647612f3696', '-0.0000033333333333333333'],
      ['43143ff3c1cb0959', '1424953923781206.2'],
    ];
    for (const [bits, expected] of vectors) expect([bits, canonicalJson(Buffer.from(bits, 'hex').readDoubleBE(0))]).toEqual([bits, expected]);
    // NaN and Infinity have no JSON form (7fffffffffffffff, 7ff0000000000000).
    expect(() => canonicalJson(Number.NaN)).toThrow();
    expect(() => canonicalJson(Number.POSITIVE_INFINITY)).toThrow();
  });

  it('canonicalises the example of section 3.2.2 (numbers, literals, string escapes) as the RFC shows', () => {
    const input = '{\n  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],\n  "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",\n  "literals": [null, true, false]\n}';
    expect(canonicalJson(JSON.parse(input))).toBe('{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}');
  });

  it('sorts members by their names as UTF-16 code units (section 3.2.3)', () => {
    const input = '{"\\u20ac":"Euro Sign","\\r":"Carriage Return","\\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\\ud83d\\ude00":"Emoji: Grinning Face","\\u0080":"Control","\\u00f6":"Latin Small Letter O With Diaeresis"}';
    // "1" comes after "\r" (U+000D), though JavaScript lists integer-like names first; "\ud83d\ude00" before "\ufb33" (its first code unit is smaller).
    expect(canonicalJson(JSON.parse(input))).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it('refuses a string with a lone surrogate (I-JSON)', () => {
    expect(() => canonicalJson(JSON.parse('{"a":"\\ud800"}'))).toThrow();
  });
});

describe('signed summaries', () => {
  it('sign the canonical content: the signature verifies after member order and whitespace change', async () => {
    const trust = await TrustList.load(DEMO_TRUST_LIST);
    const at = await atKey();
    const bytes = Buffer.from(JSON.stringify(minimal()), 'utf8');
    const sent = await signSummary(bytes, at, 'http://at.example/fhir');
    // The stored bytes are sent as they are, the signature appended.
    expect(sent.subarray(0, bytes.length - 1).equals(bytes.subarray(0, -1))).toBe(true);
    const signed = JSON.parse(sent.toString('utf8')) as Json;
    const verified = await verifySummary(signed, AT_ISSUER, trust);
    expect(verified.canonical).toBe(canonicalJson(minimal()));
    expect(verified.canonical).not.toBe(bytes.toString('utf8'));
    expect(verified.digest).toBe(createHash('sha256').update(verified.canonical, 'utf8').digest('base64url'));
    expect(verified.signedAt).toBe(signed['signature'].when);

    // Another node's parser and serialiser: members reversed everywhere, pretty-printed, parsed again.
    const reserialised = JSON.parse(JSON.stringify(reversed(signed), null, 3)) as Json;
    expect(Object.keys(reserialised)[0]).toBe('signature');
    await expect(verifySummary(reserialised, AT_ISSUER, trust)).resolves.toMatchObject({ digest: verified.digest });

    // The signer names the same digest (its ETag for peers): what a verifier offers back in If-None-Match.
    const withDigest = await signedSummary(bytes, at, 'http://at.example/fhir');
    expect(withDigest.digest).toBe(verified.digest);
    await expect(verifySummary(JSON.parse(withDigest.bytes.toString('utf8')), AT_ISSUER, trust)).resolves.toMatchObject({ digest: withDigest.digest });
  });

  it('refuse altered content, a missing signature, another node as signer, and what has no canonical form', async () => {
    const trust = await TrustList.load(DEMO_TRUST_LIST);
    const signed = JSON.parse((await signSummary(Buffer.from(JSON.stringify(minimal()), 'utf8'), await atKey(), 'http://at.example/fhir')).toString('utf8')) as Json;
    await expect(verifySummary({ ...signed, timestamp: '2000-01-01T00:00:00Z' }, AT_ISSUER, trust)).rejects.toThrow(/does not match its content/);
    const deeper = structuredClone(signed);
    deeper['entry'][1].resource.name[0].family = 'Someone Else';
    await expect(verifySummary(deeper, AT_ISSUER, trust)).rejects.toThrow(/does not match its content/);
    const { signature: _s, ...unsigned } = signed;
    await expect(verifySummary(unsigned, AT_ISSUER, trust)).rejects.toBeInstanceOf(SignatureRefused);
    await expect(verifySummary(signed, 'https://ncp.pt.demo.pontis.example', trust)).rejects.toThrow(/not signed by a key of its home node/);
    await expect(verifySummary({ ...signed, id: '\ud800' }, AT_ISSUER, trust)).rejects.toThrow(/canonical form/);
    await expect(verifySummary([signed], AT_ISSUER, trust)).rejects.toBeInstanceOf(SignatureRefused);
  });
});

describe('the worked example of docs/exchange.md', () => {
  const doc = readFileSync(`${projectRoot()}/docs/exchange.md`, 'utf8');
  const example = doc.slice(doc.indexOf('### Worked example'));
  const blocks = [...example.matchAll(/```(json|text)\n([\s\S]*?)\n```/g)].map((m) => m[2]!);
  const [received, compact, header, canonical] = [JSON.parse(blocks[0]!) as Json, blocks[1]!, JSON.parse(blocks[2]!) as Json, blocks[3]!];

  it('shows the canonical form, digest, header and JWS the code makes and accepts', async () => {
    expect(signedContent(received)).toBe(canonical);
    const digest = createHash('sha256').update(canonical, 'utf8').digest('base64url');
    expect(example).toContain(`Its SHA-256 (base64url): \`${digest}\``);
    expect(Buffer.from(received['signature'].data, 'base64').toString('utf8')).toBe(compact);
    expect(JSON.parse(Buffer.from(compact.split('.')[0]!, 'base64url').toString('utf8'))).toEqual(header);
    expect(header['sigT']).toBe(received['signature'].when);

    // AT's node signs the same canonical bytes with the same header to the same JWS (Ed25519 is deterministic).
    const again = await (await atKey()).signDetached(Buffer.from(canonical, 'utf8'), { sigT: String(header['sigT']), jku: String(header['jku']) });
    expect(again).toBe(compact);
    const trust = await TrustList.load(DEMO_TRUST_LIST);
    await expect(verifySummary(received, AT_ISSUER, trust)).resolves.toEqual({ signedAt: header['sigT'], canonical, digest, kid: header['kid'] });
    // The public key the document prints is AT's in the trust list.
    const printed = JSON.parse(/`(\{"kty":"OKP".*?\})`/.exec(example)![1]!) as Json;
    expect(trust.issuer(AT_ISSUER)?.keys.has(printed['kid'])).toBe(true);
  });
});
