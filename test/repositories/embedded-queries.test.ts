import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { find as mingoFind } from 'mingo';
import { MemoryDatabase } from '../../src/repositories/memory-database.js';

type Row = { _id: string; n?: number | number[] | null; s?: string };

const value = fc.oneof(fc.integer({ min: 0, max: 4 }), fc.constant(null), fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }));
const row = fc.record({ n: value, s: fc.constantFrom('a', 'b', 'c') }, { requiredKeys: [] });
const scalar = fc.integer({ min: 0, max: 4 });
const filter = fc.oneof(
  fc.record({ n: fc.record({ $in: fc.array(scalar, { maxLength: 3 }) }) }),
  fc.record({ n: fc.record({ $ne: scalar }) }),
  fc.record({ n: fc.record({ $exists: fc.boolean() }) }),
  fc.record({ n: fc.record({ $gte: scalar, $in: fc.array(scalar, { minLength: 1, maxLength: 3 }) }) }),
  fc.record({ s: fc.constantFrom('a', 'b'), n: fc.record({ $ne: scalar }) }),
  fc.constant({}),
);

describe('the embedded store answers as mingo (MongoDB semantics) on the shapes it answers directly', () => {
  it('$in, $ne, $exists and ranges on top-level fields, with or without an index', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(row, { maxLength: 12 }), filter, fc.boolean(), async (rows, query, indexed) => {
        const docs: Row[] = rows.map((r, i) => ({ _id: `d${i}`, ...r }) as Row);
        const database = new MemoryDatabase();
        const collection = database.collection<Row>('things');
        if (indexed) await collection.ensureIndexes([{ name: 'n', keys: { n: 1 } }]);
        for (const d of docs) await collection.insertOne(d);
        const ours = (await collection.find(query)).map((d) => d._id).sort();
        const theirs = (mingoFind(docs, query).all() as Row[]).map((d) => d._id).sort();
        expect(ours).toEqual(theirs);
      }),
      { numRuns: 300 },
    );
  });

  it('sorts on one type of value per field as mingo does, ties in insertion order, with skip and limit', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ n: fc.integer({ min: 0, max: 3 }), s: fc.constantFrom('a', 'b', 'c') }), { maxLength: 12 }), fc.constantFrom<1 | -1>(1, -1), fc.nat(3), fc.integer({ min: 1, max: 5 }), async (rows, direction, skip, limit) => {
        const docs: Row[] = rows.map((r, i) => ({ _id: `d${String(i).padStart(2, '0')}`, ...r }));
        const collection = new MemoryDatabase().collection<Row>('things');
        for (const d of docs) await collection.insertOne(d);
        const sort = { n: direction, _id: direction };
        const ours = (await collection.find({}, { sort, skip, limit })).map((d) => d._id);
        const theirs = (mingoFind(docs, {}).sort(sort).skip(skip).limit(limit).all() as Row[]).map((d) => d._id);
        expect(ours).toEqual(theirs);
      }),
      { numRuns: 200 },
    );
  });
});
