/**
 * The narrow slice of a MongoDB collection that repositories use. Both the MongoDB store and the
 * embedded store implement it with MongoDB semantics, so each repository is written once and the
 * same contract tests hold for both.
 */
export type Filter = Record<string, unknown>;
/** A MongoDB update document (`$set`, `$addToSet`, ...). */
export type Update = Record<string, Record<string, unknown>>;
/** A MongoDB sort specification. */
export type Sort = Record<string, 1 | -1>;

/** Options of {@link DocumentCollection.find}. */
export interface FindOptions {
  sort?: Sort;
  skip?: number;
  limit?: number;
  /** Inclusion projection: the fields to return (plus `_id`). */
  fields?: readonly string[];
}

/** An index a repository needs; created at start-up. */
export interface IndexSpec {
  name: string;
  keys: Record<string, 1 | -1>;
  /** Enforced on scalar fields only: FerretDB does not enforce uniqueness across array elements. */
  unique?: boolean;
  /** Documents without the field are left out (several may lack it under a unique index). */
  sparse?: boolean;
}

/** Raised when an insert or update would break a unique index (MongoDB error 11000). */
export class DuplicateKeyError extends Error {
  override name = 'DuplicateKeyError';
}

/**
 * Raised when a write would take the embedded store past its bound (`PONTIS_EMBEDDED_MAX_BYTES`):
 * nothing of that write was stored. Answered as 507 Insufficient Storage.
 */
export class StoreFullError extends Error {
  override name = 'StoreFullError';
}

/** How much a store that lives in the node's memory holds, and may hold. */
export interface StoreCapacity {
  /**
   * The most the store holds, in its estimated bytes (documents serialised off the V8 heap, with
   * their entries): documents, patients, Consents and records.
   */
  readonly maxBytes: number;
  /**
   * Patient data (documents, patients, identifiers, Consents) stops here; the rest up to
   * {@link maxBytes} is kept for the records every request writes (audit, token uses, budgets),
   * so that reads go on once documents are refused.
   */
  readonly patientDataBytes: number;
  /** Estimated bytes held now. */
  readonly usedBytes: number;
  /** Bytes promised to writes under way ({@link DocumentDatabase.reserve}). */
  readonly reservedBytes: number;
}

/** A collection of documents keyed by a string `_id`. */
export interface DocumentCollection<T extends { _id: string }> {
  findOne(filter: Filter, options?: FindOptions): Promise<T | null>;
  find(filter: Filter, options?: FindOptions): Promise<T[]>;
  count(filter: Filter): Promise<number>;
  /** Inserts one document atomically; throws {@link DuplicateKeyError} on a unique clash. */
  insertOne(doc: T): Promise<void>;
  /** Updates the first matching document atomically; resolves to whether one matched. */
  updateOne(filter: Filter, update: Update): Promise<boolean>;
  deleteOne(filter: Filter): Promise<boolean>;
  /** Removes every matching document; resolves to how many. */
  deleteMany(filter: Filter): Promise<number>;
  /**
   * Inserts documents in order, in as few round trips as the server allows; stops at the first
   * unique clash and throws {@link DuplicateKeyError} (documents before it stay inserted).
   */
  insertMany(docs: readonly T[]): Promise<void>;
  /**
   * Inserts documents independently, in one round trip: resolves to, for each, whether it was
   * inserted (false: its `_id` or a unique key was taken). Other failures throw.
   */
  insertEach(docs: readonly T[]): Promise<boolean[]>;
  /**
   * Creates the indexes a repository needs, and drops those it names `obsolete` (indexes of
   * earlier releases that no query uses any more: each costs the server on every insert).
   * A store that lives in memory has none of an earlier release to drop.
   */
  ensureIndexes(indexes: readonly IndexSpec[], obsolete?: readonly string[]): Promise<void>;
}

/** A database of collections: MongoDB, or the embedded in-memory default. */
export interface DocumentDatabase {
  /** `mongodb` or `embedded`. */
  readonly kind: 'mongodb' | 'embedded';
  collection<T extends { _id: string }>(name: string): DocumentCollection<T>;
  /** Human-readable description of the server (name and version), for start-up and CI logs. */
  describe(): Promise<string>;
  /** One round trip to the server (readiness): resolves when it answers. */
  ping(): Promise<void>;
  /** How much the store holds and may hold, when it lives in the node's memory; absent for a database server. */
  capacity?(): StoreCapacity;
  /**
   * Sets aside room for one write of patient data before any of it is stored, or throws
   * {@link StoreFullError}; the returned function releases the room once the write is over
   * (stored or not). What a write stores is counted as used meanwhile, so the bound errs on the safe side.
   * Absent for a database server (its disk is its operator's bound).
   */
  reserve?(bytes: number): () => void;
  /** Removes every collection (tests and `pontis seed --reset`). */
  drop(): Promise<void>;
  close(): Promise<void>;
}
