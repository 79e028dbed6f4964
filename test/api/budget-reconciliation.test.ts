import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Server } from '@hapi/hapi';
import pino from 'pino';
import { mintDemoToken } from '../../src/auth/demo-tokens.js';
import { loadConfig, type NodeConfig } from '../../src/config.js';
import { storeOn, type Store } from '../../src/repositories/store.js';
import { createServer } from '../../src/server.js';
import { counting, type CountingDatabase } from '../support/counting-database.js';
import { backends } from '../support/stores.js';
import { bodyOf, demoTrust, documentFor, send, sharedValidator, withDefaultToken, type Json } from '../support/test-node.js';

/**
 * Request budgets are counted in memory by each instance and reconciled through the database:
 * two instances with their own stores on one database, as two processes behind a load balancer.
 */
describe.each(backends)('request budgets across instances on the $name', (backend) => {
  let config: NodeConfig;
  let cleanup: () => Promise<void>;
  let stores: Store[];
  let servers: Server[];
  let bundleId: string;
  let database: CountingDatabase;

  beforeAll(async () => {
    config = loadConfig({ PONTIS_COUNTRY: 'AT', PONTIS_BASE_URL: 'http://at.example/fhir', LOG_LEVEL: 'silent', PONTIS_LIMIT_PER_REQUESTER: '4', PONTIS_LIMIT_WINDOW_S: '3600' });
    const counted = counting(backend);
    const opened = await counted.open();
    database = counted.last!;
    cleanup = opened.cleanup;
    stores = [await storeOn(opened.database, config), await storeOn(opened.database, config)];
    servers = [];
    for (const store of stores) {
      const server = withDefaultToken(await createServer({ config, store, logger: pino({ level: 'silent' }), validator: sharedValidator(), trust: await demoTrust() }), config.baseUrl);
      await server.initialize();
      servers.push(server);
    }
    const pushed = await send(servers[0]!, 'POST', '/fhir/Bundle', documentFor('BR1', '2024-01-01T10:00:00Z'));
    bundleId = bodyOf<Json>(pushed)['id'] as string;
  });
  afterAll(async () => {
    for (const server of servers) await server.stop();
    for (const store of stores) await store.requestCounts.close();
    await cleanup();
  });

  const read = async (server: Server, subject: string) =>
    (await server.inject({ url: `/fhir/Bundle/${bundleId}`, headers: { authorization: `Bearer ${await mintDemoToken({ audience: config.baseUrl, scope: 'system/Bundle.r', subject })}` } })).statusCode;

  it('an instance refuses a requester over the limit once it has learnt what the other instance counted', async () => {
    const [a, b] = servers as [Server, Server];
    expect([await read(a, 'spread'), await read(a, 'spread'), await read(a, 'spread'), await read(b, 'spread')]).toEqual([200, 200, 200, 200]);
    await stores[0]!.requestCounts.reconcile();
    await stores[1]!.requestCounts.reconcile();
    // B has counted one request and A three: the fifth is over the limit of 4 at B.
    expect(await read(b, 'spread')).toBe(429);
    await stores[1]!.requestCounts.reconcile();
    await stores[0]!.requestCounts.reconcile();
    expect(await read(a, 'spread')).toBe(429);
  });

  it("counts a request's budgets without a database operation on its path", async () => {
    const [a] = servers as [Server];
    await stores[0]!.requestCounts.reconcile();
    const token = await mintDemoToken({ audience: config.baseUrl, scope: 'system/Bundle.r', subject: 'counted' });
    database.operations = [];
    expect((await a.inject({ url: `/fhir/Bundle/${bundleId}`, headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(200);
    expect(database.operations.filter((o) => o.startsWith('request_counts.'))).toEqual([]);
    // They reach the database in the background.
    await stores[0]!.requestCounts.reconcile();
    expect(database.operations.filter((o) => o.startsWith('request_counts.'))).toContain('request_counts.updateOne');
  });
});
