import { tokenUseId, type ReplayGuard } from '../auth/token-verifier.js';
import { CLAIMS, type TokenUse } from './claims.js';
import { DuplicateKeyError, type DocumentCollection, type DocumentDatabase } from './document-collection.js';

const SWEEP_INTERVAL_MS = 60_000;

/**
 * Token ids seen, until the token expires. Kept in the database, so that instances sharing it
 * refuse a token replayed to any of them: the insert of the id is the atomic check. Kept among
 * the {@link CLAIMS}, so that a push's token claim and its patient identifier's claim, made in
 * the same turn, go out as one insert (as do the claims of concurrent requests).
 */
export class TokenUseRepository implements ReplayGuard {
  private readonly uses: DocumentCollection<TokenUse>;
  /** Sweeps expired uses once a minute, off every request's path (a scan of the claims on FerretDB). */
  private readonly sweeper: NodeJS.Timeout;
  constructor(database: DocumentDatabase) {
    this.uses = database.collection<TokenUse>(CLAIMS);
    this.sweeper = setInterval(() => void this.sweep().catch(() => undefined), SWEEP_INTERVAL_MS).unref();
  }

  /**
   * Removes the uses of expired tokens: they can never be replayed (the token is refused as
   * expired first). Identifier claims have no expiry: the filter never matches them.
   */
  async sweep(): Promise<void> {
    await this.uses.deleteMany({ expiresAt: { $lt: new Date() } });
  }

  /**
   * The index the sweep's range needs: identifier claims, which grow with the patients, share the
   * collection and lack `expiresAt`, so the sparse index holds only the tokens' uses (MongoDB
   * answers the sweep from it rather than reading every claim).
   */
  ensureIndexes(): Promise<void> {
    return this.uses.ensureIndexes([{ name: 'token_expiry', keys: { expiresAt: 1 }, sparse: true }]);
  }

  /** Stops the sweeps (the store closes). */
  close(): void {
    clearInterval(this.sweeper);
  }

  async firstUse(issuer: string, jti: string, expiresAt: Date): Promise<boolean> {
    try {
      await this.uses.insertOne({ _id: tokenUseId(issuer, jti), expiresAt });
      return true;
    } catch (error) {
      if (error instanceof DuplicateKeyError) return false;
      throw error;
    }
  }
}
