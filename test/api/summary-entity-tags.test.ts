import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mintDemoToken } from '../../src/auth/demo-tokens.js';
import { backends } from '../support/stores.js';
import { allSections, bodyOf, buildTestNode, patientOf, privacyConsent, send, type Json, type TestNode } from '../support/test-node.js';

const PROBLEMS = '11450-4';

/**
 * A copy with sections withheld by consent has an entity tag of its own: a clinician who holds
 * the whole version and asks again after the patient withheld a section gets the redacted copy,
 * never a 304 standing for what they held.
 */
describe.each(backends)('entity tags of summaries on the $name', (backend) => {
  let node: TestNode;
  let patientId: string;

  beforeAll(async () => {
    node = await buildTestNode(backend);
    const document = allSections();
    document['identifier'] = { system: 'urn:test:documents', value: 'ETAG-1' };
    patientOf(document)['identifier'] = [{ system: 'urn:test:national', value: 'ETAG-P' }];
    expect((await send(node.server, 'POST', '/fhir/Bundle', document)).statusCode).toBe(201);
    patientId = bodyOf<Json>(await node.server.inject('/fhir/Patient?identifier=urn:test:national|ETAG-P'))['entry'][0].resource.id as string;
    expect((await send(node.server, 'POST', '/fhir/Consent', privacyConsent(patientId, { type: 'permit' }))).statusCode).toBe(201);
  });
  afterAll(async () => {
    await node.cleanup();
  });

  const summary = async (headers: Record<string, string> = {}) =>
    node.server.inject({ url: `/fhir/Patient/${patientId}/$summary`, headers: { authorization: `Bearer ${await mintDemoToken({ audience: node.config.baseUrl })}`, ...headers } });
  const problemsOf = (response: Awaited<ReturnType<typeof summary>>) =>
    ((bodyOf<Json>(response)['entry'][0].resource.section as Json[]).find((s) => s['code'].coding[0].code === PROBLEMS)!['emptyReason']?.coding[0].code as string | undefined);

  it('changes when consent withholds a section, and a 304 answers only the copy the reader may have', async () => {
    const whole = await summary();
    expect(whole.statusCode).toBe(200);
    expect(problemsOf(whole)).toBeUndefined();
    const wholeTag = whole.headers['etag'] as string;
    expect((await summary({ 'if-none-match': wholeTag })).statusCode).toBe(304);

    // The patient's newer consent: the problems section is not to be shared.
    const withholding = { ...privacyConsent(patientId, { type: 'permit', provision: [{ type: 'deny', code: [{ coding: [{ system: 'http://loinc.org', code: PROBLEMS }] }] }] }), dateTime: '2026-02-01T00:00:00Z' };
    expect((await send(node.server, 'POST', '/fhir/Consent', withholding)).statusCode).toBe(201);
    const redacted = await summary({ 'if-none-match': wholeTag });
    expect(redacted.statusCode).toBe(200);
    expect(problemsOf(redacted)).toBe('withheld');
    const redactedTag = redacted.headers['etag'] as string;
    expect(redactedTag).not.toBe(wholeTag);
    expect(redactedTag).toMatch(/^W\/"1-w[A-Za-z0-9_-]+"$/);
    expect((await summary({ 'if-none-match': redactedTag })).statusCode).toBe(304);
  });
});
