import { find as mingoFind, update as mingoUpdate } from 'mingo';
import {
  DuplicateKeyError,
  type DocumentCollection,
  type DocumentDatabase,
  type Filter,
  type FindOptions,
  type IndexSpec,
  type Update,
} from './document-collection.js';

type Doc = { _id: string } & Record<string, unknown>;

function pick<T extends Doc>(doc: T, fields: readonly string[] | undefined): T {
  if (fields === undefined) return structuredClone(doc);
  const out: Record<string, unknown> = { _id: doc._id };
  for (const f of fields) if (f in doc) out[f] = structuredClone(doc[f]);
  return out as T;
}

/** The filter as `[field, value]` pairs when it is only equality on top-level fields with scalar values. */
function plainEquality(filter: Filter): Array<[string, string | number | boolean]> | undefined {
  const pairs: Array<[string, string | number | boolean]> = [];
  for (const [k, v] of Object.entries(filter)) {
    if (k.startsWith('$') || k.includes('.') || (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')) return undefined;
    pairs.push([k, v]);
  }
  return pairs;
}

/** MongoDB equality: the value itself, or an element of an array field. */
function matchesValue(field: unknown, value: string | number | boolean): boolean {
  return field === value || (Array.isArray(field) && field.includes(value));
}

/** In-process collection with MongoDB query and update semantics (through mingo). */
class MemoryCollection<T extends Doc> implements DocumentCollection<T> {
  private readonly docs = new Map<string, T>();
  private readonly uniqueFields: string[] = [];

  private matching(filter: Filter, options: FindOptions = {}): T[] {
    // Lookups by _id, the hot path, touch one document instead of scanning.
    const id = filter['_id'];
    const source = typeof id === 'string' ? [this.docs.get(id)].filter((d): d is T => d !== undefined) : [...this.docs.values()];
    const plain = plainEquality(filter);
    if (plain && !options.sort) {
      // Equality on top-level fields (the hot paths: ids, patient, status) without compiling a
      // mingo query per call, which costs more than the rest of a request on this store.
      const found = source.filter((d) => plain.every(([k, v]) => matchesValue(d[k], v)));
      return found.slice(options.skip ?? 0, options.limit ? (options.skip ?? 0) + options.limit : undefined);
    }
    let cursor = mingoFind<T>(source, filter);
    if (options.sort) cursor = cursor.sort(options.sort);
    if (options.skip) cursor = cursor.skip(options.skip);
    if (options.limit) cursor = cursor.limit(options.limit);
    return cursor.all() as T[];
  }

  async findOne(filter: Filter, options: FindOptions = {}): Promise<T | null> {
    const [first] = this.matching(filter, { ...options, limit: 1 });
    return first ? pick(first, options.fields) : null;
  }

  async find(filter: Filter, options: FindOptions = {}): Promise<T[]> {
    return this.matching(filter, options).map((d) => pick(d, options.fields));
  }

  async count(filter: Filter): Promise<number> {
    return this.matching(filter).length;
  }

  private assertUnique(candidate: T): void {
    for (const field of this.uniqueFields) {
      const value = candidate[field];
      if (value === undefined) continue;
      for (const other of this.docs.values()) {
        if (other._id !== candidate._id && other[field] === value) throw new DuplicateKeyError('duplicate key');
      }
    }
  }

  async insertOne(doc: T): Promise<void> {
    if (this.docs.has(doc._id)) throw new DuplicateKeyError('duplicate key');
    const copy = structuredClone(doc);
    this.assertUnique(copy);
    this.docs.set(copy._id, copy);
  }

  async updateOne(filter: Filter, update: Update): Promise<boolean> {
    const [target] = this.matching(filter, { limit: 1 });
    if (!target) return false;
    const next = structuredClone(target);
    const keys = Object.keys(update);
    const set = update['$set'];
    if (keys.length === 1 && set && Object.keys(set).every((k) => !k.includes('.'))) Object.assign(next, structuredClone(set));
    else mingoUpdate(next, update as Parameters<typeof mingoUpdate>[1]);
    this.assertUnique(next);
    this.docs.set(next._id, next);
    return true;
  }

  async deleteOne(filter: Filter): Promise<boolean> {
    const [target] = this.matching(filter, { limit: 1 });
    return target ? this.docs.delete(target._id) : false;
  }

  async deleteMany(filter: Filter): Promise<number> {
    const targets = this.matching(filter);
    for (const t of targets) this.docs.delete(t._id);
    return targets.length;
  }

  async insertEach(docs: readonly T[]): Promise<boolean[]> {
    const results: boolean[] = [];
    for (const doc of docs) {
      try {
        await this.insertOne(doc);
        results.push(true);
      } catch (error) {
        if (!(error instanceof DuplicateKeyError)) throw error;
        results.push(false);
      }
    }
    return results;
  }

  async insertMany(docs: readonly T[]): Promise<void> {
    for (const doc of docs) await this.insertOne(doc);
  }

  async ensureIndexes(indexes: readonly IndexSpec[]): Promise<void> {
    for (const index of indexes) {
      const fields = Object.keys(index.keys);
      if (index.unique && fields.length === 1 && fields[0] !== '_id' && !this.uniqueFields.includes(fields[0]!)) {
        this.uniqueFields.push(fields[0]!);
      }
    }
  }

  clear(): void {
    this.docs.clear();
  }
}

/**
 * The embedded default store: zero set-up, nothing persisted. Passes the same contract tests
 * as {@link MongoDatabase}.
 */
export class MemoryDatabase implements DocumentDatabase {
  readonly kind = 'embedded' as const;
  private readonly collections = new Map<string, MemoryCollection<Doc>>();

  collection<T extends { _id: string }>(name: string): DocumentCollection<T> {
    let collection = this.collections.get(name);
    if (!collection) {
      collection = new MemoryCollection<Doc>();
      this.collections.set(name, collection);
    }
    return collection as unknown as DocumentCollection<T>;
  }

  async describe(): Promise<string> {
    return 'embedded in-memory store (not persistent)';
  }

  async ping(): Promise<void> {
    // always reachable: it is in this process
  }

  async drop(): Promise<void> {
    for (const c of this.collections.values()) c.clear();
  }

  async close(): Promise<void> {
    // nothing to release
  }
}
