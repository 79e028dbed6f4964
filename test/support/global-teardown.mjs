import { stopMongoTestServer } from '../../scripts/mongo-test-server.mjs';

/** Stops the FerretDB the global set-up started, if it started one. */
export default async function globalTeardown() {
  await stopMongoTestServer(globalThis.__PONTIS_MONGO__);
}
