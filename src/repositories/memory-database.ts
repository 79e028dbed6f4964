import { deserialize, serialize } from 'node:v8';
import type * as Mingo from 'mingo';
import { DuplicateKeyError, StoreFullError } from './document-collection.js';
import type { DocumentCollection, DocumentDatabase, Filter, FindOptions, IndexSpec, StoreCapacity, Update } from './document-collection.js';
import { ValueIndex } from './embedded-index.js';
import { applySimpleUpdate, indexedValues, inOperand, isScalar, simplePredicate, simpleSort, type Doc } from './embedded-query.js';

let mingoModule: Promise<typeof Mingo> | undefined;
/**
 * mingo, loaded when a filter or update first needs it: the direct paths below answer every query
 * of start-up and of the hot paths, and loading mingo was a tenth of the node's start-up.
 */
const mingo = (): Promise<typeof Mingo> => (mingoModule ??= import('mingo'));

/**
 * A document as the store keeps it: V8's serialisation (structuredClone's, so Dates, Buffers and
 * undefined come back as they went in), in a Buffer of its own size. Bytes outside the heap are not
 * walked by the garbage collector, so a store of 100,000 documents does not slow every
 * collection, and each read decodes a fresh copy for its caller. Strings of Latin-1 text take a
 * byte a character, others two, as in the heap.
 */
function encode(doc: Doc): Buffer {
  // Copied to its exact size: the serialiser's own buffer may be up to twice as large, and a
  // small copy shares Node's pool instead of having an ArrayBuffer of its own.
  return Buffer.from(serialize(doc));
}

/** What one stored document costs besides its bytes: its map entry, `_id` and Buffer object. */
const ENTRY_BYTES = 160;
/** What one index entry costs (its map slot or Set member). */
const INDEX_ENTRY_BYTES = 40;
/**
 * What one stored document keeps on the V8 heap, its bytes being outside it: its `_id`, map
 * slot, Buffer object and column entries; besides, {@link INDEX_ENTRY_BYTES} an index entry.
 * Set so that the estimate meets the node's whole heap growth per push, 4.2–4.7 KB for six
 * entries and their 24 index entries (BENCHMARKS.md, issue 16, fourth session).
 */
const HEAP_BYTES_PER_ENTRY = 600;

function project<T extends Doc>(doc: T, fields: readonly string[] | undefined): T {
  if (fields === undefined) return doc;
  const out: Record<string, unknown> = { _id: doc._id };
  for (const f of fields) if (f in doc) out[f] = doc[f];
  return out as T;
}

/**
 * What the store holds against its bounds, shared by its collections: its bytes (the documents'
 * serialised bytes, off the V8 heap, with their entries), bounded by {@link StoreCapacity.maxBytes};
 * and what it keeps on the heap (its maps, `_id`s, Buffer objects and index entries), bounded by
 * {@link EmbeddedCapacity.maxHeapBytes}, so that the heap does not run out before the bytes do.
 * Patient data stops at seven eighths of each ({@link StoreCapacity.patientDataBytes},
 * {@link EmbeddedCapacity.patientDataHeapBytes}); records every request writes (audit, token uses,
 * budgets) may go on to the whole, so that reads still work when documents are refused.
 */
class Ledger implements EmbeddedCapacity {
  usedBytes = 0;
  reservedBytes = 0;
  usedHeapBytes = 0;
  reservedHeapBytes = 0;
  /** Documents stored, all collections together. */
  documents = 0;
  readonly patientDataBytes: number;
  readonly patientDataHeapBytes: number;

  constructor(
    readonly maxBytes: number,
    readonly maxHeapBytes: number,
  ) {
    // An eighth kept for records: at about 1 KB an audit record, a 2 GiB store's 256 MiB is some 250,000 reads.
    const patientShare = (bound: number): number => (Number.isFinite(bound) ? bound - Math.floor(bound / 8) : bound);
    this.patientDataBytes = patientShare(maxBytes);
    this.patientDataHeapBytes = patientShare(maxHeapBytes);
  }

  /** Throws {@link StoreFullError} unless `bytes` and `heapBytes` more fit under the bounds of their kind. */
  admit(bytes: number, heapBytes: number, patientData: boolean): void {
    const kind = patientData ? 'patient data' : 'records';
    if (bytes > 0 && this.usedBytes + bytes > (patientData ? this.patientDataBytes : this.maxBytes)) {
      throw new StoreFullError(`the embedded store is full (${kind}, bound ${this.maxBytes} bytes)`);
    }
    if (heapBytes > 0 && this.usedHeapBytes + heapBytes > (patientData ? this.patientDataHeapBytes : this.maxHeapBytes)) {
      throw new StoreFullError(`the embedded store is full (${kind}, heap bound ${this.maxHeapBytes} bytes)`);
    }
  }

