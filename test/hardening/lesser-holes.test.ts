import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mintDemoToken } from '../../src/auth/demo-tokens.js';
import { ISCO_08 } from '../../src/auth/requester.js';
import { memoryBackend } from '../support/stores.js';
import { bodyOf, buildTestNode, documentFor, privacyConsent, send, type Json, type TestNode } from '../support/test-node.js';

const PROBLEMS = '11450-4';
let node: TestNode;
let nationalId: string;

beforeAll(async () => {
  node = await buildTestNode(memoryBackend, { PONTIS_CONSENT_DEFAULT: 'opt-out', PONTIS_BREAK_GLASS: 'allowed' });
  nationalId = `LESSER-${randomUUID().slice(0, 8)}`;
  expect((await send(node.server, 'POST', '/fhir/Bundle', documentFor(nationalId, '2026-01-01T00:00:00Z'))).statusCode).toBe(201);
});
afterAll(async () => {
  await node?.cleanup();
});

async function read(claims: Record<string, unknown> | undefined, extra: Parameters<typeof mintDemoToken>[0] extends infer O ? Partial<O> : never = {}) {
  const jwt = await mintDemoToken({ audience: node.config.baseUrl, country: 'PT', issuer: 'ncp', ...extra, ...(claims ? { claims } : {}) });
  return node.server.inject({ url: `/fhir/Patient/$summary?identifier=urn:test:national|${nationalId}`, headers: { authorization: `Bearer ${jwt}` } });
}

describe('break-glass reason', () => {
  it.each([' ', '\t\n  '])('of only white space (%j) is no reason: break-glass refused', async (reason) => {
    const response = await read(undefined, { purpose: 'BTG', breakGlassReason: reason });
    expect(response.statusCode).toBe(403);
  });

  it('with text is accepted (opt-out, break-glass allowed)', async () => {
    const response = await read(undefined, { purpose: 'BTG', breakGlassReason: '  cardiac arrest  ' });
    expect(response.statusCode).toBe(200);
  });
});

describe('subject_role', () => {
  function iua(role: unknown): Record<string, unknown> {
    return {
      extensions: {
        ihe_iua: {
          subject_name: 'Dr X',
          subject_role: role,
          subject_organization: 'Hospital',
          subject_organization_id: 'urn:oid:1.2.3',
          purpose_of_use: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' },
          home_community_id: 'PT',
        },
      },
    };
  }

  it.each([
    ['a code of another system', { system: 'http://snomed.info/sct', code: '221' }],
    ['a code without a system', { code: '221' }],
    ['a bare string', '221'],
    ['an ISCO-08 Coding whose code is not ISCO-08', { system: ISCO_08, code: 'doctor' }],
  ])('%s is refused (401)', async (_name, role) => {
    const response = await read(iua(role));
    expect(response.statusCode).toBe(401);
    expect(bodyOf<Json>(response)['issue'][0].diagnostics).toContain('subject_role must be an ISCO-08 Coding');
  });

  it('an ISCO-08 Coding is accepted', async () => {
    expect((await read(iua({ system: ISCO_08, code: '221' }))).statusCode).toBe(200);
  });
});

