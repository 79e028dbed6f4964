import Joi from 'joi';
import { decodeJws, jwtClaimsOf, verifyJws, type DecodedJws, type JwtClaims } from '../auth/jws.js';
import { ACCEPTED_ALGORITHMS, type TrustList } from '../auth/trust-list.js';
import type { NodeIdentity } from '../exchange/node-identity.js';

/**
 * `typ` of a signed audit checkpoint: a JWS with another `typ` (a token, a summary signature) is
 * never taken for one, and a checkpoint never for a token (it lacks `aud`, `exp`, `jti`, `scope`).
 */
export const CHECKPOINT_TYP = 'pontis-audit-checkpoint+jws';

/** Largest signed checkpoint accepted (its claims are a few hundred bytes). */
export const MAX_CHECKPOINT_BYTES = 4096;

/** The head of one audit chain as its node signed it: the chain's record `seq` has hash `hash`. */
export interface AuditCheckpoint {
  /** The node (peer-node issuer of the trust list) whose chain it is, and who signed it. */
  issuer: string;
  chain: string;
  seq: number;
  /** Hash of record `seq` of the chain, which commits to every record before it. */
  hash: string;
  /** When it was signed (seconds since the epoch). */
  issuedAt: number;
  /** The compact JWS itself, kept and passed on as evidence. */
  jws: string;
}

/** A chain head: what a checkpoint signs. */
export interface ChainHead {
  chain: string;
  seq: number;
  hash: string;
}

/** Chain names as `AuditTrail` makes them (`<host>-<pid>-<random>`). */
export const CHAIN_NAME = /^[A-Za-z0-9-]{1,80}$/;

const claimsSchema = Joi.object({
  iss: Joi.string().uri().max(512).required(),
  chain: Joi.string().pattern(CHAIN_NAME).required(),
  seq: Joi.number().integer().min(1).max(Number.MAX_SAFE_INTEGER).required(),
  hash: Joi.string().pattern(/^[0-9a-f]{64}$/).required(),
  iat: Joi.number().integer().min(0).required(),
}).prefs({ convert: false });

/** A checkpoint that proves nothing: its message says why (safe to send back and to log). */
export class CheckpointRefused extends Error {
  override name = 'CheckpointRefused';
  /** `malformed`: not a checkpoint at all; `untrusted`: not signed by a peer node's key. */
  constructor(
    message: string,
    readonly reason: 'malformed' | 'untrusted' = 'untrusted',
  ) {
    super(message);
  }
}

/** Signs `head` as this node's checkpoint of it. */
export async function signCheckpoint(identity: NodeIdentity, head: ChainHead, now = Date.now()): Promise<AuditCheckpoint> {
  const issuedAt = Math.floor(now / 1000);
  const jws = await identity.signStatement(CHECKPOINT_TYP, { iss: identity.issuer, chain: head.chain, seq: head.seq, hash: head.hash, iat: issuedAt });
  return { issuer: identity.issuer, chain: head.chain, seq: head.seq, hash: head.hash, issuedAt, jws };
}

/**
 * Verifies a signed checkpoint against the trust list: `typ`, an accepted asymmetric algorithm, an
 * issuer that is a peer node of the trust list, its key by `kid`, the signature, then the claims.
 * Throws {@link CheckpointRefused}.
 */
export async function verifyCheckpoint(jws: string, trust: TrustList): Promise<AuditCheckpoint> {
  if (typeof jws !== 'string' || jws.length > MAX_CHECKPOINT_BYTES) throw new CheckpointRefused(`a checkpoint is a compact JWS of at most ${MAX_CHECKPOINT_BYTES} bytes`, 'malformed');
  let decoded: DecodedJws;
  let unverified: JwtClaims;
  try {
    decoded = decodeJws(jws);
    unverified = jwtClaimsOf(decoded);
  } catch {
    throw new CheckpointRefused('the checkpoint is not a compact JWS over JSON', 'malformed');
  }
  const header = decoded.header;
  if (header['typ'] !== CHECKPOINT_TYP) throw new CheckpointRefused(`the JWS is not an audit checkpoint (typ must be ${CHECKPOINT_TYP})`, 'malformed');
  if (!(ACCEPTED_ALGORITHMS as readonly string[]).includes(String(header['alg']))) throw new CheckpointRefused(`signature algorithm ${JSON.stringify(header['alg'])} is not accepted`);
  const issuer = typeof unverified['iss'] === 'string' ? trust.issuer(unverified['iss']) : undefined;
  if (!issuer || issuer.kind !== 'peer-node') throw new CheckpointRefused('the checkpoint issuer is not a peer node of the trust list');
  const kid = header['kid'];
  const entry = typeof kid === 'string' ? issuer.keys.get(kid) : undefined;
  if (!entry || entry.alg !== header['alg']) throw new CheckpointRefused("no key of the checkpoint issuer has the checkpoint's kid and alg");
  try {
    verifyJws(decoded, entry, { algorithms: [entry.alg], typ: CHECKPOINT_TYP });
  } catch {
    throw new CheckpointRefused('the checkpoint signature does not verify');
  }
  // The claims read above, trusted now that the signature verifies.
  const { value, error } = claimsSchema.validate(unverified, { stripUnknown: true });
  if (error) throw new CheckpointRefused(`the checkpoint claims are invalid: ${error.message}`, 'malformed');
  const claims = value as { iss: string; chain: string; seq: number; hash: string; iat: number };
  return { issuer: claims.iss, chain: claims.chain, seq: claims.seq, hash: claims.hash, issuedAt: claims.iat, jws };
}
