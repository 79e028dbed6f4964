import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config.js';
import { projectRoot } from '../../src/project-root.js';
import { freePort, startNode } from '../support/node-process.js';

/**
 * The image's HEALTHCHECK and compose's healthchecks ask for readiness. No Docker engine here:
 * the Dockerfile's check command itself is run against a real node process.
 */

const dockerfile = readFileSync(join(projectRoot(), 'Dockerfile'), 'utf8');
const compose = parse(readFileSync(join(projectRoot(), 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, { environment?: Record<string, string>; healthcheck?: { test: string[] }; stop_grace_period?: string }>;
};

/** The JavaScript of the Dockerfile's `HEALTHCHECK ... CMD node -e "..."`. */
function imageCheck(): string {
  const m = /HEALTHCHECK[^\n]*\\\n\s*CMD node -e "([^\n]*)"/.exec(dockerfile);
  if (!m) throw new Error('no HEALTHCHECK CMD node -e in the Dockerfile');
  return m[1]!;
}

const runCheck = (script: string, port: number) => spawnSync(process.execPath, ['-e', script], { env: { ...process.env, PORT: String(port) }, timeout: 10_000 }).status;

describe('container health checks', () => {
  it('the image checks /health/ready, and its stop settings leave time to drain', () => {
    expect(imageCheck()).toContain('/health/ready');
    const env = /ENV ([^\n]*)/.exec(dockerfile)![1]!;
    const config = loadConfig(Object.fromEntries(env.split(/\s+/).map((kv) => kv.split('='))));
    expect(config.operations.shutdownDelayMs).toBeGreaterThan(0);
    for (const [name, service] of Object.entries(compose.services).filter(([, s]) => s.environment?.['PONTIS_COUNTRY'])) {
      expect([name, service.healthcheck?.test.join(' ')]).toEqual([name, expect.stringContaining('/health/ready')]);
      const grace = Number(/^(\d+)s$/.exec(service.stop_grace_period ?? '')?.[1]);
      expect(grace * 1000).toBeGreaterThan(config.operations.shutdownDelayMs + config.operations.drainTimeoutMs);
    }
  });

  it('passes on a ready node and fails once it is gone', async () => {
    const port = await freePort();
    const node = await startNode({ PORT: String(port), PONTIS_COUNTRY: 'PT', PONTIS_BASE_URL: `http://127.0.0.1:${port}/fhir` });
    try {
      expect(runCheck(imageCheck(), port)).toBe(0);
    } finally {
      await node.stop();
    }
    expect(runCheck(imageCheck(), port)).toBe(1);
  }, 60_000);
});
