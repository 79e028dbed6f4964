import { describe, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { memoryBackend, mongoBackend, type Backend } from '../support/stores.js';
import { formatReport, runFuzz, type FuzzReport } from './fuzz-harness.js';

/**
 * Property-based fuzzing of every route with every kind of token (see fuzz-harness.ts for the
 * properties). In the suite: a short seeded run on the embedded store and one on the
 * MongoDB-wire server. `npm run fuzz` (scripts/fuzz.mjs) runs the long campaign through this
 * file with FUZZ_REQUESTS set, and replays one batch with FUZZ_SEED and FUZZ_PATH.
 */

const env = process.env;
const SEED = Number(env['FUZZ_SEED'] ?? 20260601);
const campaign = env['FUZZ_REQUESTS'] !== undefined || env['FUZZ_PATH'] !== undefined;

function backendsOf(names: string): Backend[] {
  return names.split(',').map((n) => (n.trim() === 'mongodb' ? mongoBackend : memoryBackend));
}

/** The violations as lines, so that a failing test lists each with its replay command. */
function violationLines(report: FuzzReport): string[] {
  return report.violations.map((v) => `${v.kind} (×${v.count}) e.g. ${v.example.slice(0, 300)} | replay: ${v.reproduce}`);
}

describe('fuzzing every route with every kind of token', () => {
  if (campaign) {
    it('campaign (npm run fuzz)', async () => {
      const report = await runFuzz({
        seed: SEED,
        requests: Number(env['FUZZ_REQUESTS'] ?? 1),
        roundRequests: Number(env['FUZZ_ROUND_REQUESTS'] ?? 10_000),
        backends: backendsOf(env['FUZZ_BACKEND'] ?? 'embedded'),
        ...(env['FUZZ_SOCKET_SHARE'] !== undefined ? { socketShare: Number(env['FUZZ_SOCKET_SHARE']) } : {}),
        ...(env['FUZZ_RAW_SHARE'] !== undefined ? { rawShare: Number(env['FUZZ_RAW_SHARE']) } : {}),
        ...(env['FUZZ_MAX_BATCH'] !== undefined ? { maxBatch: Number(env['FUZZ_MAX_BATCH']) } : {}),
        ...(env['FUZZ_PATH'] !== undefined ? { path: env['FUZZ_PATH'] } : {}),
        progress: (line) => process.stderr.write(`fuzz: ${line}\n`),
      });
      if (env['FUZZ_REPORT']) {
        writeFileSync(env['FUZZ_REPORT'], JSON.stringify(report, null, 2));
        writeFileSync(`${env['FUZZ_REPORT']}.txt`, formatReport(report, env['FUZZ_COMMAND'] ?? `FUZZ_SEED=${SEED} npm run fuzz`));
      }
      expect(violationLines(report)).toEqual([]);
      expect(report.counterexample).toBeUndefined();
    }, 24 * 3600_000);
  } else {
    const runs: [string, Backend, number][] = [
      ['the embedded store', memoryBackend, 2500],
      ['the MongoDB-wire server', mongoBackend, 600],
    ];
    it.each(runs)('on %s: no 5xx, OperationOutcome errors, nothing in logs, nothing stored from refused writes, node alive', async (_name, backend, requests) => {
      const report = await runFuzz({ seed: SEED, requests, roundRequests: requests, backends: [backend] });
      const command = `FUZZ_SEED=${SEED} FUZZ_REQUESTS=${requests} FUZZ_BACKEND=${backend === mongoBackend ? 'mongodb' : 'embedded'} npm run fuzz`;
      if (report.violations.length > 0) process.stderr.write(`${formatReport(report, command)}\n`);
      expect(report.requests).toBeGreaterThanOrEqual(requests);
      expect(violationLines(report)).toEqual([]);
      // Every route the node declares was reached (the catch-all 405 routes are not all, at this size).
      if (backend === memoryBackend) expect(report.unreachedRoutes.filter((r) => !r.startsWith('* '))).toEqual([]);
    }, 120_000);
  }
});
