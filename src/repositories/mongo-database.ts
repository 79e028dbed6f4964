import { MongoBulkWriteError, MongoClient, MongoServerError, type Collection, type Db, type Document } from 'mongodb';
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

function translate(error: unknown): unknown {
  // FerretDB 1.x reports a unique clash in an update as InternalError with its backend's message
  // (SQLite's, or PostgreSQL's unique_violation, SQLSTATE 23505).
  if (error instanceof MongoServerError && (error.code === DUPLICATE_KEY || /UNIQUE constraint failed|SQLSTATE 23505/.test(error.message))) {
    return new DuplicateKeyError('duplicate key');
  }
  return error;
}

function projectionOf(fields: readonly string[] | undefined): Document | undefined {
  return fields === undefined ? undefined : Object.fromEntries(fields.map((f) => [f, 1]));
}

class MongoCollection<T extends { _id: string }> implements DocumentCollection<T> {
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
    try {
      await this.collection.insertOne(doc as Document);
    } catch (error) {
      throw translate(error);
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
        for (const e of [error.writeErrors].flat()) {
          failed.add(e.index);
          if (e.code !== DUPLICATE_KEY && !/UNIQUE constraint failed|duplicate key/i.test(e.errmsg ?? '')) onlyDuplicates = false;
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

  async ensureIndexes(indexes: readonly IndexSpec[]): Promise<void> {
    // One at a time: FerretDB 1.24 drops the connection when one createIndexes call names
    // several indexes that all exist already (a node restarting on its database).
    for (const i of indexes) await this.collection.createIndex(i.keys, { name: i.name, ...(i.unique ? { unique: true } : {}), ...(i.sparse ? { sparse: true } : {}) });
  }
}

/** {@link DocumentDatabase} on a MongoDB server (or any server speaking its wire protocol). */
export class MongoDatabase implements DocumentDatabase {
  readonly kind = 'mongodb' as const;

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
    return new MongoCollection<T>(this.db.collection(name));
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
