import type { Logger } from 'pino';
import type { TrustList } from '../auth/trust-list.js';
import type { NodeConfig } from '../config.js';
import type { NodeIdentity } from '../exchange/node-identity.js';
import type { PeerDirectory } from '../exchange/peer-directory.js';
import type { Store } from '../repositories/store.js';
import { AuditCheckpointer } from './audit-checkpointer.js';
import { CheckpointGossip } from './checkpoint-gossip.js';
import { CheckpointWitness } from './checkpoint-witness.js';
import { WitnessClient } from './witness-client.js';

/** The audit trail's anchor outside the database, for a node that has peers. */
export interface AuditAnchoring {
  /** Signs this node's chain heads and sends them to the peers (absent without peers). */
  checkpointer: AuditCheckpointer | undefined;
  /** Witnesses the peers' checkpoints (absent without peers). */
  witness: CheckpointWitness | undefined;
  /** The last checkpoint signed, stored and offered to the peers (bounded by the peer timeout). */
  close(): Promise<void>;
}

/**
 * Builds the anchoring of the audit trail (docs/security.md, "Anchoring the audit trail"): this
 * node's checkpoints go to every peer of the directory, and the peers' come to its witness
 * routes. Without a peer directory and node key there is nothing to anchor to.
 */
export function auditAnchoring({
  config,
  store,
  logger,
  trust,
  exchange,
}: {
  config: NodeConfig;
  store: Store;
  logger: Logger;
  trust: TrustList | undefined;
  exchange: { directory: PeerDirectory; identity: NodeIdentity } | undefined;
}): AuditAnchoring {
  if (!exchange || !trust) return { checkpointer: undefined, witness: undefined, close: async () => {} };
  const client = new WitnessClient(exchange.identity, { timeoutMs: config.peerTimeoutMs, maxBytes: config.maxPayloadBytes });
  const gossip = new CheckpointGossip(exchange.directory.peers(), client, logger);
  const checkpointer = new AuditCheckpointer(exchange.identity, store.checkpoints, gossip, config.auditCheckpoint, logger);
  checkpointer.resendStored();
  return {
    checkpointer,
    witness: new CheckpointWitness(store.witnessed, trust, logger),
    async close() {
      await checkpointer.close();
      await gossip.close(config.peerTimeoutMs);
      logger.info({ ...gossip.counts, undelivered: gossip.pending }, 'audit checkpoints: witnessing at shutdown');
    },
  };
}
