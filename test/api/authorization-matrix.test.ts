import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mintDemoToken } from '../../src/auth/demo-tokens.js';
import { memoryBackend, mongoBackend, type Backend } from '../support/stores.js';
import { allSections, buildTestNode, patientOf, privacyConsent, send, type Json, type TestNode } from '../support/test-node.js';

/**
 * Who gets a patient's summary, through the real HTTP API of a listening node: role × purpose ×
 * consent state × requesting country × restriction × break-glass policy, on the embedded store
 * and on the MongoDB-wire server. Each row checks the status, the body, and the audit record the
 * request left. Then the rows of the hardening issue: refused and unknown alike over the budget,
 * no lock-out of others, 406 after authentication and audited.
 */

type ConsentState = 'none' | 'permit' | 'deny' | 'permit-not-FR' | 'permit-withhold-problems' | 'unknown-patient';
type Policy = 'opt-in/refused' | 'opt-out/allowed';

const PROBLEMS = '11450-4';
/** Consent.provision.actor.role is required in R4: a country is named as the recipient (IRCP). */
const RECIPIENT = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] };
const NOT_RELEASED = 'no patient data can be released for this request';

function consentFor(patientId: string, state: ConsentState): Json | undefined {
  const withProvision = (provision: Json) => privacyConsent(patientId, provision);
  switch (state) {
    case 'permit':
      return withProvision({ type: 'permit' });
    case 'deny':
      return withProvision({ type: 'deny', code: [{ coding: [{ system: 'http://loinc.org', code: '60591-5' }] }] });
    case 'permit-not-FR':
      return withProvision({ type: 'permit', provision: [{ type: 'deny', actor: [{ role: RECIPIENT, reference: { identifier: { system: 'urn:iso:std:iso:3166', value: 'FR' } } }] }] });
    case 'permit-withhold-problems':
      return withProvision({ type: 'permit', provision: [{ type: 'deny', code: [{ coding: [{ system: 'http://loinc.org', code: PROBLEMS }] }] }] });
    default:
      return undefined;
  }
}

interface Row {
  policy: Policy;
  consent: ConsentState;
  /** Requester: country of the asking node (peer) or `AT` for a clinician of this country. */
  from: 'PT' | 'FR' | 'AT';
  role: string;
  purpose: 'TREAT' | 'ETREAT' | 'BTG' | 'HOPERAT';
  reason?: string;
  expect: 200 | 401 | 403;
  /** Code system of subject_role, when not ISCO-08. */
  roleSystem?: string;
  withheld?: boolean;
  breakGlass?: boolean;
}

