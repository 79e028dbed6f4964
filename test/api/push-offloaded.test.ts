import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Server } from '@hapi/hapi';
import pino from 'pino';
import { documentContentHash } from '../../src/documents/content-hash.js';
import { loadConfig } from '../../src/config.js';
import { MemoryDatabase } from '../../src/repositories/memory-database.js';
import { storeOn } from '../../src/repositories/store.js';
import { createServer } from '../../src/server.js';
import { DEFAULT_PROFILE_PACKAGES, OffloadingValidator } from '../../src/validation/index.js';
import { bodyOf, demoTrust, documentFor, send, sharedValidator, withDefaultToken, type Json } from '../support/test-node.js';

/**
 * Pushes whose validation and content hash are computed on the validator's worker thread from
 * the request's text (every document, threshold 0): same answers as inline.
 */
describe('pushes checked on the worker thread', () => {
  let validator: OffloadingValidator;
  let server: Server;

  beforeAll(async () => {
    validator = new OffloadingValidator(sharedValidator(), DEFAULT_PROFILE_PACKAGES, 0);
    const config = loadConfig({ PONTIS_COUNTRY: 'AT', PONTIS_BASE_URL: 'http://at.example/fhir', LOG_LEVEL: 'silent' });
    const store = await storeOn(new MemoryDatabase(), config);
    server = withDefaultToken(await createServer({ config, store, logger: pino({ level: 'silent' }), validator, trust: await demoTrust() }), config.baseUrl);
    await server.initialize();
  });
  afterAll(async () => {
    await server.stop();
    await validator.close();
  });

  it('gives a document the same issues and content hash as inline', async () => {
    const document = documentFor('OFF-1', '2026-01-01T00:00:00Z');
    const text = JSON.stringify(document);
    const checked = await validator.checkDocument(text, document);
    expect(validator.started).toBe(true);
    expect(checked).toEqual({ issues: sharedValidator().validate(document), contentHash: documentContentHash(document) });
  });

  it('stores a push, recognises its retry by the hash, and refuses an invalid document with its issues', async () => {
    const document = documentFor('OFF-2', '2026-01-01T00:00:00Z');
    const first = await send(server, 'POST', '/fhir/Bundle', document);
    expect(first.statusCode).toBe(201);
    // The same content with members in another order is the same document.
    const reordered = Object.fromEntries(Object.entries(document).reverse());
    const retried = await send(server, 'POST', '/fhir/Bundle', reordered);
    expect(retried.statusCode).toBe(200);
    expect(bodyOf<Json>(retried)['id']).toBe(bodyOf<Json>(first)['id']);
    const broken = documentFor('OFF-3', '2026-01-01T00:00:00Z');
    delete broken['entry'][0].resource.status;
    const refused = await send(server, 'POST', '/fhir/Bundle', broken);
    expect(refused.statusCode).toBe(422);
    expect((bodyOf<Json>(refused)['issue'] as Json[]).map((i) => i['expression']?.[0])).toContain('Bundle.entry[0].resource.status');
  });
});
