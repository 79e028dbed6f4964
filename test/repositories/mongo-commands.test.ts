import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { MongoClient } from 'mongodb';
import { MongoDatabase } from '../../src/repositories/mongo-database.js';
import { storeOn } from '../../src/repositories/store.js';

const OP_MSG = 2013;

/**
 * A TCP proxy in front of the MongoDB-wire test server that counts the commands sent through it
 * by name (the first key of each OP_MSG body): what the node costs the server, seen on the wire.
 */
async function commandCounter(target: URL): Promise<{ uri: string; count(name: string): number; close(): Promise<void> }> {
  const counts = new Map<string, number>();
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    let pending = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 16 && pending.length >= pending.readInt32LE(0)) {
        const message = pending.subarray(0, pending.readInt32LE(0));
        if (message.readInt32LE(12) === OP_MSG && message[20] === 0) {
          const name = message.toString('latin1', 26, message.indexOf(0, 26));
          counts.set(name, (counts.get(name) ?? 0) + 1);
        }
        pending = pending.subarray(message.length);
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => client.write(chunk));
    for (const s of [client, upstream]) s.on('close', () => [client, upstream].forEach((t) => t.destroy())).on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    uri: `mongodb://127.0.0.1:${port}/`,
    count: (name) => counts.get(name) ?? 0,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** What the MongoDB store sends to the server: specific to a database server (the embedded store sends nothing). */
describe('the MongoDB store on the wire', () => {
  const uri = process.env['PONTIS_TEST_MONGODB_URI'];
  const name = `pontis_test_${randomUUID().slice(0, 8)}`;
  let counter: Awaited<ReturnType<typeof commandCounter>>;
  let database: MongoDatabase;

  beforeAll(async () => {
    if (!uri) throw new Error(process.env['PONTIS_TEST_MONGODB_MISSING'] ?? 'no MongoDB test server configured');
    counter = await commandCounter(new URL(uri));
    database = await MongoDatabase.connect(counter.uri, name);
  });
  afterAll(async () => {
    await database.drop();
    await database.close();
    await counter.close();
  });

  it('sends concurrent single inserts into one collection together, each stored', async () => {
    const things = database.collection<{ _id: string; n: number }>('wire_things');
    const before = counter.count('insert');
    // Submitted in one turn: one command.
    await Promise.all(Array.from({ length: 8 }, (_, n) => things.insertOne({ _id: `w${n}`, n })));
    expect(counter.count('insert') - before).toBe(1);
    // One, then seven in a later turn (while it is under way, or after): the seven in one more command.
    const first = things.insertOne({ _id: 'x0', n: 0 });
    await new Promise((resolve) => setImmediate(resolve));
    await Promise.all([first, ...Array.from({ length: 7 }, (_, n) => things.insertOne({ _id: `x${n + 1}`, n: n + 1 }))]);
    expect(counter.count('insert') - before).toBe(3);
    expect((await things.find({}, { sort: { _id: 1 } })).map((d) => d._id)).toEqual([...Array.from({ length: 8 }, (_, n) => `w${n}`), ...Array.from({ length: 8 }, (_, n) => `x${n}`)]);
  });

  it("sends a push's two claims, its write token's and its new patient's identifier's, as one insert", async () => {
    const store = await storeOn(database, { currentSummaryTtlMs: 1000, documentCacheBytes: 2 ** 20 });
    const before = counter.count('insert');
    const [resolved, first] = await Promise.all([store.patients.resolve([`urn:test|${randomUUID()}`]), store.tokenUses.firstUse('iss', randomUUID(), new Date(Date.now() + 60_000))]);
    expect(resolved.created).toBe(true);
    expect(first).toBe(true);
    expect(counter.count('insert') - before).toBe(1);
    store.tokenUses.close();
  });

  it('keeps no index that no query uses: those of earlier releases are dropped when the store opens, again and again', async () => {
    // A store of an earlier release, with its indexes.
    await database.collection('summaries').ensureIndexes([{ name: 'patient_current', keys: { patientId: 1, timestampMs: -1, lastUpdated: -1 } }]);
    await database.collection('patients').ensureIndexes([{ name: 'identifier_keys', keys: { identifierKeys: 1 } }]);
    const options = { currentSummaryTtlMs: 1000, documentCacheBytes: 2 ** 20 };
    await storeOn(database, options);
    // A second start finds them gone already.
    await storeOn(database, options);
    const client = await MongoClient.connect(uri!);
    try {
      const names = async (collection: string) => (await client.db(name).collection(collection).listIndexes().toArray()).map((i) => i['name'] as string).sort();
      expect(await names('summaries')).toEqual(['_id_', 'identifier_unique']);
      expect(await names('patients')).toEqual(['_id_', 'birth_date', 'birth_date_prefixes', 'family_prefixes', 'given_prefixes', 'identifier_values']);
      // The token sweep's range: identifier claims share the collection and grow with the patients.
      expect(await names('claims')).toEqual(['_id_', 'token_expiry']);
    } finally {
      await client.close();
    }
  });
});