  /** Counts a stored document (`sign` 1) or a removed one (-1): `bytes` its encoding, `entries` its index entries. */
  count(sign: 1 | -1, bytes: number, entries: number): void {
    this.usedBytes += sign * (ENTRY_BYTES + bytes + entries * INDEX_ENTRY_BYTES);
    this.usedHeapBytes += sign * heapWeight(entries);
    this.documents += sign;
  }
}

/** What a stored document with `entries` index entries keeps on the heap. */
function heapWeight(entries: number): number {
  return HEAP_BYTES_PER_ENTRY + entries * INDEX_ENTRY_BYTES;
}

/**
 * The collections of patient data, bounded by {@link StoreCapacity.patientDataBytes}
 * (DEVELOPERS.md, storage); every other collection holds records bounded by the whole store.
 * Not `claims`: it holds write tokens' uses, which a write refused for want of room must still
 * claim (its replay is a 401); its patient identifier claims are made only by pushes the bound
 * admitted, a few dozen bytes each.
 */
const PATIENT_DATA = new Set(['summary_versions', 'summaries', 'patients', 'patient_changes', 'consent_versions', 'consents']);

/**
 * In-process collection with MongoDB query and update semantics (mingo for the general case),
 * each document kept encoded ({@link encode}) and decoded when a query needs it. The first field
 * of every declared index is indexed by value, as a database would, so that look-ups by patient,
 * identifier or window decode only the documents they return: the store's cost per request stays
 * flat as it grows. Unique indexes are enforced through the same maps. Every write is weighed
 * against the store's bound before anything of it changes.
 */
class MemoryCollection<T extends Doc> implements DocumentCollection<T> {
  private readonly docs = new Map<string, Buffer>();
  /** Field → its index. */
  private readonly indexes = new Map<string, ValueIndex>();
  private readonly uniqueFields = new Set<string>();
  /** Field → `_id` → value, for fields scans filter on ({@link column}). */
  private readonly columns = new Map<string, Map<string, unknown>>();

  constructor(
    private readonly ledger: Ledger,
    private readonly patientData: boolean,
    private readonly stats: { decoded: number },
  ) {}

  private decode(bytes: Buffer): T {
    this.stats.decoded++;
    return deserialize(bytes) as T;
  }

  /** The `_id`s of the documents that may match `filter`: one by `_id`, or those an index names; undefined for all. */
  private candidates(filter: Filter): string[] | undefined {
    const id = filter['_id'];
    if (typeof id === 'string') return this.docs.has(id) ? [id] : [];
    let best: Iterable<string> | undefined;
    let bestSize = Number.POSITIVE_INFINITY;
    for (const [field, index] of this.indexes) {
      const wanted = filter[field];
      if (isScalar(wanted)) {
        const size = index.count(wanted);
        if (size === 0) return [];
        if (size < bestSize) [best, bestSize] = [index.ids(wanted), size];
      } else {
        const any = inOperand(wanted);
        if (!any) continue;
        const ids = new Set(any.flatMap((value) => [...index.ids(value)]));
        if (ids.size < bestSize) [best, bestSize] = [ids, ids.size];
      }
    }
    // A copy: the caller may change the collection (deleteMany) while it walks them.
    return best ? [...best] : undefined;
  }

  /**
   * `field`'s value in every document, by `_id`, built by the first scan filtered on it and kept
   * up to date from then on: a scan (the sweep of expired token uses, every minute) then decodes
   * only the documents it returns, not the whole collection.
   */
  private column(field: string): Map<string, unknown> {
    let column = this.columns.get(field);
    if (!column) {
      column = new Map();
      for (const [id, bytes] of this.docs) {
        const value = this.decode(bytes)[field];
        if (value !== undefined) column.set(id, value);
      }
      this.columns.set(field, column);
    }
    return column;
  }

  /** Notes `doc`'s values in the columns (a copy: the caller keeps its document). */
  private noteColumns(doc: T): void {
    for (const [field, column] of this.columns) {
      const value = doc[field];
      if (value === undefined) column.delete(doc._id);
      else column.set(doc._id, value !== null && typeof value === 'object' ? structuredClone(value) : value);
    }
  }

