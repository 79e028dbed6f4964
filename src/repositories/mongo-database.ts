import { MongoBulkWriteError, MongoClient, MongoServerError, type Collection, type Db, type Document } from 'mongodb';
import { GroupWriter } from './group-writer.js';
import {
  DuplicateKeyError,
  type DocumentCollection,
  type DocumentDatabase,
  type Filter,
  type FindOptions,
  type IndexSpec,
  type Update,
} from './document-collection.js';

const DUPLICATE_KEY = 11000;
const NAMESPACE_NOT_FOUND = 26;
const INDEX_NOT_FOUND = 27;

/**
 * Whether a server error is a unique clash. FerretDB 1.x reports one in an update (and some in
 * inserts) as InternalError with its backend's message (SQLite's, or PostgreSQL's
 * unique_violation, SQLSTATE 23505).
 */
function isDuplicate(code: unknown, message: string | undefined): boolean {
  return code === DUPLICATE_KEY || /UNIQUE constraint failed|SQLSTATE 23505|duplicate key/i.test(message ?? '');
}

function translate(error: unknown): unknown {
  return error instanceof MongoServerError && isDuplicate(error.code, error.message) ? new DuplicateKeyError('duplicate key') : error;
}

/**
 * The write errors of a bulk insert that stored every other document durably; throws the error
 * itself when the write concern was not met (then no document of it is known to be durable).
 */
function writeErrorsOf(error: MongoBulkWriteError): Array<{ index: number; code: unknown; errmsg?: string }> {
  if (error.result.getWriteConcernError()) throw error;
  return [error.writeErrors].flat();
}

/** What one document's insert within a group came to: stored, or its own error. */
type InsertOutcome = true | Error;

function projectionOf(fields: readonly string[] | undefined): Document | undefined {
  return fields === undefined ? undefined : Object.fromEntries(fields.map((f) => [f, 1]));
}

class MongoCollection<T extends { _id: string }> implements DocumentCollection<T> {
  /**
   * Single inserts into this collection by concurrent requests, sent together: each command costs
   * the node a driver call, a socket write and a read (about 0.4 ms of CPU), and the server a
   * transaction, whatever it carries. An idle node still sends each at once.
   */
  private readonly inserts = new GroupWriter<T, InsertOutcome>((docs) => this.insertGroup(docs));

  constructor(private readonly collection: Collection<Document>) {}

  async findOne(filter: Filter, options: FindOptions = {}): Promise<T | null> {
    const projection = projectionOf(options.fields);
    const found = await this.collection.findOne(filter, {
      ...(projection ? { projection } : {}),
      ...(options.sort ? { sort: options.sort } : {}),
    });
    return found as T | null;
  }

  async find(filter: Filter, options: FindOptions = {}): Promise<T[]> {
    let cursor = this.collection.find(filter);
    const projection = projectionOf(options.fields);
    if (projection) cursor = cursor.project(projection);
    if (options.sort) cursor = cursor.sort(options.sort);
    if (options.skip) cursor = cursor.skip(options.skip);
    if (options.limit) cursor = cursor.limit(options.limit);
    return (await cursor.toArray()) as unknown as T[];
  }

  count(filter: Filter): Promise<number> {
    return this.collection.countDocuments(filter);
  }

  async insertOne(doc: T): Promise<void> {
    const outcome = await this.inserts.submit(doc);
    if (outcome !== true) throw outcome;
  }

  /**
   * Inserts documents of independent callers: unordered, so that each is inserted atomically on
   * its own and a clash refuses only its own document. A failure of the whole command (the
   * connection, the write concern) fails every caller.
   */
  private async insertGroup(docs: readonly T[]): Promise<InsertOutcome[]> {
    if (docs.length === 1) {
      try {
        await this.collection.insertOne(docs[0] as Document);
        return [true];
      } catch (error) {
        // The only document's: its caller's error, as translated.
        return [translate(error) as Error];
      }
    }
    try {
      await this.collection.insertMany(docs as unknown as Document[], { ordered: false });
      return docs.map(() => true);
    } catch (error) {
      if (!(error instanceof MongoBulkWriteError)) throw error;
      const outcomes: InsertOutcome[] = docs.map(() => true);
      for (const e of writeErrorsOf(error)) {
        outcomes[e.index] = isDuplicate(e.code, e.errmsg) ? new DuplicateKeyError('duplicate key') : new MongoServerError({ message: e.errmsg ?? 'write failed', code: e.code as number });
      }
      return outcomes;
    }
  }

