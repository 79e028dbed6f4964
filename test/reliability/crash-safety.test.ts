import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Runs `scripts/crash.mjs` (npm run crash) with `env`; its exit code and output. */
function crashRun(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['scripts/crash.mjs'], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

/**
 * A short `npm run crash` (3 SIGKILL cycles instead of 20) on the test FerretDB, so that CI keeps
 * guarding crash safety: acknowledged writes survive, nothing half-written is readable, the audit
 * trail verifies.
 */
describe('crash safety (short npm run crash)', () => {
  it('loses no acknowledged write and shows nothing half-written across 3 SIGKILLs', async () => {
    const uri = process.env['PONTIS_TEST_MONGODB_URI'];
    if (!uri) throw new Error(process.env['PONTIS_TEST_MONGODB_MISSING'] ?? 'no MongoDB test server');
    const { code, output } = await crashRun({ MONGODB_URI: uri, CRASH_CYCLES: '3', CRASH_WORKERS: '6', CRASH_MIN_MS: '400', CRASH_MAX_MS: '1500' });
    expect({ code, output }).toMatchObject({ code: 0, output: expect.stringContaining('crash test passed') });
    expect(output).toMatch(/kill cycles: 3 /);
    expect(Number(/writes acknowledged: (\d+)/.exec(output)?.[1])).toBeGreaterThan(0);
    for (const check of ['every acknowledged write readable with its content', 'every acknowledged write audited', 'nothing half-written readable', 'pontis audit verify']) {
      expect(output).toContain(`passed: ${check}`);
    }
  }, 90_000);
});