  private async matching(filter: Filter, options: FindOptions = {}): Promise<T[]> {
    const simple = simplePredicate(filter);
    const found: T[] = [];
    // Stops early only where the order is insertion order and no mingo pass follows.
    const end = simple && options.limit && !options.sort ? (options.skip ?? 0) + options.limit : Number.POSITIVE_INFINITY;
    const candidates = this.candidates(filter);
    const fields = Object.keys(filter);
    if (candidates === undefined && simple && fields.length > 0) {
      // A scan: the predicate reads the filtered fields' columns, and only matches are decoded.
      const columns = fields.map((field) => [field, this.column(field)] as const);
      for (const id of [...this.docs.keys()]) {
        const probe: Doc = { _id: id };
        for (const [field, column] of columns) if (column.has(id)) probe[field] = column.get(id);
        if (!simple(probe)) continue;
        found.push(this.decode(this.docs.get(id)!));
        if (found.length >= end) break;
      }
    } else {
      for (const id of candidates ?? [...this.docs.keys()]) {
        const doc = this.decode(this.docs.get(id)!);
        if (simple && !simple(doc)) continue;
        found.push(doc);
        if (found.length >= end) break;
      }
    }
    if (simple) {
      // Equality, ranges, $in and $exists on top-level fields (the hot paths and start-up)
      // without compiling a mingo query per call, which costs more than the rest of a request.
      const sorted = options.sort ? simpleSort(found, options.sort) : found;
      if (sorted) {
        const from = options.skip ?? 0;
        return sorted.slice(from, options.limit ? from + options.limit : undefined);
      }
    }
    let cursor = (await mingo()).find<T>(found, filter);
    if (options.sort) cursor = cursor.sort(options.sort);
    if (options.skip) cursor = cursor.skip(options.skip);
    if (options.limit) cursor = cursor.limit(options.limit);
    return cursor.all() as T[];
  }

  async findOne(filter: Filter, options: FindOptions = {}): Promise<T | null> {
    const [first] = await this.matching(filter, { ...options, limit: 1 });
    return first ? project(first, options.fields) : null;
  }

  async find(filter: Filter, options: FindOptions = {}): Promise<T[]> {
    return (await this.matching(filter, options)).map((d) => project(d, options.fields));
  }

  async count(filter: Filter): Promise<number> {
    if (Object.keys(filter).length === 0) return this.docs.size;
    return (await this.matching(filter)).length;
  }

  private assertUnique(candidate: T): void {
    for (const field of this.uniqueFields) {
      const value = candidate[field];
      if (!isScalar(value)) continue;
      for (const id of this.indexes.get(field)?.ids(value) ?? []) if (id !== candidate._id) throw new DuplicateKeyError('duplicate key');
    }
  }

  /** How many index entries `doc` has. */
  private entriesOf(doc: T): number {
    let entries = 0;
    for (const field of this.indexes.keys()) entries += indexedValues(doc[field]).length;
    return entries;
  }

  /** Enters `doc` in every index; resolves to the entries made. */
  private index(doc: T): number {
    let entries = 0;
    for (const [field, index] of this.indexes) {
      for (const value of indexedValues(doc[field])) {
        index.add(value, doc._id);
        entries++;
      }
    }
    return entries;
  }

  /** Takes `doc` out of every index; resolves to the entries removed. */
  private unindex(doc: T): number {
    let entries = 0;
    for (const [field, index] of this.indexes) {
      for (const value of indexedValues(doc[field])) {
        index.delete(value, doc._id);
        entries++;
      }
    }
    return entries;
  }

  /** Removes `doc` (as decoded from the store) and gives back what it held. */
  private remove(doc: T): boolean {
    const bytes = this.docs.get(doc._id);
    if (!bytes) return false;
    this.ledger.count(-1, bytes.byteLength, this.unindex(doc));
    for (const column of this.columns.values()) column.delete(doc._id);
    return this.docs.delete(doc._id);
  }

  async insertOne(doc: T): Promise<void> {
    this.insertNow(doc);
  }

  /** One insert, synchronously: weighed, checked for unique keys, then stored whole or not at all. */
  private insertNow(doc: T): void {
    if (this.docs.has(doc._id)) throw new DuplicateKeyError('duplicate key');
    this.assertUnique(doc);
    const bytes = encode(doc);
    const entries = this.entriesOf(doc);
    this.ledger.admit(ENTRY_BYTES + bytes.byteLength + entries * INDEX_ENTRY_BYTES, heapWeight(entries), this.patientData);
    this.docs.set(doc._id, bytes);
    // Scalars only: the caller changing its document afterwards changes nothing here.
    this.index(doc);
    this.noteColumns(doc);
    this.ledger.count(1, bytes.byteLength, entries);
  }

