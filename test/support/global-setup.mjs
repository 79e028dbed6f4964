import { MongoClient } from 'mongodb';
import { NO_SERVER_HELP, startMongoTestServer } from '../../scripts/mongo-test-server.mjs';

/**
 * Provides the storage tests with a MongoDB-wire server (see scripts/mongo-test-server.mjs) and says which one,
 * so that CI logs show what the suite ran against. Plain JS: jest loads it outside its transform.
 */
export default async function globalSetup() {
  const server = await startMongoTestServer();
  globalThis.__PONTIS_MONGO__ = server;
  if (!server) {
    process.env.PONTIS_TEST_MONGODB_MISSING = NO_SERVER_HELP;
    process.stdout.write(`\n${NO_SERVER_HELP}\n`);
    return;
  }
  process.env.PONTIS_TEST_MONGODB_URI = server.uri;
  const client = new MongoClient(server.uri, { serverSelectionTimeoutMS: 5000 });
  try {
    const info = await client.db('admin').command({ buildInfo: 1 });
    const name = info.ferretdbVersion ? `FerretDB ${info.ferretdbVersion} (MongoDB wire ${info.version})` : `MongoDB ${info.version}`;
    process.stdout.write(`\nStorage tests run against: ${name} at ${server.uri}\n`);
  } finally {
    await client.close();
  }
}
