import { createHash } from 'node:crypto';
import { checkJwtClaims, decodeJws, jwtClaimsOf, JwsRefused, JwtClaimRefused, verifyJws, type DecodedJws, type JwtClaims } from './jws.js';
import { ISCO_08, type IssuerKind, type PurposeOfUse, type Requester } from './requester.js';
import { intersectScopes, parseScopes } from './scopes.js';
import { ACCEPTED_ALGORITHMS, type TrustList } from './trust-list.js';

/** A token that does not authenticate its bearer: the reason goes into a 401 OperationOutcome. */
export class TokenRefused extends Error {
  override name = 'TokenRefused';
  /** 401 when the token proves nothing; 403 when a trusted issuer may not act at this node. */
  constructor(
    message: string,
    readonly status: 401 | 403 = 401,
  ) {
    super(message);
  }
}

/** Remembers token ids until they expire, so that each token is used once (IUA). */
export interface ReplayGuard {
  /** Resolves to false when `jti` of `issuer` was already seen. */
  firstUse(issuer: string, jti: string, expiresAt: Date): Promise<boolean>;
}

/**
 * How a token's use is named where it is claimed (`claims`, or the audit record of the
 * request): sha256 of issuer and jti, since the token id is the issuer's, not ours to keep verbatim.
 */
export function tokenUseId(issuer: string, jti: string): string {
  return createHash('sha256').update(issuer).update('\n').update(jti).digest('base64url');
}

/** Tokens whose single use is claimed by their request's audit record, not up front. */
const claimedByAudit = new WeakMap<Requester, string>();

/**
 * The token use the audit record of this requester's request must claim (unique), when the
 * token was not claimed up front: a token that cannot write (its SMART scopes grant no create,
 * update or delete). Such a request changes nothing before its record, and its record is
 * durable before its response, so the record's unique insert is the single-use check: a replay
 * at any instance is refused before anything leaves. Undefined: the token was claimed up front.
 * Routes that write no audit record must refuse such a token (the audit plugin does).
 */
export function auditClaimOf(requester: Requester): string | undefined {
  return claimedByAudit.get(requester);
}

/** Write tokens whose single-use claim {@link TokenVerifier.verify} left to their route: each starts it once. */
const claimDeferred = new WeakMap<Requester, () => Promise<void>>();

/**
 * The single-use claim of a write token that {@link TokenVerifier.verify} left to its route
 * (`deferWriteClaim`), sent by the first call (later calls get the same claim): it rejects with
 * {@link TokenRefused} on a replay. The route's handler calls it in the same turn as its own
 * first insert, so that both go to the server as one command, and awaits it before it changes
 * anything that a replay must not change, and before it answers; whatever answers a request
 * whose handler did not call it calls it then. Undefined: the token was claimed before `verify`
 * returned, or by its audit record.
 */
export function writeClaimOf(requester: Requester): Promise<void> | undefined {
  return claimDeferred.get(requester)?.();
}

/** Whether the scopes let their bearer change nothing: at least one SMART scope, none with c, u or d. */
function cannotWrite(requester: Requester): boolean {
  return requester.scopes.length > 0 && requester.scopes.every((s) => !s.permissions.has('c') && !s.permissions.has('u') && !s.permissions.has('d'));
}

/** Why a token used a second time is refused (401), wherever the replay is caught. */
export const TOKEN_REPLAYED = 'this token was already used (jti): each token is good for one request';

/** Longest token lifetime accepted: bounds how long a stolen token is worth anything. */
export const MAX_TOKEN_LIFETIME_S = 3600;
const CLOCK_TOLERANCE_S = 30;
const BASE_CLAIMS = ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'scope', 'client_id'] as const;
const USER_IUA_CLAIMS = ['subject_name', 'subject_role', 'subject_organization', 'subject_organization_id', 'purpose_of_use', 'home_community_id'] as const;
const PURPOSES: ReadonlySet<string> = new Set<PurposeOfUse>(['TREAT', 'ETREAT', 'BTG', 'PATRQT', 'HOPERAT']);

/** A coded IUA claim: `{system, code}` as IUA writes it, or the bare code. */
function codeOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object') {
    const code = (value as Record<string, unknown>)['code'];
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/**
 * The ISCO-08 code of `subject_role`: a Coding whose system is ISCO-08. A code of another
 * system (or none) is refused, however much it looks like one: policies and consents name
 * ISCO-08 roles only.
 */
