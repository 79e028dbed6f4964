import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { mintDemoToken } from '../../src/auth/demo-tokens.js';
import { storeOn } from '../../src/repositories/store.js';
import { createServer } from '../../src/server.js';
import { FaultyDatabase } from '../support/faulty-database.js';
import { backends } from '../support/stores.js';
import { bodyOf, buildTestNode, demoTrust, documentFor, privacyConsent, send, sharedValidator, withDefaultToken, type Json, type TestNode } from '../support/test-node.js';

describe.each(backends)('the Consent API and the access log on the $name', (backend) => {
  let node: TestNode;
  let aud: string;
  let patientId: string;
  const PERSON = 'urn:test:national|C1';

  function consent(provision: Json, extra: Json = {}): Json {
    return { ...privacyConsent(patientId, provision), ...extra };
  }

  const asPatient = async (person = PERSON) => ({ authorization: `Bearer ${await mintDemoToken({ audience: aud, patient: person })}` });
  const asClinician = async () => ({ authorization: `Bearer ${await mintDemoToken({ audience: aud, issuer: 'ncp', country: 'PT' })}` });
  const asOperator = async () => ({ authorization: `Bearer ${await mintDemoToken({ audience: aud, issuer: 'ops', scope: 'system/AuditEvent.rs system/Consent.rs' })}` });

  beforeAll(async () => {
    node = await buildTestNode(backend, { PONTIS_BREAK_GLASS: 'allowed' });
    aud = node.config.baseUrl;
    await send(node.server, 'POST', '/fhir/Bundle', documentFor('C1', '2024-01-01T10:00:00Z'));
    await send(node.server, 'POST', '/fhir/Bundle', documentFor('C2', '2024-01-01T10:00:00Z'));
    patientId = bodyOf<Json>(await node.server.inject('/fhir/Patient?identifier=urn:test:national|C1'))['entry'][0].resource.id;
  });
  afterAll(() => node.cleanup());

  describe('Consent API', () => {
    it('lets the patient record their consent, which then decides what a clinician abroad gets', async () => {
      const summary = `/fhir/Patient/${patientId}/$summary`;
      expect((await node.server.inject({ url: summary, headers: await asClinician() })).statusCode).toBe(403);
      const created = await send(node.server, 'POST', '/fhir/Consent', consent({ type: 'permit' }), await asPatient());
      expect(created.statusCode).toBe(201);
      expect(created.headers['location']).toMatch(/\/Consent\/[^/]+\/_history\/1$/);
      const stored = bodyOf<Json>(created);
      expect(stored).toMatchObject({ resourceType: 'Consent', meta: { versionId: '1' }, patient: { reference: `Patient/${patientId}` } });
      expect((await node.server.inject({ url: summary, headers: await asClinician() })).statusCode).toBe(200);

      const revoked = await send(node.server, 'PUT', `/fhir/Consent/${stored['id']}`, { ...stored, provision: { type: 'deny' } }, { ...(await asPatient()), 'if-match': 'W/"1"' });
      expect(revoked.statusCode).toBe(200);
      expect((await node.server.inject({ url: summary, headers: await asClinician() })).statusCode).toBe(403);
      const stale = await send(node.server, 'PUT', `/fhir/Consent/${stored['id']}`, stored, { ...(await asPatient()), 'if-match': 'W/"1"' });
      expect(stale.statusCode).toBe(412);

      const listed = bodyOf<Json>(await node.server.inject({ url: `/fhir/Consent?patient=Patient/${patientId}`, headers: await asPatient() }));
      expect(listed).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 1 });
      expect(listed['entry'][0].resource.provision.type).toBe('deny');
      expect((await node.server.inject({ url: `/fhir/Consent/${stored['id']}`, headers: await asOperator() })).statusCode).toBe(200);
    });

    it('keeps every version: _history lists them newest first, _history/{vid} reads one, both audited', async () => {
      const created = bodyOf<Json>(await send(node.server, 'POST', '/fhir/Consent', consent({ type: 'permit' }), { ...(await asPatient()), prefer: 'return=representation' }));
      const id = created['id'] as string;
      const updated = await send(node.server, 'PUT', `/fhir/Consent/${id}`, { ...created, provision: { type: 'deny' } }, { ...(await asPatient()), 'if-match': 'W/"1"' });
      expect(updated.headers['etag']).toBe('W/"2"');

      const history = await node.server.inject({ url: `/fhir/Consent/${id}/_history`, headers: await asPatient() });
      expect(history.statusCode).toBe(200);
      const bundle = bodyOf<Json>(history);
      expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'history', total: 2 });
      expect((bundle['entry'] as Json[]).map((e) => [e['resource'].meta.versionId, e['resource'].provision.type, e['response'].etag, e['request'].method])).toEqual([
        ['2', 'deny', 'W/"2"', 'PUT'],
        ['1', 'permit', 'W/"1"', 'POST'],
      ]);
      const first = await node.server.inject({ url: `/fhir/Consent/${id}/_history/1`, headers: await asOperator() });
      expect(first.statusCode).toBe(200);
      expect(first.headers['etag']).toBe('W/"1"');
      expect(bodyOf<Json>(first)).toMatchObject({ id, meta: { versionId: '1' }, provision: { type: 'permit' } });

      const missing = await node.server.inject({ url: `/fhir/Consent/${id}/_history/3`, headers: await asPatient() });
      expect(missing.statusCode).toBe(404);
      expect(bodyOf<Json>(missing)).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'not-found' }] });
      expect((await node.server.inject({ url: `/fhir/Consent/${id}/_history/0`, headers: await asPatient() })).statusCode).toBe(400);
      expect((await node.server.inject({ url: `/fhir/Consent/${id}/_history`, headers: await asPatient('urn:test:national|C2') })).statusCode).toBe(403);
      expect((await node.server.inject({ url: `/fhir/Consent/${id}/_history/1`, headers: await asClinician() })).statusCode).toBe(403);

      const log = bodyOf<Json>(await node.server.inject({ url: `/fhir/AuditEvent?patient=${patientId}&_count=20`, headers: await asOperator() }));
      const interactions = (log['entry'] as Json[]).map((e) => e['resource'].subtype[0].code as string);
      expect(interactions).toEqual(expect.arrayContaining(['vread', 'history-instance']));
      const vread = (log['entry'] as Json[]).map((e) => e['resource'] as Json).find((e) => e['subtype'][0].code === 'vread' && e['outcome'] === '0')!;
      expect(vread['entity'].map((e: Json) => e['what']?.reference)).toContain(`Consent/${id}/_history/1`);

      const metadata = bodyOf<Json>(await node.server.inject({ url: '/fhir/metadata', headers: { authorization: 'none' } }));
      const consentCapability = metadata['rest'][0].resource.find((r: Json) => r['type'] === 'Consent');
      expect(consentCapability.interaction.map((i: Json) => i['code'])).toEqual(expect.arrayContaining(['vread', 'history-instance']));
      expect(consentCapability.readHistory).toBe(true);
    });

    it("refuses another patient's token, clinicians and operators as writers", async () => {
      expect((await send(node.server, 'POST', '/fhir/Consent', consent({ type: 'permit' }), await asPatient('urn:test:national|C2'))).statusCode).toBe(403);
      // Refused before the profile is checked: a requester who may not write learns nothing of the patient.
      const invalid = { ...consent({ type: 'permit' }), status: 'approved' };
      expect((await send(node.server, 'POST', '/fhir/Consent', invalid, await asPatient('urn:test:national|C2'))).statusCode).toBe(403);
      const clinicianToken = await mintDemoToken({ audience: aud, issuer: 'ncp', country: 'PT', scope: 'user/Consent.c' });
      expect((await send(node.server, 'POST', '/fhir/Consent', consent({ type: 'permit' }), { authorization: `Bearer ${clinicianToken}` })).statusCode).toBe(403);
      expect((await send(node.server, 'POST', '/fhir/Consent', consent({ type: 'permit' }), await asOperator())).statusCode).toBe(403);
      expect((await node.server.inject({ url: `/fhir/Consent?patient=${patientId}`, headers: await asPatient('urn:test:national|C2') })).statusCode).toBe(403);
    });

    it.each([
      ['Consent.scope', { scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'research' }] } }, /patient-privacy/],
      ['Consent.patient', { patient: { reference: 'Group/1' } }, /Patient\/<id>/],
      ['Consent.dateTime', { dateTime: undefined }, /dateTime is required/],
      ['Consent.provision.type', { provision: {} }, /permit or deny/],
      ['Consent.provision.provision[0].provision', { provision: { type: 'permit', provision: [{ type: 'deny', provision: [{ type: 'permit' }] }] } }, /nested more than one level/],
      ['Consent.status', { status: 'approved' }, /.+/],
    ])('refuses with 422 a Consent wrong at %s', async (expression, change, message) => {
      const response = await send(node.server, 'POST', '/fhir/Consent', { ...consent({ type: 'permit' }), ...change });
      expect(response.statusCode).toBe(422);
      const issue = (bodyOf<Json>(response)['issue'] as Json[]).find((i) => i['severity'] === 'error' && i['expression']?.[0] === expression);
      expect(issue?.['diagnostics']).toMatch(message);
    });

    it('refuses a Consent for a patient not known here', async () => {
      const response = await send(node.server, 'POST', '/fhir/Consent', { ...consent({ type: 'permit' }), patient: { reference: 'Patient/nobody' } });
      expect(response.statusCode).toBe(422);
      expect(bodyOf<Json>(response)['issue'][0].expression).toEqual(['Consent.patient']);
    });
  });

  describe("the patient's access log", () => {
    it('shows the patient who read their data, newest first, break-glass marked; to them and operators only', async () => {
      const emergency = await mintDemoToken({ audience: aud, issuer: 'ncp', country: 'PT', purpose: 'ETREAT', breakGlassReason: 'unconscious' });
      expect((await node.server.inject({ url: `/fhir/Patient/${patientId}/$summary`, headers: { authorization: `Bearer ${emergency}` } })).statusCode).toBe(200);
      const log = bodyOf<Json>(await node.server.inject({ url: `/fhir/AuditEvent?patient=${patientId}`, headers: await asPatient() }));
      const events = (log['entry'] as Json[]).map((e) => e['resource'] as Json);
      expect(events.length).toBeGreaterThan(5);
      const recorded = events.map((e) => Date.parse(e['recorded']));
      expect([...recorded].sort((a, b) => b - a)).toEqual(recorded);
      expect(events[0]!['meta'].tag).toEqual([expect.objectContaining({ code: 'break-glass' })]);
      expect(events[0]!['purposeOfEvent'][0].coding[0].code).toBe('ETREAT');
      expect(events.slice(1).every((e) => !e['meta'].tag)).toBe(true);
      expect((await node.server.inject({ url: `/fhir/AuditEvent?patient=${patientId}`, headers: await asOperator() })).statusCode).toBe(200);
      expect((await node.server.inject({ url: `/fhir/AuditEvent?patient=${patientId}`, headers: await asPatient('urn:test:national|C2') })).statusCode).toBe(403);
      const clinician = await mintDemoToken({ audience: aud, issuer: 'idp', scope: 'user/AuditEvent.rs' });
      expect((await node.server.inject({ url: `/fhir/AuditEvent?patient=${patientId}`, headers: { authorization: `Bearer ${clinician}` } })).statusCode).toBe(403);
    });
  });

  describe('failing closed', () => {
    it('refuses with 503 and releases nothing when consents cannot be read, or the audit record cannot be written', async () => {
      const opened = await backend.open();
      const faulty = new FaultyDatabase(opened.database);
      const store = await storeOn(faulty, node.config);
      const server = withDefaultToken(
        await createServer({ config: node.config, store, logger: pino({ level: 'silent' }), validator: sharedValidator(), trust: await demoTrust() }),
        node.config.baseUrl,
      );
      await server.initialize();
      try {
        const pushed = await send(server, 'POST', '/fhir/Bundle', documentFor('F1', '2024-01-01T10:00:00Z'));
        const id = bodyOf<Json>(pushed)['id'];
        const patient = bodyOf<Json>(await server.inject('/fhir/Patient?identifier=urn:test:national|F1'))['entry'][0].resource.id as string;
        faulty.failing.add('patient_changes.findOne');
        const doctor = await mintDemoToken({ audience: node.config.baseUrl });
        const noConsent = await server.inject({ url: `/fhir/Patient/${patient}/$summary`, headers: { authorization: `Bearer ${doctor}` } });
        expect(noConsent.statusCode).toBe(503);
        expect(noConsent.payload).not.toContain('"entry"');
        expect(bodyOf<Json>(noConsent)['issue'][0].diagnostics).toMatch(/consent cannot be checked/);
        // The data's source needs no consent to read what it pushed: its decision reads none.
        expect((await server.inject(`/fhir/Bundle/${id}`)).statusCode).toBe(200);
        faulty.failing.clear();
        faulty.failing.add('audit_events.insertMany');
        const noAudit = await server.inject(`/fhir/Bundle/${id}`);
        expect(noAudit.statusCode).toBe(503);
        expect(noAudit.payload).not.toContain('"entry"');
        expect(bodyOf<Json>(noAudit)['issue'][0].diagnostics).toMatch(/could not be audited/);
        faulty.failing.clear();
        expect((await server.inject(`/fhir/Bundle/${id}`)).statusCode).toBe(200);
      } finally {
        await server.stop();
        await opened.cleanup();
      }
    });
  });
});
