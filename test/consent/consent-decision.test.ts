import { describe, expect, it } from '@jest/globals';
import type { Requester } from '../../src/auth/requester.js';
import { parseScopes } from '../../src/auth/scopes.js';
import type { ConsentProvision } from 'fhir/r4.js';
import { decideConsent, decisionReadsConsents, type ConsentRules } from '../../src/consent/consent-decision.js';
import type { ConsentPolicy } from '../../src/consent/consent-policy.js';

const OPT_IN: ConsentPolicy = { defaultDecision: 'opt-in', breakGlass: 'refused', readRoles: ['221', '2221'] };
const AT = Date.parse('2026-06-01T12:00:00Z');
const PATIENT = { id: 'p1', identifierKeys: ['urn:test:national|N1'] };

function clinician(overrides: Partial<Requester> = {}): Requester {
  return {
    issuer: 'https://ncp.pt.example',
    issuerKind: 'peer-node',
    subject: 'dr-1',
    clientId: 'c',
    tokenId: 't',
    country: 'PT',
    scopes: parseScopes('user/Bundle.r'),
    context: 'user',
    role: '2211',
    purpose: 'TREAT',
    organizationId: 'urn:oid:1.2.3',
    ...overrides,
  };
}

function consent(provision: ConsentProvision, dateTime = '2026-01-01T00:00:00Z', id = 'c1'): ConsentRules {
  return { id, status: 'active', dateTimeMs: Date.parse(dateTime), provision };
}
const section = (code: string) => ({ coding: [{ system: 'http://loinc.org', code }] });
/** R4 gives every actor a role and a reference: a recipient country, or an ISCO-08 role of anyone. */
const RECIPIENT = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] };
const country = (cc: string) => ({ role: RECIPIENT, reference: { identifier: { system: 'urn:iso:std:iso:3166', value: cc } } });
const role = (code: string) => ({ role: { coding: [{ system: 'urn:oid:2.16.840.1.113883.2.9.6.2.7', code }] }, reference: { display: 'anyone in this role' } });

