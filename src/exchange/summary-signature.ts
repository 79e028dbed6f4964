import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { Bundle, Signature } from 'fhir/r4.js';
import { decodeDetachedJws, verifyDetachedJws, type DecodedDetachedJws } from '../auth/jws.js';
import type { TrustList } from '../auth/trust-list.js';
import type { NodeIdentity } from './node-identity.js';

/**
 * Summaries a home node sends to a peer are signed (docs/exchange.md, "Signed summaries"): a
 * detached JWS with unencoded payload (RFC 7515 Appendix F, `b64: false`) over the UTF-8 bytes of
 * the Bundle without `signature` in its RFC 8785 canonical form (JCS: members sorted by UTF-16
 * code units, no whitespace, ECMAScript number and string forms), carried in `Bundle.signature`
 * (`sigFormat` `application/jose`, `data` the base64 of the compact detached JWS, `who` the home
 * node). Canonical, so that any node can verify what it received however it parses and
 * re-serialises JSON: the receiver removes `signature`, canonicalises the rest and verifies with
 * the key the trust list holds for the home node's issuer.
 */

const SIGNATURE_TYPE = { system: 'urn:iso-astm:E1762-95:2013', code: '1.2.840.10065.1.12.1.5', display: 'Verification Signature' };

/** Where a node publishes the public keys its summaries are signed with (a JWK Set). */
export function signingKeysUrl(nodeBaseUrl: string): string {
  return `${nodeBaseUrl}/.well-known/jwks.json`;
}

/** Why a received summary's signature was refused. */
export class SignatureRefused extends Error {
  override name = 'SignatureRefused';
}

/**
 * The RFC 8785 canonical form of a JSON value (the `canonicalize` package, by one of the RFC's
 * authors). Throws on what JCS cannot represent (a lone surrogate in a string, a number that is
 * not finite).
 */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new Error('nothing to canonicalise');
  return text;
}

/** What a summary's signature covers: its Bundle without `signature`, canonical (RFC 8785), as UTF-8. */
export function signedContent(bundle: object): string {
  const { signature: _signature, ...content } = bundle as { signature?: unknown };
  return canonicalJson(content);
}

/** The SHA-256 (base64url) of a summary's signed canonical content: its identity, whatever its serialisation. */
export function contentDigest(canonical: Buffer): string {
  return createHash('sha256').update(canonical).digest('base64url');
}

/**
 * The strong HTTP entity tag of a signed summary as sent to peers: its {@link contentDigest}, so
 * that it names the signed content (not the signing time) and a peer can name a copy it verified
 * in `If-None-Match` with the digest it computed itself.
 */
export function summaryEntityTag(digest: string): string {
  return `"${digest}"`;
}

/** A signed summary as sent: its bytes, and the digest of the content its signature covers. */
export interface SignedSummary {
  bytes: Buffer;
  digest: string;
}

/**
 * Appends `Bundle.signature` to serialised bytes (the stored form, a Bundle without signature);
 * what is sent is those bytes with the signature, never re-serialised. The JWS is over the
 * canonical form of the same content. Its header names the signing time (`sigT`, JAdES) and where
 * the key `kid` is published (`jku`, this node's JWK Set), so that a verifier outside the trust
 * list can find it.
 */
export async function signSummary(bytes: Buffer, identity: NodeIdentity, nodeBaseUrl: string): Promise<Buffer> {
  return (await signedSummary(bytes, identity, nodeBaseUrl)).bytes;
}

/** {@link signSummary}, with the {@link contentDigest} of what was signed (computed from the same canonical bytes). */
export async function signedSummary(bytes: Buffer, identity: NodeIdentity, nodeBaseUrl: string): Promise<SignedSummary> {
  // To the second, and the same in both places: verifiers compare `when` with `sigT` exactly.
  const signedAt = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const payload = Buffer.from(signedContent(JSON.parse(bytes.toString('utf8')) as Bundle), 'utf8');
  const jws = await identity.signDetached(payload, { sigT: signedAt, jku: signingKeysUrl(nodeBaseUrl) });
  const signature: Signature = {
    type: [SIGNATURE_TYPE],
    when: signedAt,
    who: { identifier: { system: 'urn:ietf:rfc:3986', value: nodeBaseUrl }, display: `Pontis node ${identity.country}` },
    sigFormat: 'application/jose',
    data: Buffer.from(jws, 'utf8').toString('base64'),
  };
  const end = bytes.lastIndexOf('}');
  return { bytes: Buffer.concat([bytes.subarray(0, end), Buffer.from(`,"signature":${JSON.stringify(signature)}}`, 'utf8')]), digest: contentDigest(payload) };
}

/** A verified summary: when it was signed, the signed canonical form, and its SHA-256. */
export interface VerifiedSummary {
  signedAt: string;
  /** The Bundle without `signature` in its RFC 8785 canonical form: what was signed. */
  canonical: string;
  /** SHA-256 of `canonical` (base64url): the content's identity, whatever its serialisation. */
  digest: string;
  /** The home node's key that signed it (`kid`): a copy passed on later is passed on only while the trust list still holds it. */
  kid: string;
}

/**
 * Verifies the signature of a summary received from the node whose issuer is `issuer` (`bundle`
 * as parsed from what arrived, nothing about it assumed); resolves to when it was signed and the
 * signed canonical form. Throws {@link SignatureRefused} when missing, malformed, by another key,
 * or not matching the content.
 */
export async function verifySummary(bundle: unknown, issuer: string, trust: TrustList): Promise<VerifiedSummary> {
  if (bundle === null || typeof bundle !== 'object' || Array.isArray(bundle)) throw new SignatureRefused('the summary is not a JSON object');
  const sig = (bundle as { signature?: unknown }).signature as { sigFormat?: unknown; data?: unknown; when?: unknown } | undefined;
  if (!sig || sig.sigFormat !== 'application/jose' || typeof sig.data !== 'string') throw new SignatureRefused('the summary carries no JWS signature');
  const compact = Buffer.from(sig.data, 'base64').toString('utf8');
  const [protectedHeader, empty, signatureValue, more] = compact.split('.');
  if (protectedHeader === undefined || empty !== '' || signatureValue === undefined || more !== undefined) throw new SignatureRefused('the summary signature is not a detached JWS');
  const trusted = trust.issuer(issuer);
  let jws: DecodedDetachedJws;
  try {
    jws = decodeDetachedJws(compact);
  } catch {
    throw new SignatureRefused('the summary signature header is malformed');
  }
  const kid = jws.header['kid'];
  const key = typeof kid === 'string' ? trusted?.keys.get(kid) : undefined;
  if (!key || key.alg !== jws.header['alg']) throw new SignatureRefused('the summary is not signed by a key of its home node');
  let canonical: string;
  try {
    canonical = signedContent(bundle);
  } catch {
    throw new SignatureRefused('the summary cannot be put in canonical form (RFC 8785)');
  }
  const payload = Buffer.from(canonical, 'utf8');
  try {
    verifyDetachedJws(jws, payload, key, { algorithms: [key.alg] });
  } catch {
    throw new SignatureRefused('the summary signature does not match its content (altered in transit?)');
  }
  return { signedAt: typeof sig.when === 'string' ? sig.when : '', canonical, digest: contentDigest(payload), kid: kid as string };
}