const rows: Row[] = [
  { policy: 'opt-in/refused', consent: 'none', from: 'PT', role: '221', purpose: 'TREAT', expect: 403 },
  { policy: 'opt-in/refused', consent: 'permit', from: 'PT', role: '221', purpose: 'TREAT', expect: 200 },
  { policy: 'opt-in/refused', consent: 'permit', from: 'AT', role: '221', purpose: 'TREAT', expect: 200 },
  { policy: 'opt-in/refused', consent: 'permit', from: 'PT', role: '2221', purpose: 'TREAT', expect: 200 },
  { policy: 'opt-in/refused', consent: 'permit', from: 'PT', role: '3256', purpose: 'TREAT', expect: 403 },
  { policy: 'opt-in/refused', consent: 'permit', from: 'PT', role: '221', purpose: 'HOPERAT', expect: 403 },
  { policy: 'opt-in/refused', consent: 'deny', from: 'PT', role: '221', purpose: 'TREAT', expect: 403 },
  { policy: 'opt-in/refused', consent: 'permit-not-FR', from: 'PT', role: '221', purpose: 'TREAT', expect: 200 },
  { policy: 'opt-in/refused', consent: 'permit-not-FR', from: 'FR', role: '221', purpose: 'TREAT', expect: 403 },
  { policy: 'opt-in/refused', consent: 'permit-withhold-problems', from: 'PT', role: '221', purpose: 'TREAT', expect: 200, withheld: true },
  { policy: 'opt-in/refused', consent: 'deny', from: 'PT', role: '221', purpose: 'ETREAT', reason: 'unconscious on arrival', expect: 403 },
  { policy: 'opt-in/refused', consent: 'unknown-patient', from: 'PT', role: '221', purpose: 'TREAT', expect: 403 },
  { policy: 'opt-out/allowed', consent: 'none', from: 'PT', role: '221', purpose: 'TREAT', expect: 200 },
  { policy: 'opt-out/allowed', consent: 'deny', from: 'PT', role: '221', purpose: 'TREAT', expect: 403 },
  { policy: 'opt-out/allowed', consent: 'deny', from: 'PT', role: '221', purpose: 'ETREAT', reason: 'unconscious on arrival', expect: 200, breakGlass: true },
  { policy: 'opt-out/allowed', consent: 'deny', from: 'FR', role: '2221', purpose: 'BTG', reason: 'cardiac arrest', expect: 200, breakGlass: true },
  { policy: 'opt-out/allowed', consent: 'deny', from: 'PT', role: '221', purpose: 'BTG', expect: 403 },
  { policy: 'opt-out/allowed', consent: 'permit-withhold-problems', from: 'PT', role: '221', purpose: 'TREAT', expect: 200, withheld: true },
  // Break-glass overrides a refusal, not the sections the patient withheld (PONTIS_BREAK_GLASS_WITHHELD).
  { policy: 'opt-out/allowed', consent: 'permit-withhold-problems', from: 'PT', role: '221', purpose: 'ETREAT', reason: 'stroke', expect: 200, withheld: true, breakGlass: true },
  // A reason of only white space is no reason.
  { policy: 'opt-out/allowed', consent: 'deny', from: 'PT', role: '221', purpose: 'ETREAT', reason: '   ', expect: 403 },
  { policy: 'opt-out/allowed', consent: 'deny', from: 'FR', role: '2221', purpose: 'BTG', reason: '\t\n', expect: 403 },
  // A role code of another code system is not an ISCO-08 role, however it looks.
  { policy: 'opt-in/refused', consent: 'permit', from: 'PT', role: '221', roleSystem: 'http://snomed.info/sct', purpose: 'TREAT', expect: 401 },
  { policy: 'opt-out/allowed', consent: 'none', from: 'AT', role: '221', roleSystem: 'urn:oid:2.16.840.1.113883.2.9.6.2.8', purpose: 'TREAT', expect: 401 },
  { policy: 'opt-out/allowed', consent: 'permit-not-FR', from: 'FR', role: '221', purpose: 'TREAT', expect: 403 },
  { policy: 'opt-out/allowed', consent: 'unknown-patient', from: 'FR', role: '221', purpose: 'TREAT', expect: 403 },
];

interface Deployment {
  node: TestNode;
  url: string;
  /** National identifier of the patient in each consent state. */
  patients: Map<ConsentState, { nationalId: string; patientId: string }>;
}

async function deploy(backend: Backend, policy: Policy): Promise<Deployment> {
  const [defaultDecision, breakGlass] = policy.split('/');
  const node = await buildTestNode(backend, {
    PONTIS_CONSENT_DEFAULT: defaultDecision!,
    PONTIS_BREAK_GLASS: breakGlass!,
    PONTIS_LIMIT_PER_PATIENT: String(PER_PATIENT),
    // Windows are aligned to the clock: a day-long one is not crossed while a test counts.
    PONTIS_LIMIT_WINDOW_S: '86400',
    HOST: '127.0.0.1',
    PORT: '0',
  });
  await node.server.start();
  const patients = new Map<ConsentState, { nationalId: string; patientId: string }>();
  const deployment = { node, url: node.server.info.uri, patients };
  for (const state of ['none', 'permit', 'deny', 'permit-not-FR', 'permit-withhold-problems'] as const) {
    const nationalId = `M-${state}`;
    const bundle = allSections();
    bundle['identifier'] = { system: 'urn:test:documents', value: `matrix-${state}` };
    patientOf(bundle)['identifier'] = [{ system: 'urn:test:national', value: nationalId }];
    const pushed = await send(node.server, 'POST', '/fhir/Bundle', bundle);
    expect(pushed.statusCode).toBe(201);
    const found = JSON.parse((await node.server.inject(`/fhir/Patient?identifier=urn:test:national|${nationalId}`)).payload) as Json;
    const patientId = found['entry'][0].resource.id as string;
    const consent = consentFor(patientId, state);
    if (consent) {
      const created = await send(node.server, 'POST', '/fhir/Consent', consent);
      expect([created.statusCode, created.statusCode === 201 ? '' : created.payload]).toEqual([201, '']);
    }
    patients.set(state, { nationalId, patientId });
  }
  patients.set('unknown-patient', { nationalId: 'M-nobody', patientId: '' });
  return deployment;
}

