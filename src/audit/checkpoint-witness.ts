import type { Logger } from 'pino';
import type { Requester } from '../auth/requester.js';
import type { TrustList } from '../auth/trust-list.js';
import { fhirError } from '../fhir/operation-outcome.js';
import type { Equivocation, WitnessedHead, WitnessOutcome, WitnessRepository } from '../repositories/witness-repository.js';
import { CheckpointRefused, verifyCheckpoint } from './audit-checkpoint.js';

/** FHIRPath of the checkpoint in the body of `$audit-checkpoint`. */
export const CHECKPOINT_PARAMETER = "Parameters.parameter.where(name = 'checkpoint').value";

/** Heads witnessed for a node, a page at a time; equivocations with the first page. */
export interface WitnessedPage {
  heads: WitnessedHead[];
  equivocations: Equivocation[];
  /** Cursor of the next page, when there may be one. */
  next?: string;
}

/** Most equivocations sent back at once: one is already proof enough. */
const EQUIVOCATIONS_SHOWN = 100;

/**
 * This node as a witness of its peers' audit trails: it takes their signed checkpoints, checks
 * them against the trust list, and keeps every head it has seen (certificate-transparency
 * gossip), so that a node whose database was rewritten cannot deny the heads it signed before.
 * Only a peer node, in its own name (system context, not on a clinician's behalf), submits
 * checkpoints, and of its own chains only; it reads back the heads witnessed for it alone.
 */
export class CheckpointWitness {
  constructor(
    private readonly repository: WitnessRepository,
    private readonly trust: TrustList,
    private readonly logger: Logger,
  ) {}

  /** Witnesses one signed checkpoint; 409 when it contradicts a head witnessed before. */
  async receive(jws: string, requester: Requester, requestId: string): Promise<Exclude<WitnessOutcome, 'equivocation'>> {
    requirePeerNode(requester);
    let checkpoint;
    try {
      checkpoint = await verifyCheckpoint(jws, this.trust);
    } catch (error) {
      if (!(error instanceof CheckpointRefused)) throw error;
      const malformed = error.reason === 'malformed';
      throw fhirError(malformed ? 400 : 403, { code: malformed ? 'invalid' : 'security', expression: CHECKPOINT_PARAMETER, message: `checkpoint refused: ${error.message}` });
    }
    if (checkpoint.issuer !== requester.issuer) {
      throw fhirError(403, { code: 'forbidden', expression: CHECKPOINT_PARAMETER, message: 'a node submits checkpoints of its own audit chains only' });
    }
    const outcome = await this.repository.witness(checkpoint);
    if (outcome === 'equivocation') {
      // Not patient data: which node, which chain (host-pid-random), which position.
      this.logger.error({ requestId, issuer: checkpoint.issuer, chain: checkpoint.chain, seq: checkpoint.seq }, 'audit checkpoint EQUIVOCATION: a second, different head signed for a position already witnessed; both kept as evidence');
      throw fhirError(409, {
        code: 'conflict',
        expression: CHECKPOINT_PARAMETER,
        message: `a different head of chain ${checkpoint.chain} at record ${checkpoint.seq} was witnessed before: both signed checkpoints are kept as evidence of equivocation`,
      });
    }
    return outcome;
  }

  /** The heads witnessed for the requesting node after `after`, and the equivocations caught. */
  async witnessedFor(requester: Requester, after: string | undefined, count: number): Promise<WitnessedPage> {
    requirePeerNode(requester);
    const heads = await this.repository.headsOf(requester.issuer, after, count);
    const equivocations = after === undefined ? await this.repository.equivocationsOf(requester.issuer, EQUIVOCATIONS_SHOWN) : [];
    const last = heads[heads.length - 1];
    return { heads, equivocations, ...(heads.length === count && last ? { next: last._id.slice(requester.issuer.length + 1) } : {}) };
  }
}

function requirePeerNode(requester: Requester): void {
  if (requester.issuerKind !== 'peer-node' || requester.context !== 'system') {
    throw fhirError(403, { code: 'forbidden', message: 'audit checkpoints are exchanged between peer nodes, each with a token in its own name' });
  }
}