function roleOf(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const coding = value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  const code = coding?.['code'];
  if (coding?.['system'] !== ISCO_08 || typeof code !== 'string' || !/^\d{1,4}$/.test(code)) {
    throw new TokenRefused(`subject_role must be an ISCO-08 Coding (system ${ISCO_08}, code of 1 to 4 digits)`);
  }
  return code;
}

function text(value: unknown, claim: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 512) throw new TokenRefused(`claim ${claim} must be a non-empty string`);
  return value;
}

/** Countries each kind of issuer may act from, relative to this node's country. */
function mayActHere(kind: IssuerKind, issuerCountry: string, nodeCountry: string): boolean {
  // Hospital systems, identity providers and operators serve their own country's node; a peer
  // node speaks for another country's clinicians.
  return kind === 'peer-node' ? issuerCountry !== nodeCountry : issuerCountry === nodeCountry;
}

/**
 * Verifies IHE IUA bearer tokens against the trust list: asymmetric signature by a key of the
 * claimed issuer (selected by `kid`), this node as audience, validity window, required claims,
 * single use of `jti`; and turns the claims into a {@link Requester}.
 */
export class TokenVerifier {
  constructor(
    private readonly trust: TrustList,
    private readonly audience: string,
    private readonly nodeCountry: string,
    private readonly replay: ReplayGuard,
  ) {}

  /**
   * The requester a compact JWS token authenticates; throws {@link TokenRefused}.
   * `deferWriteClaim`: a write token's single use is claimed by the route, through
   * {@link writeClaimOf} (its claim then goes out with the route's own first write, one command).
   */
  async verify(token: string, options: { deferWriteClaim?: boolean } = {}): Promise<Requester> {
    let jws: DecodedJws;
    let payload: JwtClaims;
    try {
      jws = decodeJws(token);
      payload = jwtClaimsOf(jws);
    } catch {
      throw new TokenRefused('the bearer token is not a signed JWT');
    }
    const header = jws.header;
    if (!(ACCEPTED_ALGORITHMS as readonly string[]).includes(String(header['alg']))) {
      throw new TokenRefused(`signature algorithm ${JSON.stringify(header['alg'])} is not accepted; use ${ACCEPTED_ALGORITHMS.join(', ')}`);
    }
    if (typeof payload['iss'] !== 'string') throw new TokenRefused('claim iss is required');
    const issuer = this.trust.issuer(payload['iss']);
    if (!issuer) throw new TokenRefused('the token issuer is not in this node\'s trust list');
    const kid = header['kid'];
    const entry = typeof kid === 'string' ? issuer.keys.get(kid) : undefined;
    if (!entry) throw new TokenRefused('no key of this issuer has the token\'s kid');
    if (entry.alg !== header['alg']) throw new TokenRefused(`the key ${String(kid)} signs with ${entry.alg}, not ${String(header['alg'])}`);

    try {
      // The claims were read once above; they are trusted only from here, once the signature verifies.
      verifyJws(jws, entry, { algorithms: [entry.alg] });
      checkJwtClaims(payload, {
        issuer: issuer.issuer,
        audience: this.audience,
        clockToleranceS: CLOCK_TOLERANCE_S,
        requiredClaims: BASE_CLAIMS,
        maxAgeS: MAX_TOKEN_LIFETIME_S + CLOCK_TOLERANCE_S,
      });
    } catch (error) {
      throw new TokenRefused(this.explain(error));
    }
    const exp = payload['exp'] as number;
    const iat = payload['iat'] as number;
    if (exp - iat > MAX_TOKEN_LIFETIME_S) throw new TokenRefused(`token lifetime exceeds ${MAX_TOKEN_LIFETIME_S} s`);
    const requester = this.requesterOf(payload, issuer.kind, issuer.country, issuer.may);
    if (!mayActHere(issuer.kind, issuer.country, this.nodeCountry)) {
      throw new TokenRefused(`a ${issuer.kind} of ${issuer.country} may not act at the node of ${this.nodeCountry}`, 403);
    }
    if (cannotWrite(requester)) {
      // Claimed by the request's audit record (one insert instead of two): see auditClaimOf.
      claimedByAudit.set(requester, tokenUseId(issuer.issuer, requester.tokenId));
    } else {
      const claim = (): Promise<void> =>
        this.replay.firstUse(issuer.issuer, requester.tokenId, new Date((exp + CLOCK_TOLERANCE_S) * 1000)).then((first) => {
          if (!first) throw new TokenRefused(TOKEN_REPLAYED);
        });
      if (!options.deferWriteClaim) {
        await claim();
      } else {
        let sent: Promise<void> | undefined;
        claimDeferred.set(requester, () => {
          if (!sent) {
            sent = claim();
            // Settled by whoever asked for it; a caller that stops before awaiting it must not leave an unhandled rejection.
            sent.catch(() => undefined);
          }
          return sent;
        });
      }
    }
    return requester;
  }

