import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mintDemoToken } from '../../src/auth/demo-tokens.js';
import { memoryBackend } from '../support/stores.js';
import { allSections, buildTestNode, patientOf, privacyConsent, send, type Json, type TestNode } from '../support/test-node.js';

/**
 * Who gets a patient's summary, through the real HTTP API of a listening node: role × purpose ×
 * consent state × requesting country × restriction × break-glass policy. Each row checks the
 * status, the body, and the audit record the request left.
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
  expect: 200 | 403;
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
  { policy: 'opt-out/allowed', consent: 'permit-withhold-problems', from: 'PT', role: '221', purpose: 'ETREAT', reason: 'stroke', expect: 200, breakGlass: true },
  { policy: 'opt-out/allowed', consent: 'permit-not-FR', from: 'FR', role: '221', purpose: 'TREAT', expect: 403 },
  { policy: 'opt-out/allowed', consent: 'unknown-patient', from: 'FR', role: '221', purpose: 'TREAT', expect: 403 },
];

interface Deployment {
  node: TestNode;
  url: string;
  /** National identifier of the patient in each consent state. */
  patients: Map<ConsentState, { nationalId: string; patientId: string }>;
}

const deployments = new Map<Policy, Deployment>();

async function deploy(policy: Policy): Promise<Deployment> {
  const [defaultDecision, breakGlass] = policy.split('/');
  const node = await buildTestNode(memoryBackend, { PONTIS_CONSENT_DEFAULT: defaultDecision!, PONTIS_BREAK_GLASS: breakGlass!, HOST: '127.0.0.1', PORT: '0' });
  await node.server.start();
  deployments.set(policy, { node, url: node.server.info.uri, patients: new Map() });
  const patients = new Map<ConsentState, { nationalId: string; patientId: string }>();
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
  return { node, url: node.server.info.uri, patients };
}

beforeAll(async () => {
  // Registered as soon as listening, so that afterAll stops it even if set-up fails.
  for (const policy of ['opt-in/refused', 'opt-out/allowed'] as const) deployments.set(policy, await deploy(policy));
});
afterAll(async () => {
  for (const d of deployments.values()) await d.node.cleanup();
});

describe('authorisation matrix (real HTTP)', () => {
  it.each(rows.map((r) => [`${r.policy} · consent ${r.consent} · ${r.from} ${r.role} ${r.purpose}${r.reason ? ' (reason)' : ''} → ${r.expect}${r.withheld ? ' withheld' : ''}${r.breakGlass ? ' break-glass' : ''}`, r] as const))(
    '%s',
    async (_name, row) => {
      const { node, url, patients } = deployments.get(row.policy)!;
      const patient = patients.get(row.consent)!;
      // A clinician abroad asks through their country's node (a peer node); one of AT through AT's identity provider.
      const jwt = await mintDemoToken({
        audience: node.config.baseUrl,
        issuer: row.from === 'AT' ? 'idp' : 'ncp',
        country: row.from,
        role: row.role,
        purpose: row.purpose,
        ...(row.reason ? { breakGlassReason: row.reason } : {}),
      });
      const requestId = `matrix-${randomUUID()}`;
      const response = await fetch(`${url}/fhir/Patient/$summary?identifier=urn:test:national|${patient.nationalId}`, {
        headers: { authorization: `Bearer ${jwt}`, 'x-request-id': requestId, accept: 'application/fhir+json' },
      });
      expect(response.status).toBe(row.expect);
      const body = (await response.json()) as Json;
      if (row.expect === 403) {
        expect(body).toEqual({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'forbidden', diagnostics: NOT_RELEASED }] });
      } else {
        expect(body['resourceType']).toBe('Bundle');
        const problems = (body['entry'][0].resource.section as Json[]).find((s) => s['code'].coding[0].code === PROBLEMS)!;
        expect(problems['emptyReason']?.coding[0].code === 'withheld').toBe(row.withheld === true);
        expect(JSON.stringify(body['meta']).includes('REDACTED')).toBe(row.withheld === true);
      }

      // The audit record of this very request (found by its X-Request-Id).
      const records = patient.patientId ? await node.store.audit.forPatient(patient.patientId, 200) : [];
      const events = records.map((r) => JSON.parse(r.json) as Json).filter((e) => (e['entity'] as Json[]).some((x) => x['what']?.identifier?.value === requestId));
      if (row.consent === 'unknown-patient') return;
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
});