/** Each requester's budget per patient in these deployments: small, so that rows can exceed it. */
const PER_PATIENT = 6;

/** The token of a row's requester; each row has its own subject, so budgets do not mix. */
function tokenOf(node: TestNode, row: Row, subject: string): Promise<string> {
  return mintDemoToken({
    audience: node.config.baseUrl,
    issuer: row.from === 'AT' ? 'idp' : 'ncp',
    country: row.from,
    role: row.role,
    purpose: row.purpose,
    subject,
    ...(row.reason ? { breakGlassReason: row.reason } : {}),
    ...(row.roleSystem
      ? {
          claims: {
            extensions: {
              ihe_iua: {
                subject_name: 'Dr Matrix',
                subject_role: { system: row.roleSystem, code: row.role },
                subject_organization: 'Hospital',
                subject_organization_id: 'urn:oid:1.2.3',
                purpose_of_use: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: row.purpose },
                home_community_id: row.from,
              },
            },
          },
        }
      : {}),
  });
}

/** Audit records that name `requestId`: through the patient's access log, or every chain when no patient is named. */
async function recordsOf(node: TestNode, patientId: string, requestId: string): Promise<Json[]> {
  const names = (e: Json) => (e['entity'] as Json[]).some((x) => x['what']?.identifier?.value === requestId);
  if (patientId) return (await node.store.audit.forPatient(patientId, 500)).map((r) => JSON.parse(r.json) as Json).filter(names);
  const found: Json[] = [];
  for (const head of await node.store.audit.heads()) {
    for (const record of await node.store.audit.chainPage(head._id, 0, 100_000)) {
      const event = JSON.parse(record.json) as Json;
      if (names(event)) found.push(event);
    }
  }
  return found;
}

