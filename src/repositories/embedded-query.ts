import type { Filter, Sort, Update } from './document-collection.js';

/** A stored document of the embedded store, decoded. */
export type Doc = { _id: string } & Record<string, unknown>;
/** A value an index keys on, and equality compares directly. */
export type Scalar = string | number | boolean;

export const isScalar = (v: unknown): v is Scalar => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
const RANGE_OPERATORS = new Set(['$lt', '$lte', '$gt', '$gte']);
const FIELD_OPERATORS = new Set([...RANGE_OPERATORS, '$in', '$exists', '$ne']);

/** A Date of any realm (decoded documents and test sandboxes make Dates of their own). */
export const isDate = (v: unknown): v is Date => Object.prototype.toString.call(v) === '[object Date]';

/** MongoDB equality: the value itself, or an element of an array field. */
function matchesValue(field: unknown, value: Scalar): boolean {
  return field === value || (Array.isArray(field) && field.includes(value));
}

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
export function inOperand(condition: unknown): Scalar[] | undefined {
  if (condition === null || typeof condition !== 'object' || isDate(condition) || Array.isArray(condition)) return undefined;
  const values = (condition as Record<string, unknown>)['$in'];
  return Array.isArray(values) && values.every(isScalar) ? values : undefined;
}

/**
 * A predicate for filters made of equality on scalars, ranges ($lt, $lte, $gt, $gte), `$in` and
 * `$ne` of scalars and `$exists` on top-level fields, the shapes of the hot paths and of start-up;
 * undefined for anything else (mingo answers).
 */
export function simplePredicate(filter: Filter): ((doc: Doc) => boolean) | undefined {
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
export function simpleSort<T extends Doc>(docs: T[], sort: Sort): T[] | undefined {
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

/**
 * `$set` and `$addToSet` (with or without `$each`) on top-level fields, applied to `doc`; false,
 * leaving `doc` as it was, for anything else (mingo applies it). Values are not copied: the store
 * encodes the result at once.
 */
export function applySimpleUpdate(doc: Doc, update: Update): boolean {
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
        (doc as Record<string, unknown>)[k] = v;
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
export function indexedValues(value: unknown): Scalar[] {
  if (isScalar(value)) return [value];
  return Array.isArray(value) ? value.filter(isScalar) : [];
}
