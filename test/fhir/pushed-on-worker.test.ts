import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Server } from '@hapi/hapi';
import pino from 'pino';
import { loadConfig } from '../../src/config.js';
import { storeOn } from '../../src/repositories/store.js';
import { createServer } from '../../src/server.js';
import { DEFAULT_PROFILE_PACKAGES, OffloadingValidator, type Validator } from '../../src/validation/index.js';
import { backends } from '../support/stores.js';
import { allSections, demoTrust, sharedValidator, withDefaultToken, type Json } from '../support/test-node.js';

/**
 * A push is answered alike whether the node checks it on the event loop or on a validation
 * worker (every document sent to the pool, threshold 0): the same statuses, the same
 * OperationOutcomes, and the stored bytes are what the 201 echoes and a read returns.
 */
describe.each(backends)('a push checked on a validation worker, on the $name', (backend) => {
  const nodes: { server: Server; cleanup(): Promise<void>; validator: Validator }[] = [];
  const pooled = new OffloadingValidator(sharedValidator(), DEFAULT_PROFILE_PACKAGES, 0, {}, 1);

  beforeAll(async () => {
    for (const validator of [pooled, sharedValidator()] as Validator[]) {
      const config = loadConfig({ PONTIS_COUNTRY: 'AT', PONTIS_BASE_URL: 'http://at.example/fhir', LOG_LEVEL: 'silent' });
      const { database, cleanup } = await backend.open();
      const store = await storeOn(database, config);
      const server = withDefaultToken(await createServer({ config, store, logger: pino({ level: 'silent' }), validator, trust: await demoTrust() }), config.baseUrl, config.country);
      await server.initialize();
      nodes.push({ server, validator, cleanup: async () => { await server.stop(); await cleanup(); } });
    }
  });
  afterAll(async () => {
    for (const node of nodes) await node.cleanup();
    await pooled.close();
  });

  const push = (server: Server, payload: string, headers: Record<string, string> = {}) =>
    server.inject({ method: 'POST', url: '/fhir/Bundle', payload, headers: { 'content-type': 'application/fhir+json', ...headers } });

  it('stores the bytes it echoes and serves, with the server id and meta and the content as sent', async () => {
    const [worker] = nodes;
    const document = allSections();
    const created = await push(worker!.server, JSON.stringify(document));
    expect(created.statusCode).toBe(201);
    expect(pooled.started).toBe(true);
    const stored = JSON.parse(created.payload) as Json;
    const { id: _id, meta: _meta, ...content } = document;
    const { id, meta, ...storedContent } = stored;
    expect(storedContent).toStrictEqual(content);
    expect(meta).toStrictEqual({ ...(_meta as Json), versionId: '1', lastUpdated: expect.any(String) });
    expect(created.headers['location']).toBe(`http://at.example/fhir/Bundle/${id as string}/_history/1`);
    const read = await worker!.server.inject({ url: `/fhir/Bundle/${id as string}` });
    expect(read.statusCode).toBe(200);
    expect(read.payload).toBe(created.payload);
    // A retry of the same document (found by the refused insert) is recognised: 200, the stored document.
    const retried = await push(worker!.server, JSON.stringify(document));
    expect(retried.statusCode).toBe(200);
    expect(retried.payload).toBe(created.payload);
  });

  it('refuses what the event loop refuses, with the same status and OperationOutcome', async () => {
    const noPatient = allSections();
    noPatient['entry'] = (noPatient['entry'] as Json[]).filter((e) => e['resource'].resourceType !== 'Patient');
    const noStatus = allSections();
    noStatus['identifier'].value = 'no-status';
    delete noStatus['entry'][0].resource.status;
    const conflicting = allSections();
    conflicting['entry'][0].resource.title = 'another title';
    const bodies = ['', '{"resourceType": "Bundle", ', JSON.stringify({ resourceType: 'Patient' }), JSON.stringify(noPatient), JSON.stringify(noStatus)];
    for (const body of bodies) {
      const [worker, inline] = await Promise.all(nodes.map((node) => push(node.server, body)));
      expect([worker!.statusCode, worker!.payload]).toEqual([inline!.statusCode, inline!.payload]);
      expect(worker!.statusCode).toBeGreaterThanOrEqual(400);
    }
    // Not UTF-8: refused before any parse, on the event loop.
    const latin1 = Buffer.from(JSON.stringify({ ...allSections(), language: 'fr' }).replace('"fr"', '"fré"'), 'latin1');
    const answers = await Promise.all(nodes.map((node) => push(node.server, latin1 as unknown as string)));
    expect(answers.map((a) => a.statusCode)).toEqual([400, 400]);
    expect(answers[0]!.payload).toBe(answers[1]!.payload);
    // A different document under a stored identifier: 409 (its content compared, the document parsed again for it).
    expect([200, 201]).toContain((await push(nodes[0]!.server, JSON.stringify(allSections()))).statusCode);
    const conflict = await push(nodes[0]!.server, JSON.stringify(conflicting));
    expect(conflict.statusCode).toBe(409);
  });
});
