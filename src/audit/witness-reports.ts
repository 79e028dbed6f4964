import type { TrustList } from '../auth/trust-list.js';
import type { NodeIdentity } from '../exchange/node-identity.js';
import type { PeerDirectory } from '../exchange/peer-directory.js';
import type { CheckpointRepository } from '../repositories/checkpoint-repository.js';
import { CheckpointRefused, verifyCheckpoint, type AuditCheckpoint } from './audit-checkpoint.js';
import type { WitnessReport } from './audit-verification.js';
import { WitnessRefused, WitnessUnavailable, type WitnessClient } from './witness-client.js';

/** The heads held outside (and inside) the database, and the peers that could not say. */
export interface WitnessReports {
  /** One per peer that answered. */
  peers: WitnessReport[];
  /** This node's own stored checkpoints (in the database: a weak anchor, but signed). */
  stored: WitnessReport;
  /** Peers that gave no usable answer, each with why. */
  unreachable: { witness: string; reason: string }[];
  /** A stored checkpoint that does not verify as this node's: forged or altered in the database. */
  forgedStored?: { chain: string; seq: number; reason: string };
}

const PAGE = 1000;

/**
 * Asks every peer of the directory, at once, for the heads it witnessed for this node (each
 * signature checked), and reads the checkpoints this node stored, checking theirs too.
 */
export async function collectWitnessReports(
  client: WitnessClient,
  directory: PeerDirectory,
  trust: TrustList,
  identity: NodeIdentity,
  checkpoints: CheckpointRepository,
): Promise<WitnessReports> {
  const unreachable: WitnessReports['unreachable'] = [];
  const peers: WitnessReport[] = [];
  await Promise.all(
    directory.peers().map(async (peer) => {
      const witness = `${peer.country} (${peer.baseUrl})`;
      try {
        const { heads, equivocations } = await client.witnessedHeads(peer, trust);
        peers.push({ witness, heads, equivocations });
      } catch (error) {
        if (!(error instanceof WitnessUnavailable || error instanceof WitnessRefused)) throw error;
        unreachable.push({ witness, reason: error.message });
      }
    }),
  );
  peers.sort((a, b) => (a.witness < b.witness ? -1 : 1));
  unreachable.sort((a, b) => (a.witness < b.witness ? -1 : 1));
  const heads: AuditCheckpoint[] = [];
  let forgedStored: WitnessReports['forgedStored'];
  for (let after = ''; ; ) {
    const page = await checkpoints.page(after, PAGE);
    for (const stored of page) {
      try {
        const checkpoint = await verifyCheckpoint(stored.jws, trust);
        if (checkpoint.issuer !== identity.issuer || checkpoint.chain !== stored.chain || checkpoint.seq !== stored.seq) throw new CheckpointRefused('it is not the checkpoint of this node it is stored as');
        heads.push(checkpoint);
      } catch (error) {
        if (!(error instanceof CheckpointRefused)) throw error;
        forgedStored ??= { chain: stored.chain, seq: stored.seq, reason: error.message };
      }
    }
    if (page.length < PAGE) break;
    after = page[page.length - 1]!._id;
  }
  return { peers, stored: { witness: "this node's stored checkpoints", heads, equivocations: [] }, unreachable, ...(forgedStored ? { forgedStored } : {}) };
}