describe('strings are well-formed Unicode', () => {
  it('a lone surrogate in Bundle.language is refused with its FHIRPath, and nothing is stored', async () => {
    const id = `SURR-${randomUUID().slice(0, 8)}`;
    const bundle = documentFor(id, '2026-02-01T00:00:00Z');
    const text = JSON.stringify({ ...bundle, language: 'LANG' }).replace('"LANG"', '"en\\ud800"');
    const response = await send(node.server, 'POST', '/fhir/Bundle', text);
    expect(response.statusCode).toBe(400);
    expect(bodyOf<Json>(response)['issue'][0]).toMatchObject({ code: 'invalid', expression: ['Bundle.language'] });
    const found = bodyOf<Json>(await node.server.inject(`/fhir/Patient?identifier=urn:test:national|${id}`));
    expect(found['total']).toBe(0);
  });

  it('a lone low surrogate deep in an entry is located', async () => {
    const bundle = documentFor(`SURR-${randomUUID().slice(0, 8)}`, '2026-02-01T00:00:00Z');
    const text = JSON.stringify(bundle).replace('"resourceType":"Patient"', '"resourceType":"Patient","language":"x\\udc00"');
    const response = await send(node.server, 'POST', '/fhir/Bundle', text);
    expect(response.statusCode).toBe(400);
    expect(bodyOf<Json>(response)['issue'][0].expression[0]).toMatch(/^Bundle\.entry\[\d+\]\.resource\.language$/);
  });

  it('a surrogate pair (an emoji) is fine', async () => {
    const bundle = documentFor(`SURR-${randomUUID().slice(0, 8)}`, '2026-02-01T00:00:00Z');
    const text = JSON.stringify(bundle).replace('"resourceType":"Patient"', '"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\\"http://www.w3.org/1999/xhtml\\">\\ud83d\\ude00</div>"}');
    expect((await send(node.server, 'POST', '/fhir/Bundle', text)).statusCode).toBe(201);
  });

  it('bytes that are not UTF-8 are refused, not replaced', async () => {
    const bundle = Buffer.concat([Buffer.from('{"resourceType":"Bundle","language":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    const response = await node.server.inject({ method: 'POST', url: '/fhir/Bundle', payload: bundle, headers: { 'content-type': 'application/fhir+json' } });
    expect(response.statusCode).toBe(400);
    expect(bodyOf<Json>(response)['issue'][0].diagnostics).toBe('the request body is not valid UTF-8');
  });
});

describe('break-glass and sections the patient withheld', () => {
  async function withheldPatient(env: Record<string, string>): Promise<{ n: TestNode; id: string }> {
    const n = await buildTestNode(memoryBackend, { PONTIS_CONSENT_DEFAULT: 'opt-out', PONTIS_BREAK_GLASS: 'allowed', ...env });
    const id = `WH-${randomUUID().slice(0, 8)}`;
    expect((await send(n.server, 'POST', '/fhir/Bundle', documentFor(id, '2026-01-01T00:00:00Z'))).statusCode).toBe(201);
    const patientId = bodyOf<Json>(await n.server.inject(`/fhir/Patient?identifier=urn:test:national|${id}`))['entry'][0].resource.id as string;
    const consent = privacyConsent(patientId, { type: 'permit', provision: [{ type: 'deny', code: [{ coding: [{ system: 'http://loinc.org', code: PROBLEMS }] }] }] });
    expect((await send(n.server, 'POST', '/fhir/Consent', consent)).statusCode).toBe(201);
    return { n, id };
  }

  async function emergencyRead(n: TestNode, id: string): Promise<Json> {
    const jwt = await mintDemoToken({ audience: n.config.baseUrl, country: 'PT', issuer: 'ncp', purpose: 'ETREAT', breakGlassReason: 'stroke' });
    const response = await n.server.inject({ url: `/fhir/Patient/$summary?identifier=urn:test:national|${id}`, headers: { authorization: `Bearer ${jwt}` } });
    expect(response.statusCode).toBe(200);
    return bodyOf<Json>(response);
  }

  const problemsSection = (bundle: Json): Json => (bundle['entry'][0].resource.section as Json[]).find((s) => s['code'].coding[0].code === PROBLEMS)!;

  it('by default, stay withheld and the document says so', async () => {
    const { n, id } = await withheldPatient({});
    try {
      const bundle = await emergencyRead(n, id);
      expect(problemsSection(bundle)['emptyReason'].coding[0].code).toBe('withheld');
      expect(JSON.stringify(bundle['meta'])).toContain('REDACTED');
    } finally {
      await n.cleanup();
    }
  });

  it('with PONTIS_BREAK_GLASS_WITHHELD=release, are released', async () => {
    const { n, id } = await withheldPatient({ PONTIS_BREAK_GLASS_WITHHELD: 'release' });
    try {
      const bundle = await emergencyRead(n, id);
      expect(problemsSection(bundle)['emptyReason']).toBeUndefined();
      expect((problemsSection(bundle)['entry'] as Json[]).length).toBeGreaterThan(0);
    } finally {
      await n.cleanup();
    }
  });
});