  async updateOne(filter: Filter, update: Update): Promise<boolean> {
    const [target] = await this.matching(filter, { limit: 1 });
    if (!target) return false;
    const before = this.docs.get(target._id)!;
    // A shallow copy suffices for the common updates: they replace fields, never edit them in
    // place; mingo may edit nested values in place, so it gets a copy of its own.
    let next: T = { ...target };
    if (!applySimpleUpdate(next, update)) {
      next = this.decode(before);
      (await mingo()).update(next, update as Parameters<typeof Mingo.update>[1]);
    }
    this.assertUnique(next);
    const bytes = encode(next);
    const entryGrowth = (this.entriesOf(next) - this.entriesOf(target)) * INDEX_ENTRY_BYTES;
    const growth = bytes.byteLength - before.byteLength + entryGrowth;
    this.ledger.admit(growth, entryGrowth, this.patientData);
    this.unindex(target);
    this.docs.set(target._id, bytes);
    this.index(next);
    this.noteColumns(next);
    this.ledger.usedBytes += growth;
    this.ledger.usedHeapBytes += entryGrowth;
    return true;
  }

  async deleteOne(filter: Filter): Promise<boolean> {
    const [target] = await this.matching(filter, { limit: 1 });
    return target ? this.remove(target) : false;
  }

  async deleteMany(filter: Filter): Promise<number> {
    const targets = await this.matching(filter);
    for (const t of targets) this.remove(t);
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
    for (const spec of indexes) {
      const fields = Object.keys(spec.keys);
      const first = fields[0];
      if (first === undefined || first === '_id') continue;
      if (!this.indexes.has(first)) {
        const index = new ValueIndex();
        this.indexes.set(first, index);
        // Documents stored before the index was declared.
        for (const bytes of this.docs.values()) {
          const doc = this.decode(bytes);
          for (const value of indexedValues(doc[first])) {
            index.add(value, doc._id);
            this.ledger.usedBytes += INDEX_ENTRY_BYTES;
            this.ledger.usedHeapBytes += INDEX_ENTRY_BYTES;
          }
        }
      }
      if (spec.unique && fields.length === 1) this.uniqueFields.add(first);
    }
  }

  clear(): void {
    for (const bytes of this.docs.values()) this.ledger.count(-1, bytes.byteLength, this.entriesOf(this.decode(bytes)));
    this.docs.clear();
    for (const index of this.indexes.values()) index.clear();
    this.columns.clear();
  }
}

/** Options of {@link MemoryDatabase}. */
export interface MemoryDatabaseOptions {
  /**
   * The most the store holds, in its own count of bytes (`PONTIS_EMBEDDED_MAX_BYTES`): the
   * documents' serialised bytes, kept off the V8 heap, with their entries; beyond it writes are
   * refused with {@link StoreFullError}. Unbounded when absent (tests, benches).
   */
  maxBytes?: number;
  /**
   * The most the store keeps on the V8 heap (its maps, `_id`s, Buffer objects and index entries),
   * in its own estimate; beyond it writes are refused as beyond `maxBytes`. A share of the heap
   * limit (config.ts); unbounded when absent.
   */
  maxHeapBytes?: number;
}

/** What the embedded store holds and may hold: its bytes (mostly off the heap) and its share of the V8 heap. */
export interface EmbeddedCapacity extends StoreCapacity {
  /** The most the store keeps on the V8 heap, in its own estimate. */
  readonly maxHeapBytes: number;
  /** Patient data's share of {@link maxHeapBytes} (seven eighths, as for the bytes). */
  readonly patientDataHeapBytes: number;
  /** Estimated heap bytes the store keeps now. */
  readonly usedHeapBytes: number;
  /** Heap bytes promised to writes under way. */
  readonly reservedHeapBytes: number;
}

const MIB = 1024 * 1024;
/**
 * What the store counts as patient data for one pushed document of a new patient (its bytes,
 * record, patient, identifier claim and change; the push's audit record and token use go to the
 * records' share), measured by bench/embedded-memory.mjs for the IPS examples: the minimal one
 * (17 KB of JSON) and the all-sections one (103 KB). BENCHMARKS.md, issue 16.
 */
const STORED_BYTES_PER_DOCUMENT = { minimal: 22_600, allSections: 108_000 };
/**
 * What the store estimates one pushed document of a new patient keeps on the heap, whatever its
 * size: six entries (its audit record and token use included, so the count errs low) and their
 * index entries; the heap really grew 4.2 KB (minimal) and 4.7 KB (all-sections) a push.
 * BENCHMARKS.md, issue 16, fourth session.
 */
const HEAP_BYTES_PER_DOCUMENT = 4_600;
/** The heap one write of patient data may take (a push linking several identifiers: a few more entries), set aside by {@link MemoryDatabase.reserve}. */
const HEAP_BYTES_PER_WRITE = 16 * 1024;

