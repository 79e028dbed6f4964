import type * as Mingo from 'mingo';
import { DuplicateKeyError, StoreFullError } from './document-collection.js';
import type { DocumentCollection, DocumentDatabase, Filter, FindOptions, IndexSpec, Sort, StoreCapacity, Update } from './document-collection.js';

type Doc = { _id: string } & Record<string, unknown>;

let mingoModule: Promise<typeof Mingo> | undefined;
/**
 * mingo, loaded when a filter or update first needs it: the direct paths below answer every query
 * of start-up and of the hot paths, and loading mingo was a tenth of the node's start-up.
 */
const mingo = (): Promise<typeof Mingo> => (mingoModule ??= import('mingo'));

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
const FIELD_OPERATORS = new Set([...RANGE_OPERATORS, '$in', '$exists', '$ne']);

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

/** The scalars of an `$in` operand, or undefined when it holds anything else (mingo answers). */
function inOperand(condition: unknown): Scalar[] | undefined {
  if (condition === null || typeof condition !== 'object' || isDate(condition) || Array.isArray(condition)) return undefined;
  const values = (condition as Record<string, unknown>)['$in'];
  return Array.isArray(values) && values.every(isScalar) ? values : undefined;
}

/**
 * A predicate for filters made of equality on scalars, ranges ($lt, $lte, $gt, $gte), `$in` and
 * `$ne` of scalars and `$exists` on top-level fields, the shapes of the hot paths and of start-up;
 * undefined for anything else (mingo answers).
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
      if (keys.length === 0 || !keys.every((op) => FIELD_OPERATORS.has(op))) return undefined;
      const ranges: Record<string, unknown> = {};
      for (const [op, operand] of Object.entries(ops)) {
        if (op === '$exists') {
          // As mingo (and MongoDB for top-level fields): present, whatever its value, null included.
          if (typeof operand !== 'boolean') return undefined;
          tests.push((d) => (d[k] !== undefined) === operand);
        } else if (op === '$ne') {
          // Neither the value nor an array holding it; a missing field matches.
          if (!isScalar(operand)) return undefined;
          tests.push((d) => !matchesValue(d[k], operand));
        } else if (op === '$in') {
          const values = inOperand(ops);
          if (!values) return undefined;
          tests.push((d) => values.some((value) => matchesValue(d[k], value)));
        } else {
          if (!isScalar(operand) && !isDate(operand)) return undefined;
          ranges[op] = operand;
        }
      }
      if (Object.keys(ranges).length > 0) tests.push((d) => inRange(d[k], ranges));
    } else {
      return undefined;
    }
  }
  return (d) => tests.every((t) => t(d));
}

/**
 * Sorts by top-level fields each holding one type of comparable value (strings, numbers or
 * dates) in every document; undefined otherwise (mingo applies MongoDB's order across types).
 * The sort is stable, so ties keep their insertion order.
 */
function simpleSort<T extends Doc>(docs: T[], sort: Sort): T[] | undefined {
  const keys = Object.entries(sort);
  for (const [field] of keys) {
    if (field.includes('.') || field.startsWith('$')) return undefined;
    let kind: string | undefined;
    for (const d of docs) {
      const value = d[field];
      const k = isDate(value) ? 'date' : typeof value;
      if (k !== 'string' && k !== 'number' && k !== 'date') return undefined;
      if (kind !== undefined && kind !== k) return undefined;
      kind = k;
    }
  }
  return docs.sort((a, b) => {
    for (const [field, direction] of keys) {
      const c = compare(a[field], b[field]) ?? 0;
      if (c !== 0) return c * direction;
    }
    return 0;
  });
}

/** A character V8 cannot keep in one byte (beyond Latin-1). */
const TWO_BYTE = /[\u0100-\uffff]/;
/** What one stored document costs besides its fields: its map entry and index entries. */
const ENTRY_BYTES = 160;

/**
 * An estimate of the heap a value holds, for the store's bound: V8 keeps a string of Latin-1
 * characters in one byte each and any other in two; objects cost a header and a slot per field.
 * Checked against the heap measured per stored document (bench/embedded-memory.mjs, BENCHMARKS.md).
 */
export function heapBytes(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return 16 + (TWO_BYTE.test(value) ? 2 : 1) * value.length;
    case 'number':
      return 16;
    case 'object': {
      if (value === null) return 0;
      if (isDate(value)) return 48;
      if (ArrayBuffer.isView(value)) return 96 + value.byteLength;
      if (Array.isArray(value)) {
        let bytes = 16 + 8 * value.length;
        for (const item of value) bytes += heapBytes(item);
        return bytes;
      }
      let bytes = 24;
      for (const field of Object.values(value as Record<string, unknown>)) bytes += 8 + heapBytes(field);
      return bytes;
    }
    default:
      return 0;
  }
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
 * What the store holds against its bound, shared by its collections. Patient data stops at
 * {@link StoreCapacity.patientDataBytes}; records every request writes (audit, token uses,
 * budgets) may go on to {@link StoreCapacity.maxBytes}, so that reads still work when documents
 * are refused.
 */