  private requesterOf(payload: JwtClaims, kind: IssuerKind, issuerCountry: string, may: Parameters<typeof intersectScopes>[1]): Requester {
    const scopes = intersectScopes(parseScopes(text(payload['scope'], 'scope')), may);
    const contexts = new Set(scopes.map((s) => s.context));
    if (contexts.size > 1) throw new TokenRefused('the token mixes system, user and patient scopes');
    const context = [...contexts][0] ?? 'system';
    const base: Requester = {
      issuer: payload['iss'] as string,
      issuerKind: kind,
      subject: text(payload['sub'], 'sub'),
      clientId: text(payload['client_id'], 'client_id'),
      tokenId: text(payload['jti'], 'jti'),
      country: issuerCountry,
      scopes,
      context,
    };
    const extensions = payload['extensions'];
    const iua =
      extensions !== null && typeof extensions === 'object' ? (extensions as Record<string, unknown>)['ihe_iua'] : undefined;
    const claims = iua !== null && typeof iua === 'object' ? (iua as Record<string, unknown>) : undefined;
    if (context === 'user') {
      if (!claims) throw new TokenRefused('claim extensions.ihe_iua is required for a user token');
      for (const c of USER_IUA_CLAIMS) if (claims[c] === undefined) throw new TokenRefused(`claim extensions.ihe_iua.${c} is required`);
    }
    if (context === 'patient' && claims?.['person_id'] === undefined) {
      throw new TokenRefused('claim extensions.ihe_iua.person_id is required for a patient token');
    }
    if (!claims) return base;
    const role = roleOf(claims['subject_role']);
    const purpose = codeOf(claims['purpose_of_use']);
    if (purpose !== undefined && !PURPOSES.has(purpose)) throw new TokenRefused(`purpose_of_use ${JSON.stringify(purpose)} is not one of ${[...PURPOSES].join(', ')}`);

    const country = claims['home_community_id'] === undefined ? issuerCountry : text(claims['home_community_id'], 'home_community_id').replace(/^urn:oid:/, '');
    if (kind === 'peer-node' && country !== issuerCountry) throw new TokenRefused(`a node of ${issuerCountry} cannot speak for requesters of ${country}`, 403);
    const personId = claims['person_id'] === undefined ? undefined : text(claims['person_id'], 'person_id');
    if (personId !== undefined && !/^[^|]+\|[^|]+$/.test(personId)) throw new TokenRefused('person_id must be system|value');
    const pontis = (extensions as Record<string, unknown>)['pontis'];
    const reason =
      pontis !== null && typeof pontis === 'object' ? (pontis as Record<string, unknown>)['break_glass_reason'] : undefined;
    return {
      ...base,
      country,
      ...(claims['subject_name'] === undefined ? {} : { name: text(claims['subject_name'], 'subject_name') }),
      ...(role === undefined ? {} : { role }),
      ...(claims['subject_organization'] === undefined ? {} : { organization: text(claims['subject_organization'], 'subject_organization') }),
      ...(claims['subject_organization_id'] === undefined ? {} : { organizationId: text(claims['subject_organization_id'], 'subject_organization_id') }),
      ...(purpose === undefined ? {} : { purpose: purpose as PurposeOfUse }),
      // A reason of only white space is no reason: break-glass without one is refused.
      ...(typeof reason === 'string' && reason.trim().length > 0 ? { breakGlassReason: reason.trim().slice(0, 512) } : {}),
      ...(personId === undefined ? {} : { personId }),
    };
  }

  /** The reason a client is given for a token whose signature or claims failed (the same texts as when jose checked them). */
  private explain(error: unknown): string {
    if (error instanceof JwtClaimRefused) {
      if (error.reason === 'expired') return 'the token has expired';
      if (error.reason === 'missing') return `claim ${error.claim} is required`;
      switch (error.claim) {
        case 'aud':
          return 'the token is not meant for this node (aud)';
        case 'nbf':
          return 'the token is not valid yet (nbf)';
        case 'iat':
          return 'the token was issued in the future or too long ago (iat)';
        default:
          return `claim ${error.claim} is invalid`;
      }
    }
    if (error instanceof JwsRefused && error.reason === 'signature') return 'the token signature does not verify';
    if (error instanceof JwsRefused && error.reason === 'algorithm') return 'the token signature algorithm is not accepted';
    return 'the token is invalid';
  }
}
