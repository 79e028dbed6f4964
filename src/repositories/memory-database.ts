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

/** MongoDB equality: the value itself, or an element of an array field. */
function matchesValue(field: unknown, value: string | number | boolean): boolean {
  return field === value || (Array.isArray(field) && field.includes(value));
}

type Scalar = string | number | boolean;
const isScalar = (v: unknown): v is Scalar => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
const RANGE_OPERATORS = new Set(['$lt', '$lte', '$gt', '$gte']);

/** A Date of any realm (structuredClone and test sandboxes make Dates of their own). */
const isDate = (v: unknown): v is Date => Object.prototype.toString.call(v) === '[object Date]';

/** MongoDB's comparison of two values of one type (numbers, strings, dates); undefined across types. */
function compare(a: unknown, b: unknown): number | undefined {
  if (isDate(a) && isDate(b)) return a.getTime() - b.getTime();
  if ((typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string')) return a < b ? -1 : a > b ? 1 : 0;
  return undefined;
}

function inRange(value: unknown, ops: Record<string, unknown>): boolean {
  const values = Array.isArray(value) ? value : [value];
  return values.some((v) =>
    Object.entries(ops).every(([op, bound]) => {
      const c = compare(v, bound);
      if (c === undefined) return false;
      return op === '$lt' ? c < 0 : op === '$lte' ? c <= 0 : op === '$gt' ? c > 0 : c >= 0;
    }),
  );
}

/**
 * A predicate for filters made of equality on scalars and ranges ($lt, $lte, $gt, $gte) on
 * top-level fields, the shapes of the hot paths; undefined for anything else (mingo answers).
 */
function simplePredicate(filter: Filter): ((doc: Doc) => boolean) | undefined {
  const tests: Array<(doc: Doc) => boolean> = [];
  for (const [k, v] of Object.entries(filter)) {
    if (k.startsWith('$') || k.includes('.')) return undefined;
    if (isScalar(v)) {
      tests.push((d) => matchesValue(d[k], v));
    } else if (v !== null && typeof v === 'object' && !isDate(v) && !Array.isArray(v)) {
      const ops = v as Record<string, unknown>;
      const keys = Object.keys(ops);
      if (keys.length === 0 || !keys.every((op) => RANGE_OPERATORS.has(op))) return undefined;
      if (!Object.values(ops).every((b) => isScalar(b) || isDate(b))) return undefined;
      tests.push((d) => inRange(d[k], ops));
    } else {
      return undefined;
    }
  }
  return (d) => tests.every((t) => t(d));
}

/** `$set` and `$addToSet` (with or without `$each`) on top-level fields; false for anything else (mingo applies it). */
function applySimpleUpdate(doc: Doc, update: Update): boolean {
  for (const [op, fields] of Object.entries(update)) {
    if ((op !== '$set' && op !== '$addToSet') || Object.keys(fields).some((k) => k.includes('.') || k.startsWith('$'))) return false;
    if (op === '$addToSet') {
      for (const [k, v] of Object.entries(fields)) {
        const current = doc[k];
        if (current !== undefined && !Array.isArray(current)) return false;
        const each = v !== null && typeof v === 'object' && '$each' in v ? (v as { $each: unknown[] }).$each : [v];
        if (!each.every(isScalar)) return false;
      }
    }
  }
  for (const [op, fields] of Object.entries(update)) {
    for (const [k, v] of Object.entries(fields)) {
      if (op === '$set') {
        (doc as Record<string, unknown>)[k] = structuredClone(v);
      } else {
        const each = v !== null && typeof v === 'object' && '$each' in v ? (v as { $each: Scalar[] }).$each : [v as Scalar];
        const array = ((doc[k] as Scalar[] | undefined) ?? []).slice();
        for (const item of each) if (!array.includes(item)) array.push(item);
        (doc as Record<string, unknown>)[k] = array;
      }
    }
  }
  return true;
}

/** The scalar values a field holds for equality matching: itself, or its array's elements. */
function indexedValues(value: unknown): Scalar[] {
  if (isScalar(value)) return [value];
  return Array.isArray(value) ? value.filter(isScalar) : [];
}

/**
 * In-process collection with MongoDB query and update semantics (mingo for the general case).
 * The first field of every declared index is indexed by value, as a database would, so that
 * lookups by patient, identifier or window do not scan: the store's cost per request stays flat
 * as it grows. Unique indexes are enforced through the same maps.
 */
class MemoryCollection<T extends Doc> implements DocumentCollection<T> {
  private readonly docs = new Map<string, T>();
  /** Field → value → ids of the documents holding it. */
  private readonly indexes = new Map<string, Map<Scalar, Set<string>>>();
  private readonly uniqueFields = new Set<string>();

  /** Documents that may match `filter`: one by `_id`, those an index names, or all. */
  private candidates(filter: Filter): Iterable<T> {
    const id = filter['_id'];
    if (typeof id === 'string') {
      const doc = this.docs.get(id);
      return doc ? [doc] : [];
    }
    let best: Set<string> | undefined;
    for (const [field, values] of this.indexes) {
      const wanted = filter[field];
      if (!isScalar(wanted)) continue;
      const ids = values.get(wanted);
      if (!ids) return [];
      if (!best || ids.size < best.size) best = ids;
    }
    if (!best) return this.docs.values();
    return [...best].map((i) => this.docs.get(i)!);
  }

  private matching(filter: Filter, options: FindOptions = {}): T[] {
    const source = this.candidates(filter);
    const simple = simplePredicate(filter);
    if (simple && !options.sort) {
      // Equality and ranges on top-level fields (the hot paths) without compiling a mingo query
      // per call, which costs more than the rest of a request on this store.
      const found: T[] = [];
      const end = options.limit ? (options.skip ?? 0) + options.limit : Number.POSITIVE_INFINITY;
      for (const d of source) {
        if (!simple(d)) continue;
        found.push(d);
        if (found.length >= end) break;
      }
      return found.slice(options.skip ?? 0);
    }
    let cursor = mingoFind<T>([...source], filter);
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
      if (!isScalar(value)) continue;
      const holders = this.indexes.get(field)?.get(value);
      if (holders && [...holders].some((id) => id !== candidate._id)) throw new DuplicateKeyError('duplicate key');
    }
  }

  private index(doc: T): void {
    for (const [field, values] of this.indexes) {
      for (const value of indexedValues(doc[field])) {
        let ids = values.get(value);
        if (!ids) values.set(value, (ids = new Set()));
        ids.add(doc._id);
      }
    }
  }

  private unindex(doc: T): void {
    for (const [field, values] of this.indexes) {
      for (const value of indexedValues(doc[field])) {
        const ids = values.get(value);
        ids?.delete(doc._id);
        if (ids?.size === 0) values.delete(value);
      }
    }
  }

  private remove(id: string): boolean {
    const doc = this.docs.get(id);
    if (!doc) return false;
    this.unindex(doc);
    return this.docs.delete(id);
  }

  async insertOne(doc: T): Promise<void> {
    if (this.docs.has(doc._id)) throw new DuplicateKeyError('duplicate key');
    const copy = structuredClone(doc);
    this.assertUnique(copy);
    this.docs.set(copy._id, copy);
    this.index(copy);
  }

  async updateOne(filter: Filter, update: Update): Promise<boolean> {
    const [target] = this.matching(filter, { limit: 1 });
    if (!target) return false;
    // A shallow copy suffices for the common updates: they replace fields, never edit them in place.
    let next = { ...target };
    if (!applySimpleUpdate(next, update)) {
      next = structuredClone(target);
      mingoUpdate(next, update as Parameters<typeof mingoUpdate>[1]);
    }
    this.assertUnique(next);
    this.unindex(target);
    this.docs.set(next._id, next);
    this.index(next);
    return true;
  }

  async deleteOne(filter: Filter): Promise<boolean> {
    const [target] = this.matching(filter, { limit: 1 });
    return target ? this.remove(target._id) : false;
  }

  async deleteMany(filter: Filter): Promise<number> {
    const targets = this.matching(filter);
    for (const t of targets) this.remove(t._id);
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
      const first = fields[0];
      if (first === undefined || first === '_id') continue;
      if (!this.indexes.has(first)) {
        this.indexes.set(first, new Map());
        // Documents stored before the index was declared.
        for (const doc of this.docs.values()) {
          for (const value of indexedValues(doc[first])) {
            const values = this.indexes.get(first)!;
            let ids = values.get(value);
            if (!ids) values.set(value, (ids = new Set()));
            ids.add(doc._id);
          }
        }
      }
      if (index.unique && fields.length === 1) this.uniqueFields.add(first);
    }
  }

  clear(): void {
    this.docs.clear();
    for (const values of this.indexes.values()) values.clear();
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
