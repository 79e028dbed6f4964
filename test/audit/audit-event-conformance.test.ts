import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mintDemoToken } from '../../src/auth/demo-tokens.js';
import { memoryBackend } from '../support/stores.js';
import { bodyOf, buildTestNode, documentFor, privacyConsent, send, sharedValidator, type Json, type TestNode } from '../support/test-node.js';

/** The AuditEvents the node writes are valid FHIR R4, whatever the request came to. */

const AUDIT_EVENT = 'http://hl7.org/fhir/StructureDefinition/AuditEvent';
let node: TestNode;

beforeAll(async () => {
  node = await buildTestNode(memoryBackend, { PONTIS_CONSENT_DEFAULT: 'opt-in', PONTIS_BREAK_GLASS: 'allowed', PONTIS_LIMIT_PER_PATIENT: '2', PONTIS_LIMIT_WINDOW_S: '86400' });
});
afterAll(async () => {
  await node?.cleanup();
});

describe('AuditEvents', () => {
  it('of permitted, refused, break-glass, throttled, unauthenticated and 406 requests validate against R4', async () => {
    const pushed = await send(node.server, 'POST', '/fhir/Bundle', documentFor('AUDIT-R4', '2026-01-01T00:00:00Z'));
    expect(pushed.statusCode).toBe(201);
    const patientId = bodyOf<Json>(await node.server.inject('/fhir/Patient?identifier=urn:test:national|AUDIT-R4'))['entry'][0].resource.id as string;
    expect((await send(node.server, 'POST', '/fhir/Consent', privacyConsent(patientId, { type: 'permit' }))).statusCode).toBe(201);
    const url = '/fhir/Patient/$summary?identifier=urn:test:national|AUDIT-R4';
    const ask = async (token: Parameters<typeof mintDemoToken>[0] | null, headers: Record<string, string> = {}) =>
      (await node.server.inject({ url, headers: { authorization: token ? `Bearer ${await mintDemoToken(token)}` : 'none', ...headers } })).statusCode;
    const aud = node.config.baseUrl;
    const statuses = [
      await ask({ audience: aud, country: 'PT', issuer: 'ncp', subject: 'reader' }),
      await ask({ audience: aud, country: 'PT', issuer: 'ncp', subject: 'nurse', role: '3221' }),
      await ask({ audience: aud, country: 'PT', issuer: 'ncp', subject: 'er', purpose: 'ETREAT', breakGlassReason: 'unconscious' }),
      await ask({ audience: aud, country: 'PT', issuer: 'ncp', subject: 'er', purpose: 'ETREAT', breakGlassReason: 'unconscious' }),
      await ask({ audience: aud, country: 'PT', issuer: 'ncp', subject: 'er', purpose: 'ETREAT', breakGlassReason: 'unconscious' }),
      await ask({ audience: aud, country: 'PT', issuer: 'ncp', subject: 'nurse', role: '3221' }),
      await ask({ audience: aud, country: 'PT', issuer: 'ncp', subject: 'nurse', role: '3221' }),
      await ask(null),
      await ask({ audience: aud, country: 'PT', issuer: 'ncp', subject: 'xml' }, { accept: 'application/fhir+xml' }),
    ];
    expect(statuses).toEqual([200, 403, 200, 200, 200, 403, 429, 401, 406]);
    await node.server.inject(`/fhir/Patient/${patientId}`);

    const events: Json[] = [];
    for (const head of await node.store.audit.heads()) {
      for (const record of await node.store.audit.chainPage(head._id, 0, 10_000)) events.push(JSON.parse(record.json) as Json);
    }
    expect(events.length).toBeGreaterThanOrEqual(statuses.length + 4);
    const tags = new Set(events.flatMap((e) => ((e['meta']?.tag ?? []) as Json[]).map((t) => t['code'] as string)));
    expect([...tags].sort()).toEqual(['break-glass', 'over-budget', 'throttled']);
    const validator = sharedValidator();
    for (const event of events) {
      const errors = (await validator.validate(event, AUDIT_EVENT)).filter((i) => i.severity === 'error');
      expect({ outcome: event['outcomeDesc'], errors }).toEqual({ outcome: event['outcomeDesc'], errors: [] });
    }
  });
});
