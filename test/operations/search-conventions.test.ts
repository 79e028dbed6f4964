import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mintDemoToken } from '../../src/auth/demo-tokens.js';
import { memoryBackend } from '../support/stores.js';
import { bodyOf, buildTestNode, documentFor, privacyConsent, send, type Json, type TestNode } from '../support/test-node.js';

/** Every searchset: total, self link, next/previous where there is more, `_summary=count`, no empty `entry`. */

let node: TestNode;
let patientId: string;
const BASE = 'http://at.example/fhir';

beforeAll(async () => {
  node = await buildTestNode(memoryBackend, { PONTIS_LIMIT_PER_PATIENT: '0', PONTIS_LIMIT_PER_REQUESTER: '0' });
  expect((await send(node.server, 'POST', '/fhir/Bundle', documentFor('PAGE-1', '2026-01-02T10:00:00Z'))).statusCode).toBe(201);
  patientId = bodyOf<Json>(await node.server.inject('/fhir/Patient?identifier=urn:test:national|PAGE-1'))['entry'][0].resource.id;
});
afterAll(() => node.cleanup());

const links = (bundle: Json) => Object.fromEntries((bundle['link'] as Json[]).map((l) => [l['relation'], l['url']]));
/** A fresh operator token (tokens are single-use). */
const asOperator = async () => ({ authorization: `Bearer ${await mintDemoToken({ audience: BASE, issuer: 'ops', scope: 'system/AuditEvent.rs' })}` });
const get = async (url: string, headers?: () => Promise<Record<string, string>>) => {
  const response = await node.server.inject({ url: url.replace(BASE, '/fhir'), headers: headers ? await headers() : {} });
  expect(response.statusCode).toBe(200);
  return bodyOf<Json>(response);
};

describe('Consent search', () => {
  it('answers no Consent with total 0, a self link and no entry array', async () => {
    const body = await get(`/fhir/Consent?patient=${patientId}`);
    expect(body).toEqual({ resourceType: 'Bundle', type: 'searchset', total: 0, link: [{ relation: 'self', url: `${BASE}/Consent?patient=${patientId}&_count=20&_offset=0` }] });
  });

  it('pages with _count and _offset, next and previous links, and counts with _summary=count', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await send(node.server, 'POST', '/fhir/Consent', privacyConsent(patientId, { type: 'permit' }))).statusCode).toBe(201);
    }
    const first = await get(`/fhir/Consent?patient=${patientId}&_count=2`);
    expect(first['total']).toBe(3);
    expect(first['entry']).toHaveLength(2);
    expect(links(first)).toEqual({ self: `${BASE}/Consent?patient=${patientId}&_count=2&_offset=0`, next: `${BASE}/Consent?patient=${patientId}&_count=2&_offset=2` });
    const second = await get(links(first)['next']);
    expect(second['total']).toBe(3);
    expect(second['entry']).toHaveLength(1);
    expect(links(second)).toEqual({ self: `${BASE}/Consent?patient=${patientId}&_count=2&_offset=2`, previous: `${BASE}/Consent?patient=${patientId}&_count=2&_offset=0` });
    const ids = [...first['entry'], ...second['entry']].map((e: Json) => e['resource'].id as string);
    expect(new Set(ids).size).toBe(3);
    const counted = await get(`/fhir/Consent?patient=${patientId}&_summary=count`);
    expect(counted).toEqual({ resourceType: 'Bundle', type: 'searchset', total: 3, link: [{ relation: 'self', url: `${BASE}/Consent?patient=${patientId}&_summary=count` }] });
  });

  it('returns only the elements asked for with _elements (mandatory ones, id and meta kept), tagged SUBSETTED, and pages keep it', async () => {
    const page = await get(`/fhir/Consent?patient=${patientId}&_elements=provision&_count=1`);
    const consent = page['entry'][0].resource as Json;
    expect(Object.keys(consent).sort()).toEqual(['category', 'id', 'meta', 'patient', 'policyRule', 'provision', 'resourceType', 'scope', 'status']);
    expect(consent).not.toHaveProperty('dateTime');
    expect(consent['meta'].tag).toContainEqual({ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED', display: 'subsetted' });
    expect(links(page)['next']).toContain('_elements=provision');
    const patients = await get('/fhir/Patient?identifier=urn:test:national|PAGE-1&_elements=gender,birthDate');
    expect(Object.keys(patients['entry'][0].resource).sort()).toEqual(['birthDate', 'gender', 'id', 'meta', 'resourceType']);
    expect(links(patients)['self']).toContain('_elements=gender%2CbirthDate');
    const refused = await node.server.inject(`/fhir/Consent?patient=${patientId}&_elements=${encodeURIComponent('status;drop')}`);
    expect(refused.statusCode).toBe(400);
  });

  it('refuses _summary other than count', async () => {
    const response = await node.server.inject(`/fhir/Consent?patient=${patientId}&_summary=true`);
    expect(response.statusCode).toBe(400);
    expect(bodyOf<Json>(response)['issue'][0].expression).toEqual(['_summary']);
  });
});

describe('Patient search', () => {
  it('counts with _summary=count: total, a self link, no entries', async () => {
    const counted = await get('/fhir/Patient?identifier=urn:test:national|PAGE-1&_summary=count');
    expect(counted).toEqual({
      resourceType: 'Bundle',
      type: 'searchset',
      total: 1,
      link: [{ relation: 'self', url: `${BASE}/Patient?identifier=${encodeURIComponent('urn:test:national|PAGE-1')}&_summary=count` }],
    });
  });

  it('answers no match without an entry array', async () => {
    const none = await get('/fhir/Patient?family=nobody-at-all');
    expect(none['total']).toBe(0);
    expect(none).not.toHaveProperty('entry');
  });
});

describe('the access log', () => {
  it('goes beyond 500 records, a page at a time, newest first, with its total', async () => {
    // Each read is audited: 505 reads of the patient and the requests above.
    for (let i = 0; i < 505; i++) expect((await node.server.inject(`/fhir/Patient/${patientId}`)).statusCode).toBe(200);
    const auth = asOperator;
    const counted = await get(`/fhir/AuditEvent?patient=${patientId}&_summary=count`, auth);
    const total = counted['total'] as number;
    expect(total).toBeGreaterThan(505);
    expect(counted).not.toHaveProperty('entry');
    const first = await get(`/fhir/AuditEvent?patient=${patientId}&_count=500`, auth);
    expect(first['entry']).toHaveLength(500);
    expect(first['total']).toBeGreaterThanOrEqual(total);
    expect(links(first)).not.toHaveProperty('previous');
    // The next page ends where the first began: the searches audited meanwhile do not shift it.
    expect(links(first)['next']).toMatch(new RegExp(`^${BASE}/AuditEvent\\?patient=${patientId}&date=le\\d{4}-[^&]+Z&_count=500&_offset=500$`));
    const second = await get(links(first)['next'], auth);
    expect(second['total']).toBe(first['total']);
    expect(links(second)).not.toHaveProperty('next');
    expect(links(second)['previous']).toBe(links(first)['next'].replace('_offset=500', '_offset=0'));
    const seen = [...first['entry'], ...second['entry']].map((e: Json) => e['resource'].id as string);
    expect(seen).toHaveLength(first['total']);
    expect(new Set(seen).size).toBe(seen.length);
    const recorded = [...first['entry'], ...second['entry']].map((e: Json) => Date.parse(e['resource'].recorded));
    expect(recorded).toEqual([...recorded].sort((a, b) => b - a));
  }, 60_000);
});