describe('consent decisions', () => {
  it('refuse without a consent under opt-in, permit under opt-out', () => {
    expect(decideConsent(OPT_IN, clinician(), PATIENT, [], AT).outcome).toBe('deny');
    expect(decideConsent({ ...OPT_IN, defaultDecision: 'opt-out' }, clinician(), PATIENT, [], AT).outcome).toBe('permit');
  });

  it('permit on an explicit permit, and refuse a per-service opt-out even under opt-out', () => {
    expect(decideConsent(OPT_IN, clinician(), PATIENT, [consent({ type: 'permit' })], AT)).toMatchObject({ outcome: 'permit', consentId: 'c1' });
    const optOut = consent({ type: 'deny', code: [section('60591-5')] });
    expect(decideConsent({ ...OPT_IN, defaultDecision: 'opt-out' }, clinician(), PATIENT, [optOut], AT).outcome).toBe('deny');
  });

  it('follow the newest active consent, and ignore inactive ones', () => {
    const older = consent({ type: 'permit' }, '2025-01-01T00:00:00Z', 'old');
    const newer = consent({ type: 'deny' }, '2026-01-01T00:00:00Z', 'new');
    expect(decideConsent(OPT_IN, clinician(), PATIENT, [older, newer], AT)).toMatchObject({ outcome: 'deny', consentId: 'new' });
    expect(decideConsent(OPT_IN, clinician(), PATIENT, [older, { ...newer, status: 'inactive' }], AT)).toMatchObject({ outcome: 'permit', consentId: 'old' });
  });

  it('honour the period of a consent and of its provisions', () => {
    expect(decideConsent(OPT_IN, clinician(), PATIENT, [consent({ type: 'permit', period: { end: '2026-05-31' } })], AT).outcome).toBe('deny');
    expect(decideConsent(OPT_IN, clinician(), PATIENT, [consent({ type: 'permit', period: { end: '2026-06-01' } })], AT).outcome).toBe('permit');
    const holiday = consent({ type: 'deny', provision: [{ type: 'permit', period: { start: '2026-05-20', end: '2026-06-10' } }] });
    expect(decideConsent(OPT_IN, clinician(), PATIENT, [holiday], AT).outcome).toBe('permit');
    expect(decideConsent(OPT_IN, clinician(), PATIENT, [holiday], Date.parse('2026-07-01')).outcome).toBe('deny');
  });

  it('refuse a country, an organisation or a role named in a deny provision, and no one else', () => {
    const noPortugal = consent({ type: 'permit', provision: [{ type: 'deny', actor: [country('PT')] }] });
    expect(decideConsent(OPT_IN, clinician(), PATIENT, [noPortugal], AT).outcome).toBe('deny');
    expect(decideConsent(OPT_IN, clinician({ country: 'FR' }), PATIENT, [noPortugal], AT).outcome).toBe('permit');
    const noNurses = consent({ type: 'permit', provision: [{ type: 'deny', actor: [role('2221')] }] });
    expect(decideConsent(OPT_IN, clinician({ role: '2221' }), PATIENT, [noNurses], AT).outcome).toBe('deny');
    expect(decideConsent(OPT_IN, clinician(), PATIENT, [noNurses], AT).outcome).toBe('permit');
    const noOrg = consent({ type: 'permit', provision: [{ type: 'deny', actor: [{ role: RECIPIENT, reference: { identifier: { system: 'urn:ietf:rfc:3986', value: 'urn:oid:1.2.3' } } }] }] });
    expect(decideConsent(OPT_IN, clinician(), PATIENT, [noOrg], AT).outcome).toBe('deny');
  });

  it('read ISCO-08 as a hierarchy: a provision for doctors (221) covers generalists (2211)', () => {
    const onlyDoctors = consent({ type: 'deny', provision: [{ type: 'permit', actor: [role('221')] }] });
    expect(decideConsent(OPT_IN, clinician({ role: '2211' }), PATIENT, [onlyDoctors], AT).outcome).toBe('permit');
    expect(decideConsent(OPT_IN, clinician({ role: '2221' }), PATIENT, [onlyDoctors], AT).outcome).toBe('deny');
  });

  it('withhold sections named in a deny provision, for the actors it names', () => {
    const restricted = consent({ type: 'permit', provision: [{ type: 'deny', code: [section('11450-4')] }, { type: 'deny', actor: [country('FR')], code: [section('10160-0')] }] });
    expect(decideConsent(OPT_IN, clinician(), PATIENT, [restricted], AT)).toMatchObject({ outcome: 'permit', withheldSections: ['11450-4'] });
    expect(decideConsent(OPT_IN, clinician({ country: 'FR' }), PATIENT, [restricted], AT)).toMatchObject({ outcome: 'permit', withheldSections: ['10160-0', '11450-4'] });
  });

  it('limit provisions to the purposes they name', () => {
    const emergencyOnly = consent({ type: 'deny', provision: [{ type: 'permit', purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'ETREAT' }] }] });
    expect(decideConsent(OPT_IN, clinician(), PATIENT, [emergencyOnly], AT).outcome).toBe('deny');
    expect(decideConsent(OPT_IN, clinician({ purpose: 'ETREAT', breakGlassReason: 'unconscious' }), PATIENT, [emergencyOnly], AT).outcome).toBe('permit');
  });

  it('refuse roles and purposes outside the policy whatever the consent says', () => {
    const permit = [consent({ type: 'permit' })];
    expect(decideConsent(OPT_IN, clinician({ role: '2262' }), PATIENT, permit, AT).basis).toMatch(/role 2262/);
    expect(decideConsent(OPT_IN, clinician({ purpose: 'HOPERAT' }), PATIENT, permit, AT).basis).toMatch(/purpose HOPERAT/);
  });

  it('let break-glass override a refusal only where the policy allows it, and flag it', () => {
    const refused = [consent({ type: 'deny' })];
    const emergency = clinician({ purpose: 'BTG', breakGlassReason: 'unconscious patient in the emergency room' });
    expect(decideConsent(OPT_IN, emergency, PATIENT, refused, AT)).toMatchObject({ outcome: 'deny', breakGlass: false });
    expect(decideConsent({ ...OPT_IN, breakGlass: 'allowed' }, emergency, PATIENT, refused, AT)).toMatchObject({ outcome: 'permit', breakGlass: true });
    expect(decideConsent({ ...OPT_IN, breakGlass: 'allowed' }, clinician({ purpose: 'BTG' }), PATIENT, refused, AT).basis).toMatch(/needs a reason/);
  });

  it("give hospital systems their country's data, patients their own, operators none", () => {
    const his = clinician({ context: 'system', issuerKind: 'hospital-system', role: undefined, purpose: undefined });
    expect(decideConsent(OPT_IN, his, PATIENT, [consent({ type: 'deny' })], AT).outcome).toBe('permit');
    const self = clinician({ context: 'patient', issuerKind: 'identity-provider', personId: 'urn:test:national|N1' });
    expect(decideConsent(OPT_IN, self, PATIENT, [], AT).outcome).toBe('permit');
    expect(decideConsent(OPT_IN, { ...self, personId: 'urn:test:national|N2' }, PATIENT, [], AT).outcome).toBe('deny');
    expect(decideConsent(OPT_IN, { ...his, issuerKind: 'operator' }, PATIENT, [], AT).outcome).toBe('deny');
  });

  it('read Consents for clinicians and patients only: a system requester\'s answer is the same whatever they say', () => {
    const his = clinician({ context: 'system', issuerKind: 'hospital-system', role: undefined, purpose: undefined });
    const operator = { ...his, issuerKind: 'operator' as const };
    for (const requester of [his, operator]) {
      expect(decisionReadsConsents(requester)).toBe(false);
      const permitAll = consent({ type: 'permit' });
      const denyAll = consent({ type: 'deny' });
      expect(decideConsent(OPT_IN, requester, PATIENT, [permitAll], AT)).toEqual(decideConsent(OPT_IN, requester, PATIENT, [denyAll], AT));
      expect(decideConsent(OPT_IN, requester, PATIENT, [], AT)).toEqual(decideConsent(OPT_IN, requester, PATIENT, [denyAll], AT));
    }
    expect(decisionReadsConsents(clinician())).toBe(true);
    expect(decisionReadsConsents(clinician({ context: 'patient', issuerKind: 'identity-provider', personId: 'urn:test:national|N1' }))).toBe(true);
  });
});