class Ledger implements StoreCapacity {
  usedBytes = 0;
  reservedBytes = 0;
  readonly patientDataBytes: number;

  constructor(readonly maxBytes: number) {
    // An eighth kept for records: at about 1 KB an audit record, a 2 GiB store's 256 MiB is some 250,000 reads.
    this.patientDataBytes = maxBytes - Math.floor(maxBytes / 8);
  }

  /** Throws {@link StoreFullError} unless `bytes` more fit under the bound of their kind. */
  admit(bytes: number, patientData: boolean): void {
    if (bytes > 0 && this.usedBytes + bytes > (patientData ? this.patientDataBytes : this.maxBytes)) {
      throw new StoreFullError(`the embedded store is full (${patientData ? 'patient data' : 'records'}, bound ${this.maxBytes} bytes)`);
    }
  }
}

/**
 * The collections of patient data, bounded by {@link StoreCapacity.patientDataBytes}
 * (DEVELOPERS.md, storage); every other collection holds records bounded by the whole store.
 */
const PATIENT_DATA = new Set(['summary_versions', 'summaries', 'patients', 'patient_identifiers', 'patient_changes', 'consent_versions', 'consents']);

/**
 * In-process collection with MongoDB query and update semantics (mingo for the general case).
 * The first field of every declared index is indexed by value, as a database would, so that
 * lookups by patient, identifier or window do not scan: the store's cost per request stays flat
 * as it grows. Unique indexes are enforced through the same maps. Every write is weighed
 * against the store's bound before anything of it changes.
 */
class MemoryCollection<T extends Doc> implements DocumentCollection<T> {
  private readonly docs = new Map<string, T>();
  /** Field → value → ids of the documents holding it. */
  private readonly indexes = new Map<string, Map<Scalar, Set<string>>>();
  private readonly uniqueFields = new Set<string>();

  constructor(
    private readonly ledger: Ledger,
    private readonly patientData: boolean,
  ) {}

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
      let ids: Set<string> | undefined;
      if (isScalar(wanted)) {
        ids = values.get(wanted);
        if (!ids) return [];
      } else {
        const any = inOperand(wanted);
        if (!any) continue;
        ids = new Set(any.flatMap((value) => [...(values.get(value) ?? [])]));
      }
      if (!best || ids.size < best.size) best = ids;
    }
    if (!best) return this.docs.values();
    return [...best].map((i) => this.docs.get(i)!);
  }

  private async matching(filter: Filter, options: FindOptions = {}): Promise<T[]> {
    const source = this.candidates(filter);
    const simple = simplePredicate(filter);
    if (simple) {
      // Equality, ranges, $in and $exists on top-level fields (the hot paths and start-up)
      // without compiling a mingo query per call, which costs more than the rest of a request.
      const found: T[] = [];
      const end = options.limit && !options.sort ? (options.skip ?? 0) + options.limit : Number.POSITIVE_INFINITY;
      for (const d of source) {
        if (!simple(d)) continue;
        found.push(d);
        if (found.length >= end) break;
      }
      const sorted = options.sort ? simpleSort(found, options.sort) : found;
      if (sorted) {
        const from = options.skip ?? 0;
        return sorted.slice(from, options.limit ? from + options.limit : undefined);
      }
    }
    // Candidates afresh: the loop above may have used up an iterator over every document.
    let cursor = (await mingo()).find<T>([...this.candidates(filter)], filter);
    if (options.sort) cursor = cursor.sort(options.sort);
    if (options.skip) cursor = cursor.skip(options.skip);
    if (options.limit) cursor = cursor.limit(options.limit);
    return cursor.all() as T[];
  }

  async findOne(filter: Filter, options: FindOptions = {}): Promise<T | null> {
    const [first] = await this.matching(filter, { ...options, limit: 1 });
    return first ? pick(first, options.fields) : null;
  }

  async find(filter: Filter, options: FindOptions = {}): Promise<T[]> {
    return (await this.matching(filter, options)).map((d) => pick(d, options.fields));
  }

  async count(filter: Filter): Promise<number> {
    return (await this.matching(filter)).length;
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
    this.ledger.usedBytes -= ENTRY_BYTES + heapBytes(doc);
    return this.docs.delete(id);
  }

  async insertOne(doc: T): Promise<void> {
    this.insertNow(doc);
  }

  /** One insert, synchronously: weighed, checked for unique keys, then stored whole or not at all. */
  private insertNow(doc: T): void {
    if (this.docs.has(doc._id)) throw new DuplicateKeyError('duplicate key');
    const copy = structuredClone(doc);
    this.assertUnique(copy);
    const bytes = ENTRY_BYTES + heapBytes(copy);
    this.ledger.admit(bytes, this.patientData);
    this.docs.set(copy._id, copy);
    this.index(copy);
    this.ledger.usedBytes += bytes;
  }

  async updateOne(filter: Filter, update: Update): Promise<boolean> {
    const [target] = await this.matching(filter, { limit: 1 });
    if (!target) return false;
    // A shallow copy suffices for the common updates: they replace fields, never edit them in place.
    let next = { ...target };
    if (!applySimpleUpdate(next, update)) {
      next = structuredClone(target);
      (await mingo()).update(next, update as Parameters<typeof Mingo.update>[1]);
    }
    this.assertUnique(next);
    const growth = heapBytes(next) - heapBytes(target);
    this.ledger.admit(growth, this.patientData);
    this.unindex(target);
    this.docs.set(next._id, next);
    this.index(next);
    this.ledger.usedBytes += growth;
    return true;
  }

  async deleteOne(filter: Filter): Promise<boolean> {
    const [target] = await this.matching(filter, { limit: 1 });
    return target ? this.remove(target._id) : false;
  }

  async deleteMany(filter: Filter): Promise<number> {
    const targets = await this.matching(filter);
    for (const t of targets) this.remove(t._id);
    return targets.length;
  }

  async insertEach(docs: readonly T[]): Promise<boolean[]> {
    const results: boolean[] = [];
    for (const doc of docs) {
      try {
        this.insertNow(doc);
        results.push(true);
      } catch (error) {
        if (!(error instanceof DuplicateKeyError)) throw error;
        results.push(false);
      }
    }
    return results;
  }

  async insertMany(docs: readonly T[]): Promise<void> {
    for (const doc of docs) this.insertNow(doc);
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
    for (const doc of this.docs.values()) this.ledger.usedBytes -= ENTRY_BYTES + heapBytes(doc);
    this.docs.clear();
    for (const values of this.indexes.values()) values.clear();
  }
}

