#!/usr/bin/env node
/**
 * `npm run fuzz`: the long fuzz campaign (test/reliability/fuzz.test.ts through jest, which
 * transpiles the TypeScript and provides the MongoDB-wire server). Prints the seed, requests by
 * status, token kind, transport and route, requests per second, every violation with the command
 * that replays it, and the command that re-runs the whole campaign. Exit code 1 on a violation.
 *
 * Environment (all optional):
 *   FUZZ_SEED            seed (default: random, printed)
 *   FUZZ_REQUESTS        requests in all (default 100000)
 *   FUZZ_ROUND_REQUESTS  requests per round, each round a fresh node (default 10000)
 *   FUZZ_BACKEND         stores taken in turn by the rounds: embedded, mongodb (default
 *                        embedded,embedded,embedded,embedded,mongodb)
 *   FUZZ_PATH            replay one batch (as printed with a violation) and shrink it
 *   FUZZ_SOCKET_SHARE, FUZZ_RAW_SHARE, FUZZ_MAX_BATCH  mix of the requests (0.2, 0.4, 12)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const seed = process.env.FUZZ_SEED ?? String(Math.floor(Math.random() * 2 ** 31));
const requests = process.env.FUZZ_REQUESTS ?? (process.env.FUZZ_PATH === undefined ? '100000' : '1');
const backend = process.env.FUZZ_BACKEND ?? 'embedded,embedded,embedded,embedded,mongodb';
const dir = mkdtempSync(join(tmpdir(), 'pontis-fuzz-'));
const reportFile = join(dir, 'report.json');

const settings = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('FUZZ_')));
const command = `${Object.entries({ ...settings, FUZZ_SEED: seed, FUZZ_REQUESTS: requests, FUZZ_BACKEND: backend })
  .filter(([k]) => k !== 'FUZZ_REPORT')
  .map(([k, v]) => `${k}=${v}`)
  .join(' ')} npm run fuzz`;
process.stdout.write(`fuzz: seed ${seed}, ${requests} requests, stores ${backend}, on ${(await import('node:os')).cpus().length} cores\n`);

const run = spawnSync(
  process.execPath,
  ['--experimental-vm-modules', '--no-warnings=ExperimentalWarning', 'node_modules/jest/bin/jest.js', '--runInBand', '--silent', 'test/reliability/fuzz.test.ts'],
  {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, FUZZ_SEED: seed, FUZZ_REQUESTS: requests, FUZZ_BACKEND: backend, FUZZ_REPORT: reportFile, FUZZ_COMMAND: command },
  },
);

if (!existsSync(`${reportFile}.txt`)) {
  process.stdout.write(`fuzz: the campaign did not finish (jest exit ${run.status}); re-run: ${command}\n`);
  rmSync(dir, { recursive: true, force: true });
  process.exit(2);
}
process.stdout.write(`\n${readFileSync(`${reportFile}.txt`, 'utf8')}\n`);
const report = JSON.parse(readFileSync(reportFile, 'utf8'));
rmSync(dir, { recursive: true, force: true });
process.exit(report.violations.length > 0 || report.counterexample || report.unreachedRoutes.length > 0 ? 1 : 0);
