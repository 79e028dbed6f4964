import { describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { loadConfig } from '../../src/config.js';
import { MemoryDatabase } from '../../src/repositories/memory-database.js';
import { storeOn } from '../../src/repositories/store.js';
import { createServer } from '../../src/server.js';
import { freePort, startNode } from '../support/node-process.js';
import { demoTrust, sharedValidator } from '../support/test-node.js';

describe('start-up', () => {
  it('states the embedded store bound in its start-up log, and is ready once the seed is stored', async () => {
    const port = await freePort();
    const node = await startNode({ PORT: String(port), PONTIS_EMBEDDED_MAX_BYTES: String(96 * 1024 * 1024) });
    try {
      expect(node.output()).toMatch(/holds at most 96 MiB \(PONTIS_EMBEDDED_MAX_BYTES\).*EMBEDDED STORE/);
      // The line scripts wait for comes once the node is ready: the seed is in.
      const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
      expect(ready.status).toBe(200);
      expect(((await ready.json()) as { checks: Record<string, string> }).checks['seed']).toBe('ok');
    } finally {
      await node.stop();
    }
  }, 60_000);

  it('reports not ready, naming the part, while a part readied after listening is not', async () => {
    const config = loadConfig({ PONTIS_COUNTRY: 'AT', PONTIS_BASE_URL: 'http://at.example/fhir', LOG_LEVEL: 'silent' });
    const store = await storeOn(new MemoryDatabase(), config);
    let seed: string | undefined = 'loading';
    const server = await createServer({ config, store, logger: pino({ level: 'silent' }), validator: sharedValidator(), trust: await demoTrust(), startupChecks: [{ name: 'seed', check: () => seed }] });
    await server.initialize();
    try {
      const loading = await server.inject('/health/ready');
      expect(loading.statusCode).toBe(503);
      expect(JSON.parse(loading.payload)).toMatchObject({ status: 'not-ready', checks: { seed: 'loading' } });
      // The CapabilityStatement answers meanwhile.
      expect((await server.inject('/fhir/metadata')).statusCode).toBe(200);
      seed = undefined;
      const ready = await server.inject('/health/ready');
      expect(ready.statusCode).toBe(200);
      expect(JSON.parse(ready.payload)).toMatchObject({ status: 'ready', checks: { seed: 'ok' } });
    } finally {
      await server.stop();
    }
  });
});