describe.each([memoryBackend, mongoBackend])('authorisation matrix (real HTTP) on the $name', (backend) => {
  const deployments = new Map<Policy, Deployment>();
  beforeAll(async () => {
    for (const policy of ['opt-in/refused', 'opt-out/allowed'] as const) deployments.set(policy, await deploy(backend, policy));
  });
  afterAll(async () => {
    for (const d of deployments.values()) await d.node.cleanup();
  });

  it.each(rows.map((r) => [`${r.policy} · consent ${r.consent} · ${r.from} ${r.role}${r.roleSystem ? ` (${r.roleSystem})` : ''} ${r.purpose}${r.reason ? ` (reason ${JSON.stringify(r.reason)})` : ''} → ${r.expect}${r.withheld ? ' withheld' : ''}${r.breakGlass ? ' break-glass' : ''}`, r] as const))(
    '%s',
    async (_name, row) => {
      const { node, url, patients } = deployments.get(row.policy)!;
      const patient = patients.get(row.consent)!;
      // A clinician abroad asks through their country's node (a peer node); one of AT through AT's identity provider.
      const jwt = await tokenOf(node, row, `matrix-${randomUUID()}`);
      const requestId = `matrix-${randomUUID()}`;
      const response = await fetch(`${url}/fhir/Patient/$summary?identifier=urn:test:national|${patient.nationalId}`, {
        headers: { authorization: `Bearer ${jwt}`, 'x-request-id': requestId, accept: 'application/fhir+json' },
      });
      expect(response.status).toBe(row.expect);
      const body = (await response.json()) as Json;
      if (row.expect === 401) {
        expect(body['resourceType']).toBe('OperationOutcome');
        expect(body['issue'][0].code).toBe('login');
      } else if (row.expect === 403) {
        expect(body).toEqual({ resourceType: 'OperationOutcome', text: expect.objectContaining({ status: 'generated' }), issue: [{ severity: 'error', code: 'forbidden', diagnostics: NOT_RELEASED }] });
      } else {
        expect(body['resourceType']).toBe('Bundle');
        const problems = (body['entry'][0].resource.section as Json[]).find((s) => s['code'].coding[0].code === PROBLEMS)!;
        expect(problems['emptyReason']?.coding[0].code === 'withheld').toBe(row.withheld === true);
        expect(JSON.stringify(body['meta']).includes('REDACTED')).toBe(row.withheld === true);
      }

      if (row.consent === 'unknown-patient') return;
      if (row.expect === 401) {
        // A refused token reaches no patient: its one record names nobody.
        expect(await recordsOf(node, '', requestId)).toHaveLength(1);
        return;
      }
      // The audit record of this very request (found by its X-Request-Id).
      const events = await recordsOf(node, patient.patientId, requestId);
      expect(events).toHaveLength(1);
      const event = events[0]!;
      expect(event['outcome']).toBe(row.expect === 200 ? '0' : '4');
      expect(event['purposeOfEvent'][0].coding[0].code).toBe(row.purpose);
      expect(event['agent'][0].role[0].coding[0].code).toBe(row.role);
      expect(Boolean(event['meta'].tag?.some((t: Json) => t['code'] === 'break-glass'))).toBe(row.breakGlass === true);
      const decision = (event['entity'] as Json[]).find((e) => e['type']?.code === 'Consent')!;
      expect(decision['detail'][0].valueString).toBe(row.expect === 200 ? 'permit' : 'deny');
    },
  );

  /** One request of `row`'s requester (`subject`) as a client sees it: status, body, and the headers that are not per request. */
  async function ask(row: Row, subject: string, accept = 'application/fhir+json'): Promise<{ status: number; body: string; headers: Record<string, string>; requestId: string }> {
    const { node, url, patients } = deployments.get(row.policy)!;
    const requestId = `matrix-${randomUUID()}`;
    const response = await fetch(`${url}/fhir/Patient/$summary?identifier=urn:test:national|${patients.get(row.consent)!.nationalId}`, {
      headers: { authorization: `Bearer ${await tokenOf(node, row, subject)}`, 'x-request-id': requestId, accept },
    });
    // Per request: its id, trace and date; and the seconds left in the budget window, which move
    // on between two requests (the same for refused and unknown alike).
    const headers = Object.fromEntries([...response.headers].filter(([name]) => !['date', 'x-request-id', 'traceresponse', 'retry-after'].includes(name)));
    const body = (await response.text()).replace(/retry after \d+ s/g, 'retry after N s');
    return { status: response.status, body, headers: { ...headers, ...(response.headers.has('retry-after') ? { 'retry-after': 'N' } : {}) }, requestId };
  }

  it('refused and unknown patients answer alike, under and over the budget (status, body, headers)', async () => {
    const refusedRow: Row = { policy: 'opt-in/refused', consent: 'none', from: 'PT', role: '221', purpose: 'TREAT', expect: 403 };
    const unknownRow: Row = { ...refusedRow, consent: 'unknown-patient' };
    const subject = `oracle-${randomUUID()}`;
    for (let i = 0; i < PER_PATIENT + 2; i++) {
      const refused = await ask(refusedRow, subject);
      const unknown = await ask(unknownRow, subject);
      expect({ ...unknown, requestId: '' }).toEqual({ ...refused, requestId: '' });
      expect(refused.status).toBe(i < PER_PATIENT ? 403 : 429);
    }
  });

  it("a requester whose role may not read cannot lock a patient's summary for others, nor an emergency read", async () => {
    const nurse: Row = { policy: 'opt-out/allowed', consent: 'deny', from: 'PT', role: '3221', purpose: 'TREAT', expect: 403 };
    const subject = `lockout-${randomUUID()}`;
    for (let i = 0; i < PER_PATIENT + 2; i++) await ask(nurse, subject);
    expect((await ask(nurse, subject)).status).toBe(429);
    const emergency = await ask({ ...nurse, role: '221', purpose: 'ETREAT', reason: 'unconscious' }, `er-${randomUUID()}`);
    expect(emergency.status).toBe(200);
  });

  it('Accept: XML: 406 to an authenticated requester, with exactly one audit record; 401 without a token', async () => {
    const row: Row = { policy: 'opt-in/refused', consent: 'permit', from: 'PT', role: '221', purpose: 'TREAT', expect: 200 };
    const answer = await ask(row, `xml-${randomUUID()}`, 'application/fhir+xml');
    expect(answer.status).toBe(406);
    const { node, url, patients } = deployments.get(row.policy)!;
    expect(await recordsOf(node, '', answer.requestId)).toHaveLength(1);
    const anonymous = await fetch(`${url}/fhir/Patient/$summary?identifier=urn:test:national|${patients.get('permit')!.nationalId}`, { headers: { accept: 'application/fhir+xml' } });
    expect(anonymous.status).toBe(401);
  });
});