  async updateOne(filter: Filter, update: Update): Promise<boolean> {
    try {
      const result = await this.collection.updateOne(filter, update);
      return result.matchedCount > 0;
    } catch (error) {
      throw translate(error);
    }
  }

  async deleteOne(filter: Filter): Promise<boolean> {
    const result = await this.collection.deleteOne(filter);
    return result.deletedCount > 0;
  }

  async deleteMany(filter: Filter): Promise<number> {
    const result = await this.collection.deleteMany(filter);
    return result.deletedCount;
  }

  async insertEach(docs: readonly T[]): Promise<boolean[]> {
    if (docs.length === 0) return [];
    try {
      await this.collection.insertMany(docs as unknown as Document[], { ordered: false });
      return docs.map(() => true);
    } catch (error) {
      if (error instanceof MongoBulkWriteError) {
        const failed = new Set<number>();
        let onlyDuplicates = true;
        for (const e of writeErrorsOf(error)) {
          failed.add(e.index);
          if (!isDuplicate(e.code, e.errmsg)) onlyDuplicates = false;
        }
        if (onlyDuplicates && failed.size > 0) return docs.map((_, i) => !failed.has(i));
      }
      throw translate(error);
    }
  }

  async insertMany(docs: readonly T[]): Promise<void> {
    if (docs.length === 0) return;
    try {
      await this.collection.insertMany(docs as unknown as Document[], { ordered: true });
    } catch (error) {
      throw translate(error);
    }
  }

  async ensureIndexes(indexes: readonly IndexSpec[], obsolete: readonly string[] = []): Promise<void> {
    // One at a time: FerretDB 1.24 drops the connection when one createIndexes call names
    // several indexes that all exist already (a node restarting on its database).
    for (const i of indexes) await this.collection.createIndex(i.keys, { name: i.name, ...(i.unique ? { unique: true } : {}), ...(i.sparse ? { sparse: true } : {}) });
    for (const name of obsolete) {
      try {
        await this.collection.dropIndex(name);
      } catch (error) {
        // Dropped before (by an earlier start or another instance), or never made.
        if (!(error instanceof MongoServerError && (error.code === INDEX_NOT_FOUND || error.code === NAMESPACE_NOT_FOUND || /index not found/i.test(error.message)))) throw error;
      }
    }
  }
}

/** {@link DocumentDatabase} on a MongoDB server (or any server speaking its wire protocol). */
export class MongoDatabase implements DocumentDatabase {
  readonly kind = 'mongodb' as const;
  private readonly collections = new Map<string, MongoCollection<{ _id: string }>>();

  private constructor(
    private readonly client: MongoClient,
    private readonly db: Db,
  ) {}

  /** Connects and checks the server answers; fails fast with the driver's error otherwise. */
  static async connect(uri: string, databaseName: string): Promise<MongoDatabase> {
    const client = new MongoClient(uri, {
      serverSelectionTimeoutMS: 5000,
      appName: 'pontis',
      // A write acknowledged to a client must survive a primary failover.
      writeConcern: { w: 'majority' },
    });
    await client.connect();
    const db = client.db(databaseName);
    await db.command({ ping: 1 });
    return new MongoDatabase(client, db);
  }

  collection<T extends { _id: string }>(name: string): DocumentCollection<T> {
    // One per name, so that every repository's inserts into a collection go out together.
    let collection = this.collections.get(name);
    if (!collection) this.collections.set(name, (collection = new MongoCollection(this.db.collection(name))));
    // The shape of its documents is the caller's claim, as with the driver's own collection<T>().
    return collection as unknown as DocumentCollection<T>;
  }

  async describe(): Promise<string> {
    const info = await this.db.admin().command({ buildInfo: 1 });
    const flavour = (info as { ferretdbVersion?: string }).ferretdbVersion;
    return flavour
      ? `FerretDB ${flavour} (MongoDB wire ${String(info.version)}), database ${this.db.databaseName}`
      : `MongoDB ${String(info.version)}, database ${this.db.databaseName}`;
  }

  async ping(): Promise<void> {
    await this.db.command({ ping: 1 });
  }

  async drop(): Promise<void> {
    await this.db.dropDatabase();
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
