import type { NodeIdentity } from './node-identity.js';
import type { PeerDirectory } from './peer-directory.js';

/** What a node needs to exchange summaries with its peers: who they are, and its own signing key. */
export interface Exchange {
  directory: PeerDirectory;
  identity: NodeIdentity;
}
