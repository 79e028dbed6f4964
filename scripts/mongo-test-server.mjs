import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';


const ROOT = fileURLToPath(new URL('../', import.meta.url));
export const FERRETDB_BIN = process.env['PONTIS_FERRETDB_BIN'] ?? join(ROOT, '.cache', 'ferretdb', 'ferretdb');

/** How to get a server when none is available; the MongoDB suites fail with this message. */
export const NO_SERVER_HELP =
  'No MongoDB-wire server for the storage tests. Either set MONGODB_URI to a MongoDB (or FerretDB) ' +
  'server, or build FerretDB with `scripts/install-ferretdb.sh` (needs Go), which the tests then start themselves.';

/** A free loopback port. @returns {Promise<number>} */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Waits until FerretDB listens on `port`. @param {number} port @param {import('node:child_process').ChildProcess} child @param {number} timeoutMs */
export async function waitForPort(port, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`FerretDB exited with code ${child.exitCode}`);
    const open = await new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`FerretDB did not listen on port ${port} within ${timeoutMs} ms`);
}

/**
 * The server at MONGODB_URI when given; else a FerretDB (SQLite backend) started on a free
 * loopback port in a temporary folder; else undefined.
 *
 * @returns {Promise<{ uri: string, process?: import('node:child_process').ChildProcess, dataDir?: string } | undefined>}
 */
export async function startMongoTestServer() {
  const given = process.env['MONGODB_URI'];
  if (given) return { uri: given };
  if (!existsSync(FERRETDB_BIN)) return undefined;
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'pontis-ferretdb-'));
  const child = spawn(
    FERRETDB_BIN,
    [
      '--handler=sqlite',
      `--sqlite-url=file:${dataDir}/`,
      `--listen-addr=127.0.0.1:${port}`,
      '--debug-addr=-',
      '--telemetry=disable',
      '--log-level=error',
      `--state-dir=${dataDir}`,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  await waitForPort(port, child, 15_000);
  return { uri: `mongodb://127.0.0.1:${port}/`, process: child, dataDir };
}

/** Stops a FerretDB started by {@link startMongoTestServer} and removes its data. */
/** @param {{ process?: import('node:child_process').ChildProcess, dataDir?: string } | undefined} server */
export async function stopMongoTestServer(server) {
  if (!server?.process) return;
  const child = server.process;
  await new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
  if (server.dataDir) rmSync(server.dataDir, { recursive: true, force: true });
}
