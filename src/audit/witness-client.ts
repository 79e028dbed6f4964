import { randomUUID } from 'node:crypto';
import type { TrustList } from '../auth/trust-list.js';
import type { NodeIdentity } from '../exchange/node-identity.js';
import type { PeerNode } from '../exchange/peer-directory.js';
import { childTraceparent } from '../plugins/tracing.js';
import { CheckpointRefused, verifyCheckpoint, type AuditCheckpoint } from './audit-checkpoint.js';

/**
 * `scope` of the tokens of witnessing calls. Not a SMART resource scope (none covers them): the
 * witness routes admit peer-node issuers in their own name, and the checkpoint's signature.
 */
export const WITNESS_SCOPE = 'pontis/audit-witness';

/** A witness that gave no usable answer (down, slow, 5xx, not FHIR, too large, unverifiable heads). */
export class WitnessUnavailable extends Error {
  override name = 'WitnessUnavailable';
}

/** A witness that refused the call (4xx other than an equivocation): its reason, as it gave it. */
export class WitnessRefused extends Error {
  override name = 'WitnessRefused';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** Two different heads signed for one chain position, as a witness caught them. */
export interface EquivocationEvidence {
  witnessed: AuditCheckpoint;
  contradicting: AuditCheckpoint;
}

/** What one peer witnessed of this node's chains, every signature checked. */
export interface WitnessedByPeer {
  heads: AuditCheckpoint[];
  equivocations: EquivocationEvidence[];
}

/** Limits of witnessing calls. */
export interface WitnessCallLimits {
  timeoutMs: number;
  /** Largest answer read (bytes). */
  maxBytes: number;
}

/** A witness's answer: a JSON object naming a resource type, its members as the peer wrote them. */
type WitnessAnswer = { resourceType: string } & Record<string, unknown>;
/** A Parameters.parameter as a peer wrote it: read member by member, nothing assumed. */
type Parameter = { name?: unknown; valueString?: unknown; valueCode?: unknown; part?: Parameter[] };

/** Most pages of heads read from one witness (a million heads): a witness cannot keep us paging. */
const MAX_PAGES = 1000;

/**
 * Calls to the peers' witness routes in this node's own name (a fresh single-use token per
 * call): submitting a signed checkpoint, reading back the heads a peer witnessed for this node.
 * Nothing here logs; failures are errors that name the peer and never hold a token.
 */
export class WitnessClient {
  constructor(
    private readonly identity: NodeIdentity,
    private readonly limits: WitnessCallLimits,
  ) {}

  /** Hands `checkpoint` to `peer`; resolves to `witnessed`, or `equivocation` (409: already kept). */
  async submit(peer: PeerNode, checkpoint: AuditCheckpoint): Promise<'witnessed' | 'equivocation'> {
    const body = JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'checkpoint', valueString: checkpoint.jws }] });
    const { status, json } = await this.call(peer, 'POST', '$audit-checkpoint', body);
    if (status === 200) return 'witnessed';
    if (status === 409) return 'equivocation';
    throw refusal(peer, status, json);
  }

  /** Every head `peer` witnessed for this node, and any equivocation it caught; each signature verified. */
  async witnessedHeads(peer: PeerNode, trust: TrustList): Promise<WitnessedByPeer> {
    const result: WitnessedByPeer = { heads: [], equivocations: [] };
    let after: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const { status, json } = await this.call(peer, 'GET', `$audit-heads${after === undefined ? '' : `?after=${encodeURIComponent(after)}`}`);
      if (status !== 200 || json?.['resourceType'] !== 'Parameters') throw refusal(peer, status, json);
      let next: string | undefined;
      for (const p of (json['parameter'] as Parameter[] | undefined) ?? []) {
        if (p.name === 'head') result.heads.push(await this.own(peer, p.valueString, trust));
        else if (p.name === 'equivocation') {
          const part = (name: string) => p.part?.find((x) => x.name === name)?.valueString;
          result.equivocations.push({ witnessed: await this.own(peer, part('witnessed'), trust), contradicting: await this.own(peer, part('contradicting'), trust) });
        } else if (p.name === 'next' && typeof p.valueString === 'string') next = p.valueString;
      }
      if (next === undefined) return result;
      if (after !== undefined && next <= after) throw new WitnessUnavailable(`${nameOf(peer)} answered a page cursor that does not advance`);
      after = next;
    }
    throw new WitnessUnavailable(`${nameOf(peer)} answered more than ${MAX_PAGES} pages of heads`);
  }

  /** A checkpoint a witness returned: it must verify, and be this node's. */
  private async own(peer: PeerNode, jws: unknown, trust: TrustList): Promise<AuditCheckpoint> {
    try {
      const checkpoint = await verifyCheckpoint(String(jws), trust);
      if (checkpoint.issuer !== this.identity.issuer) throw new CheckpointRefused('it is not a checkpoint of this node');
      return checkpoint;
    } catch (error) {
      if (!(error instanceof CheckpointRefused)) throw error;
      throw new WitnessUnavailable(`${nameOf(peer)} returned a head that does not verify (${error.message})`);
    }
  }

  private async call(peer: PeerNode, method: 'GET' | 'POST', operation: string, body?: string): Promise<{ status: number; json: WitnessAnswer | undefined }> {
    const url = `${peer.baseUrl}/${operation}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${await this.identity.asNode(peer.baseUrl, WITNESS_SCOPE)}`,
          accept: 'application/fhir+json',
          // Uncompressed, so that the size limit bounds what is decoded.
          'accept-encoding': 'identity',
          'x-request-id': `audit-witness-${randomUUID()}`,
          // Off any request's path: each call starts a trace of its own (W3C trace context on every peer call).
          traceparent: childTraceparent(undefined),
          ...(body === undefined ? {} : { 'content-type': 'application/fhir+json' }),
        },
        ...(body === undefined ? {} : { body }),
        signal: AbortSignal.timeout(this.limits.timeoutMs),
        redirect: 'error',
      });
    } catch (error) {
      const timedOut = (error as { name?: string }).name === 'TimeoutError';
      throw new WitnessUnavailable(`${nameOf(peer)} ${timedOut ? `did not answer within ${this.limits.timeoutMs} ms` : 'cannot be reached'}`);
    }
    const text = await readLimited(response, this.limits.maxBytes).catch(() => undefined);
    if (text === undefined) throw new WitnessUnavailable(`${nameOf(peer)} answered more than ${this.limits.maxBytes} bytes, or broke off`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const object = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
    if (response.status >= 500 || object === undefined || typeof object['resourceType'] !== 'string') {
      throw new WitnessUnavailable(`${nameOf(peer)} answered HTTP ${response.status}${object === undefined ? ', not FHIR' : ''}`);
    }
    return { status: response.status, json: object as WitnessAnswer };
  }
}

function nameOf(peer: PeerNode): string {
  return `the node of ${peer.country} (${peer.baseUrl})`;
}

function refusal(peer: PeerNode, status: number, json: WitnessAnswer | undefined): Error {
  const issue = (json?.['issue'] as Array<{ diagnostics?: unknown } | undefined> | undefined)?.[0];
  const reason = typeof issue?.diagnostics === 'string' ? issue.diagnostics.slice(0, 300) : 'no reason given';
  if (status >= 400 && status < 500) return new WitnessRefused(`${nameOf(peer)} refused (HTTP ${status}): ${reason}`, status);
  return new WitnessUnavailable(`${nameOf(peer)} answered HTTP ${status} unexpectedly`);
}

/** The body as text, reading no more than `maxBytes`; rejects beyond that. */
async function readLimited(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new Error('too large');
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