/** Options of {@link MemoryDatabase}. */
export interface MemoryDatabaseOptions {
  /**
   * The most the store holds, in estimated heap bytes (`PONTIS_EMBEDDED_MAX_BYTES`); beyond it
   * writes are refused with {@link StoreFullError}. Unbounded when absent (tests, benches).
   */
  maxBytes?: number;
}

const MIB = 1024 * 1024;

/**
 * The embedded default store: zero set-up, nothing persisted, bounded in memory. Passes the same
 * contract tests as {@link MongoDatabase}.
 */
export class MemoryDatabase implements DocumentDatabase {
  readonly kind = 'embedded' as const;
  private readonly collections = new Map<string, MemoryCollection<Doc>>();
  private readonly ledger: Ledger;

  constructor(options: MemoryDatabaseOptions = {}) {
    this.ledger = new Ledger(options.maxBytes ?? Number.POSITIVE_INFINITY);
  }

  collection<T extends { _id: string }>(name: string): DocumentCollection<T> {
    let collection = this.collections.get(name);
    if (!collection) {
      collection = new MemoryCollection<Doc>(this.ledger, PATIENT_DATA.has(name));
      this.collections.set(name, collection);
    }
    return collection as unknown as DocumentCollection<T>;
  }

  capacity(): StoreCapacity {
    const { maxBytes, patientDataBytes, usedBytes, reservedBytes } = this.ledger;
    return { maxBytes, patientDataBytes, usedBytes, reservedBytes };
  }

  reserve(bytes: number): () => void {
    const ledger = this.ledger;
    if (ledger.usedBytes + ledger.reservedBytes + bytes > ledger.patientDataBytes) {
      throw new StoreFullError(`the embedded store is full (patient data, bound ${ledger.maxBytes} bytes)`);
    }
    ledger.reservedBytes += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      ledger.reservedBytes -= bytes;
    };
  }

  async describe(): Promise<string> {
    const { maxBytes, patientDataBytes } = this.ledger;
    if (!Number.isFinite(maxBytes)) return 'embedded in-memory store (not persistent), unbounded';
    return `embedded in-memory store (not persistent), holds at most ${Math.round(maxBytes / MIB)} MiB (PONTIS_EMBEDDED_MAX_BYTES): documents, patients and Consents up to ${Math.round(patientDataBytes / MIB)} MiB, the rest kept for audit records`;
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
