import { tokenUseId, type ReplayGuard } from '../auth/token-verifier.js';
import type { DocumentCollection, DocumentDatabase } from './document-collection.js';
import { GroupWriter } from './group-writer.js';

interface TokenUse {
  /** sha256 of issuer and jti: the token id is the issuer's, not ours to keep verbatim. */
  _id: string;
  expiresAt: Date;
}

const SWEEP_INTERVAL_MS = 60_000;


/**
 * Token ids seen, until the token expires. Kept in the database, so that instances sharing it
 * refuse a token replayed to any of them: the insert of the id is the atomic check. Inserts of
 * concurrent requests go out together.
 */
export class TokenUseRepository implements ReplayGuard {
  private readonly uses: DocumentCollection<TokenUse>;
  /** Inserts of concurrent requests go out together; each learns whether its own went in. */
  private readonly batcher: GroupWriter<TokenUse, boolean>;
  private nextSweep = 0;
  constructor(database: DocumentDatabase) {
    this.uses = database.collection<TokenUse>('token_uses');
    this.batcher = new GroupWriter((docs) => this.uses.insertEach(docs));
  }

  async firstUse(issuer: string, jti: string, expiresAt: Date): Promise<boolean> {
    const now = Date.now();
    if (now >= this.nextSweep) {
      this.nextSweep = now + SWEEP_INTERVAL_MS;
      // Expired ids can never be replayed (the token is refused as expired first).
      void this.uses.deleteMany({ expiresAt: { $lt: new Date(now) } }).catch(() => undefined);
    }
    return this.batcher.submit({ _id: tokenUseId(issuer, jti), expiresAt });
  }
}