/**
 * The embedded default store: zero set-up, nothing persisted, bounded in memory. Passes the same
 * contract tests as {@link MongoDatabase}.
 */
export class MemoryDatabase implements DocumentDatabase {
  readonly kind = 'embedded' as const;
  private readonly collections = new Map<string, MemoryCollection<Doc>>();
  private readonly ledger: Ledger;
  private readonly stats = { decoded: 0 };

  constructor(options: MemoryDatabaseOptions = {}) {
    this.ledger = new Ledger(options.maxBytes ?? Number.POSITIVE_INFINITY, options.maxHeapBytes ?? Number.POSITIVE_INFINITY);
  }

  collection<T extends { _id: string }>(name: string): DocumentCollection<T> {
    let collection = this.collections.get(name);
    if (!collection) {
      collection = new MemoryCollection<Doc>(this.ledger, PATIENT_DATA.has(name), this.stats);
      this.collections.set(name, collection);
    }
    return collection as unknown as DocumentCollection<T>;
  }

  capacity(): EmbeddedCapacity {
    const { maxBytes, patientDataBytes, usedBytes, reservedBytes, maxHeapBytes, patientDataHeapBytes, usedHeapBytes, reservedHeapBytes } = this.ledger;
    return { maxBytes, patientDataBytes, usedBytes, reservedBytes, maxHeapBytes, patientDataHeapBytes, usedHeapBytes, reservedHeapBytes };
  }

  /**
   * How many stored documents queries have decoded since the store opened: what a request costs
   * the store, which must not grow with the number of documents stored (tests of the hot paths).
   */
  decodedDocuments(): number {
    return this.stats.decoded;
  }

  /** How many documents the store holds, all collections together (records included). */
  storedDocuments(): number {
    return this.ledger.documents;
  }

  /** Sets aside `bytes` and one write's heap ({@link HEAP_BYTES_PER_WRITE}) under patient data's bounds. */
  reserve(bytes: number): () => void {
    const ledger = this.ledger;
    if (ledger.usedBytes + ledger.reservedBytes + bytes > ledger.patientDataBytes) {
      throw new StoreFullError(`the embedded store is full (patient data, bound ${ledger.maxBytes} bytes)`);
    }
    if (ledger.usedHeapBytes + ledger.reservedHeapBytes + HEAP_BYTES_PER_WRITE > ledger.patientDataHeapBytes) {
      throw new StoreFullError(`the embedded store is full (patient data, heap bound ${ledger.maxHeapBytes} bytes)`);
    }
    ledger.reservedBytes += bytes;
    ledger.reservedHeapBytes += HEAP_BYTES_PER_WRITE;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      ledger.reservedBytes -= bytes;
      ledger.reservedHeapBytes -= HEAP_BYTES_PER_WRITE;
    };
  }

  async describe(): Promise<string> {
    const { maxBytes, patientDataBytes, maxHeapBytes, patientDataHeapBytes } = this.ledger;
    if (!Number.isFinite(maxBytes) && !Number.isFinite(maxHeapBytes)) return 'embedded in-memory store (not persistent), unbounded';
    const mib = (bytes: number): string => (Number.isFinite(bytes) ? `${Math.round(bytes / MIB)} MiB` : 'unbounded');
    // Documents of one kind fit until either bound is met: their bytes, or the heap kept for them.
    const byHeap = patientDataHeapBytes / HEAP_BYTES_PER_DOCUMENT;
    const about = (bytesPerDocument: number): string => Math.floor(Math.min(patientDataBytes / bytesPerDocument, byHeap)).toLocaleString('en');
    const heapFirst = byHeap < patientDataBytes / STORED_BYTES_PER_DOCUMENT.minimal;
    return (
      `embedded in-memory store (not persistent), holds at most ${mib(maxBytes)} (PONTIS_EMBEDDED_MAX_BYTES), its documents kept off the V8 heap, ` +
      `${Number.isFinite(maxHeapBytes) ? `and ${mib(maxHeapBytes)} of the heap for their entries` : 'with no bound on the heap'}: ` +
      `documents, patients and Consents up to ${mib(patientDataBytes)}${Number.isFinite(patientDataHeapBytes) ? ` and ${mib(patientDataHeapBytes)} of the heap` : ''} ` +
      `(about ${about(STORED_BYTES_PER_DOCUMENT.minimal)} minimal or ${about(STORED_BYTES_PER_DOCUMENT.allSections)} all-sections IPS documents, each of its own patient` +
      `${heapFirst ? '; the heap bound is met first' : ''}), the rest kept for audit records`
    );
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
