import { describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { loadConfig } from '../../src/config.js';
import { storeOn } from '../../src/repositories/store.js';
import { MemoryDatabase } from '../../src/repositories/memory-database.js';
import { createServer } from '../../src/server.js';
import { demoTrust, sharedValidator } from '../support/test-node.js';

async function server() {
  const config = loadConfig({ PONTIS_COUNTRY: 'AT', PONTIS_BASE_URL: 'http://at.example/fhir', LOG_LEVEL: 'silent' });
  const store = await storeOn(new MemoryDatabase(), config);
  return createServer({ config, store, logger: pino({ level: 'silent' }), validator: sharedValidator(), trust: await demoTrust() });
}

describe('every authenticated FHIR route says whether it touches patient data', () => {
  it("the node's own routes all do: it starts", async () => {
    const s = await server();
    await expect(s.initialize()).resolves.toBeUndefined();
    await s.stop();
  });

  it('a route that does not say refuses to start, naming it', async () => {
    const s = await server();
    s.route({ method: 'GET', path: '/fhir/Observation/{id}', handler: () => ({ resourceType: 'Observation' }) });
    await expect(s.initialize()).rejects.toThrow('routes must declare plugins.pontis.audit (what they audit, or false when they serve no patient data): GET /fhir/Observation/{id}');
  });

  it('a route without authentication, or declaring false or what it audits, is accepted', async () => {
    const s = await server();
    s.route([
      { method: 'GET', path: '/fhir/open', options: { auth: false }, handler: () => ({}) },
      { method: 'GET', path: '/fhir/nothing', options: { plugins: { pontis: { audit: false } } }, handler: () => ({}) },
      { method: 'GET', path: '/fhir/Observation', options: { plugins: { pontis: { audit: { action: 'R', interaction: 'search-type', resourceType: 'Observation' } } } }, handler: () => ({}) },
    ]);
    await expect(s.initialize()).resolves.toBeUndefined();
    await s.stop();
  });
});
