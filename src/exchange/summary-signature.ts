import { createHash } from 'node:crypto';
import { flattenedVerify } from 'jose';
import type { TrustList } from '../auth/trust-list.js';
import type { NodeIdentity } from './node-identity.js';

/**
 * Summaries a home node sends to a peer are signed (docs/exchange.md): a detached JWS with
 * unencoded payload (RFC 7515 Appendix F, `b64: false`) over the UTF-8 bytes of the Bundle as
 * `JSON.stringify` writes it without `signature`, carried in `Bundle.signature` (`sigFormat`
 * `application/jose`, `data` the base64 of the compact detached JWS, `who` the home node). The
 * receiver removes `signature`, serialises the rest the same way (member order kept), and
 * verifies with the key the trust list holds for the home node's issuer.
 */

const SIGNATURE_TYPE = { system: 'urn:iso-astm:E1762-95:2013', code: '1.2.840.10065.1.12.1.5', display: 'Verification Signature' };

/** Where a node publishes the public keys its summaries are signed with (a JWK Set). */
export function signingKeysUrl(nodeBaseUrl: string): string {
  return `${nodeBaseUrl}/.well-known/jwks.json`;
}

/**
 * Appends `Bundle.signature` to serialised bytes (the stored form): no parse, no re-serialise.
 * The JWS header names the signing time (`sigT`, JAdES) and where the key `kid` is published
 * (`jku`, this node's JWK Set), so that a verifier outside the trust list can find it.
 */
export async function signSummary(bytes: Buffer, identity: NodeIdentity, nodeBaseUrl: string): Promise<Buffer> {
  // To the second, and the same in both places: verifiers compare `when` with `sigT` exactly.
  const signedAt = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const jws = await identity.signDetached(bytes, { sigT: signedAt, jku: signingKeysUrl(nodeBaseUrl) });
  const signature = {
    type: [SIGNATURE_TYPE],
    when: signedAt,
    who: { identifier: { system: 'urn:ietf:rfc:3986', value: nodeBaseUrl }, display: `Pontis node ${identity.country}` },
    sigFormat: 'application/jose',
    data: Buffer.from(jws, 'utf8').toString('base64'),
  };
  const end = bytes.lastIndexOf('}');
  return Buffer.concat([bytes.subarray(0, end), Buffer.from(`,"signature":${JSON.stringify(signature)}}`, 'utf8')]);
}

/** Why a received summary's signature was refused. */
export class SignatureRefused extends Error {
  override name = 'SignatureRefused';
}

/** A verified summary: when it was signed, the signed serialisation, and its SHA-256. */
export interface VerifiedSummary {
  signedAt: string;
  /** The Bundle without `signature`, as `JSON.stringify` writes it: what was signed. */
  canonical: string;
  /** SHA-256 of `canonical` (base64url). */
  digest: string;
}

/**
 * Verifies the signature of a summary received from the node whose issuer is `issuer`; resolves
 * to when it was signed and the signed serialisation (the Bundle without `signature`). Throws
 * {@link SignatureRefused} when missing, malformed, by another key, or not matching the content.
 * `verified` remembers content and signature pairs already verified: a home node reuses a signed
 * copy for a while, and the same pair verifies the same way again (the trust list does not
 * change while the node runs).
 */
export async function verifySummary(bundle: Record<string, unknown>, issuer: string, trust: TrustList, verified?: Set<string>): Promise<VerifiedSummary> {
  const { signature, ...content } = bundle;
  const sig = signature as { sigFormat?: string; data?: string; when?: string } | undefined;
  if (!sig || sig.sigFormat !== 'application/jose' || typeof sig.data !== 'string') throw new SignatureRefused('the summary carries no JWS signature');
  const compact = Buffer.from(sig.data, 'base64').toString('utf8');
  const [protectedHeader, empty, signatureValue] = compact.split('.');
  if (protectedHeader === undefined || empty !== '' || signatureValue === undefined) throw new SignatureRefused('the summary signature is not a detached JWS');
  const trusted = trust.issuer(issuer);
  let header: { kid?: string; alg?: string };
  try {
    header = JSON.parse(Buffer.from(protectedHeader, 'base64url').toString('utf8')) as { kid?: string; alg?: string };
  } catch {
    throw new SignatureRefused('the summary signature header is malformed');
  }
  const key = header.kid ? trusted?.keys.get(header.kid) : undefined;
  if (!key || key.alg !== header.alg) throw new SignatureRefused('the summary is not signed by a key of its home node');
  const canonical = JSON.stringify(content);
  const digest = createHash('sha256').update(canonical).digest('base64url');
  const pair = `${issuer}\n${compact}\n${digest}`;
  if (!verified?.has(pair)) {
    try {
      await flattenedVerify({ protected: protectedHeader, signature: signatureValue, payload: Buffer.from(canonical, 'utf8') }, key.key, {
        algorithms: [key.alg],
        crit: { b64: true },
      });
    } catch {
      throw new SignatureRefused('the summary signature does not match its content (altered in transit?)');
    }
    if (verified) {
      if (verified.size >= 10_000) verified.clear();
      verified.add(pair);
    }
  }
  return { signedAt: sig.when ?? '', canonical, digest };
}
