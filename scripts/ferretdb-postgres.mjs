#!/usr/bin/env node
// FerretDB 1.x on a throw-away PostgreSQL cluster, for benchmarks (bench/scale.mjs with
// BENCH_BACKEND=postgresql) and for running the storage tests against that backend by hand:
//
//   node scripts/ferretdb-postgres.mjs        prints MONGODB_URI=..., runs until Ctrl-C, then removes
//                                             the cluster (PONTIS_PG_GIN=0: without the GIN indexes)
//
// Why: FerretDB's SQLite backend pushes down only `_id` equality, its PostgreSQL backend also
// pushes down equality on scalar fields (see docs/operations.md). The cluster is made with the
// installed PostgreSQL binaries (initdb, pg_ctl; `/usr/lib/postgresql/<newest>/bin`, or
// PONTIS_PG_BIN) in a new folder under .cache/, listening on a free loopback port and a Unix socket
// in that folder only, with trust authentication (loopback, throw-away). PostgreSQL refuses to run
// as root, so as root the cluster belongs to the `postgres` user and the commands run as it.
// FerretDB is the binary built by scripts/install-ferretdb.sh.
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FERRETDB_BIN, freePort, waitForPort } from './mongo-test-server.mjs';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** The newest installed PostgreSQL's bin folder, or PONTIS_PG_BIN. */
function postgresBin() {
  if (process.env['PONTIS_PG_BIN']) return process.env['PONTIS_PG_BIN'];
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'initdb'))) : [];
  if (versions.length === 0) throw new Error('ferretdb-postgres: no PostgreSQL binaries in /usr/lib/postgresql/*/bin; set PONTIS_PG_BIN');
  versions.sort((a, b) => Number(b) - Number(a));
  return join(base, versions[0], 'bin');
}

/** Runs a PostgreSQL command, as the `postgres` user when we are root. */
function pg(bin, args) {
  const asRoot = process.getuid?.() === 0;
  const [command, commandArgs] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, args[0]), ...args.slice(1)]] : [join(bin, args[0]), args.slice(1)];
  return execFileSync(command, commandArgs, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

/**
 * A new PostgreSQL cluster under .cache/ and FerretDB (PostgreSQL backend) on it.
 *
 * @param {{ settings?: Record<string, string>, ginIndexes?: boolean }} [options] extra PostgreSQL settings
 *   (`-c name=value`); `ginIndexes: false` leaves out scripts/ferretdb-postgres-indexes.sql (FerretDB's own
 *   B-trees only, which its pushed-down filters cannot use)
 * @returns {Promise<{ uri: string, process: import('node:child_process').ChildProcess, dataDir: string, postgresDir: string, postgresPort: number, bin: string, version: string }>}
 */
export async function startFerretDbOnPostgres(options = {}) {
  if (!existsSync(FERRETDB_BIN)) throw new Error('ferretdb-postgres: build FerretDB first with scripts/install-ferretdb.sh');
  const bin = postgresBin();
  mkdirSync(join(ROOT, '.cache'), { recursive: true });
  const dataDir = mkdtempSync(join(ROOT, '.cache', 'postgres-'));
  const postgresDir = join(dataDir, 'cluster');
  mkdirSync(postgresDir, { mode: 0o700 });
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
    chownSync(dataDir, uid, gid);
    chownSync(postgresDir, uid, gid);
  }
  pg(bin, ['initdb', '-D', postgresDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const postgresPort = await freePort();
  // force_custom_plan: FerretDB sends the field name as a parameter, and only a plan for the actual
  // values matches the GIN indexes' expressions (scripts/ferretdb-postgres-indexes.sql).
  const settings = { listen_addresses: '127.0.0.1', port: String(postgresPort), unix_socket_directories: dataDir, plan_cache_mode: 'force_custom_plan', ...options.settings };
  const flags = Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`).join(' ');
  pg(bin, ['pg_ctl', '-D', postgresDir, '-l', join(dataDir, 'postgres.log'), '-o', flags, '-w', 'start']);
  let child;
  try {
    pg(bin, ['createdb', '-h', '127.0.0.1', '-p', String(postgresPort), '-U', 'postgres', 'ferretdb']);
    if (options.ginIndexes !== false) {
      pg(bin, ['psql', '-h', '127.0.0.1', '-p', String(postgresPort), '-U', 'postgres', '-d', 'ferretdb', '-q', '-v', 'ON_ERROR_STOP=1', '-f', join(ROOT, 'scripts', 'ferretdb-postgres-indexes.sql')]);
    }
    const version = pg(bin, ['psql', '-h', '127.0.0.1', '-p', String(postgresPort), '-U', 'postgres', '-d', 'ferretdb', '-At', '-c', 'SHOW server_version']).trim();
    const port = await freePort();
    child = spawn(
      FERRETDB_BIN,
      [
        '--handler=postgresql',
        `--postgresql-url=postgres://postgres@127.0.0.1:${postgresPort}/ferretdb`,
        `--listen-addr=127.0.0.1:${port}`,
        '--debug-addr=-',
        '--telemetry=disable',
        '--log-level=error',
        `--state-dir=${dataDir}`,
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    await waitForPort(port, child, 15_000);
    return { uri: `mongodb://127.0.0.1:${port}/`, process: child, dataDir, postgresDir, postgresPort, bin, version };
  } catch (error) {
    child?.kill('SIGTERM');
    stopCluster(bin, postgresDir, dataDir);
    throw error;
  }
}

function stopCluster(bin, postgresDir, dataDir) {
  try {
    pg(bin, ['pg_ctl', '-D', postgresDir, '-m', 'fast', '-w', 'stop']);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * Bytes PostgreSQL holds for one FerretDB database (its schema: tables, indexes, TOAST).
 *
 * @param {{ bin: string, postgresPort: number }} server @param {string} database
 */
export function postgresDatabaseBytes(server, database) {
  const sql = `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '${database.replace(/'/g, "''")}' AND c.relkind = 'r'`;
  return Number(pg(server.bin, ['psql', '-h', '127.0.0.1', '-p', String(server.postgresPort), '-U', 'postgres', '-d', 'ferretdb', '-At', '-c', sql]).trim());
}

/** Stops FerretDB and the cluster, and removes the cluster's folder. */
/** @param {{ process: import('node:child_process').ChildProcess, dataDir: string, postgresDir: string, bin: string } | undefined} server */
export async function stopFerretDbOnPostgres(server) {
  if (!server) return;
  const child = server.process;
  await new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
  stopCluster(server.bin, server.postgresDir, server.dataDir);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const server = await startFerretDbOnPostgres({ ginIndexes: process.env['PONTIS_PG_GIN'] !== '0' });
  process.stdout.write(`FerretDB on PostgreSQL ${server.version} (cluster in ${server.dataDir})\nMONGODB_URI=${server.uri}\n`);
  const stop = () => {
    stopFerretDbOnPostgres(server).then(() => process.exit(0), (error) => {
      process.stderr.write(`ferretdb-postgres: ${error}\n`);
      process.exit(1);
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
