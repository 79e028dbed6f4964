import { DuplicateKeyError, type DocumentDatabase } from './document-collection.js';

/**
 * The `claims` collection: things claimed once, by a unique insert of their `_id`, never changed.
 * A patient identifier's holder (`system|value`, always with a `|`: {@link IdentifierClaim}) and
 * a write token's single use (the base64url hash of issuer and jti, never with a `|`:
 * {@link TokenUse}). One collection so that a push's two claims, the token's and its patient
 * identifier's, go to the server as one insert (inserts of one turn into one collection are
 * sent together): one command fewer for every push of a new patient.
 */
export const CLAIMS = 'claims';

/** Claim of one identifier by one patient: `_id` uniqueness makes concurrent claims safe. */
export interface IdentifierClaim {
  _id: string;
  patientId: string;
}

/** A write token seen, kept until it expires (then it is refused as expired anyway). */
export interface TokenUse {
  _id: string;
  expiresAt: Date;
}

/** Collections of earlier releases whose claims moved into {@link CLAIMS}. */
const EARLIER = ['patient_identifiers', 'token_uses'] as const;
/** Names the move in `store_upgrades`, so that it is done once per store. */
const MOVED = 'claims-1';

/**
 * Copies the claims of a store of an earlier release (`patient_identifiers`, `token_uses`) into
 * {@link CLAIMS}, once per store, before the store serves anything: identifier claims must keep
 * their holders, and tokens used before the upgrade stay used. Safe to repeat and when several
 * instances start at once (a claim copied twice is refused the second time). Instances of
 * earlier releases must be stopped first: they would go on claiming in the old collections.
 * The old collections are left as they were.
 */
export async function moveEarlierClaims(database: DocumentDatabase): Promise<void> {
  const upgrades = database.collection<{ _id: string }>('store_upgrades');
  if (await upgrades.findOne({ _id: MOVED })) return;
  const claims = database.collection<IdentifierClaim | TokenUse>(CLAIMS);
  const now = new Date();
  for (const name of EARLIER) {
    const earlier = await database.collection<IdentifierClaim | TokenUse>(name).find(name === 'token_uses' ? { expiresAt: { $gte: now } } : {});
    for (let i = 0; i < earlier.length; i += 10_000) await claims.insertEach(earlier.slice(i, i + 10_000));
  }
  try {
    await upgrades.insertOne({ _id: MOVED });
  } catch (error) {
    // Another instance finished the same move first.
    if (!(error instanceof DuplicateKeyError)) throw error;
  }
}
