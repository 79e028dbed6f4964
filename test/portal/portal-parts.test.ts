import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle, Consent } from 'fhir/r4.js';
import { auditEventOf } from '../../src/audit/audit-event.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { projectRoot } from '../../src/project-root.js';
import { accessLogRows } from '../../src/portal/access-log-view.js';
import { choicesFromConsent, consentFromChoices } from '../../src/portal/consent-choices.js';
import { chooseLanguage, PORTAL_LANGUAGES, translate } from '../../src/portal/i18n.js';
import { de } from '../../src/portal/i18n/de.js';
import { en } from '../../src/portal/i18n/en.js';
import { es } from '../../src/portal/i18n/es.js';
import { fr } from '../../src/portal/i18n/fr.js';
import { it as italian } from '../../src/portal/i18n/it.js';
import { pt } from '../../src/portal/i18n/pt.js';
import { sanitiseNarrative } from '../../src/portal/narrative.js';
import { personOf, SignInRefused } from '../../src/portal/oidc-relying-party.js';
import { PortalKeyError, PortalTokenSigner } from '../../src/portal/portal-tokens.js';
import { refusalOf } from '../../src/portal/refusals.js';
import { SECTION_ORDER, summaryView } from '../../src/portal/summary-view.js';
import { demoTrust, ipsExample } from '../support/test-node.js';
import { HOSTILE_NARRATIVE } from './hostile-document.js';

const seed = (file: string) => JSON.parse(readFileSync(join(projectRoot(), 'seed', file), 'utf8')) as Record<string, any>;

describe('narrative sanitiser', () => {
  const clean = sanitiseNarrative(HOSTILE_NARRATIVE);

  it('removes every way to run code, load something, restyle the page or clobber its elements', () => {
    for (const forbidden of [/<script/i, /alert/, /__pontisPwned/, /\son\w+\s*=/i, /javascript:/i, /style/i, /<iframe/i, /<form/i, /<input/i, /<svg/i, /<base/i, /<img/i, /\bid=/, /\bclass=/, /href=/, /evil\.example/]) {
      expect(clean).not.toMatch(forbidden);
    }
  });

  it('keeps the text and its structure, and the language', () => {
    expect(clean).toContain('<p>Allergy to penicillin</p>');
    expect(clean).toContain('open record');
    expect(clean).toContain('<td>cell</td>');
    expect(sanitiseNarrative('<div lang="de-AT"><h1>Titel</h1><ul><li>a</li></ul><table><tr><th scope="col" colspan="2">x</th></tr></table></div>')).toBe(
      '<div lang="de-AT"><h3>Titel</h3><ul><li>a</li></ul><table><tr><th scope="col" colspan="2">x</th></tr></table></div>',
    );
  });

  it('does not let markup through by encoding or nesting tricks', () => {
    for (const attack of ['<scr<script>ipt>alert(1)</script>', '<a href="jav&#x09;ascript:alert(1)">x</a>', '<a href="&#106;avascript:alert(1)">x</a>', '<!--<script>alert(1)//--><p>t</p>', '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>']) {
      const out = sanitiseNarrative(attack);
      expect(out).not.toMatch(/<script|onerror|javascript|href=|<img|<style|<math/i);
    }
  });
});

describe('summary view', () => {
  it('puts allergies and alerts first, then problems, medications, immunisations, results, procedures, devices, then the rest in document order', () => {
    const bundle = ipsExample('Bundle-bundle-ips-all-sections.json') as Bundle;
    const view = summaryView(bundle, 'en');
    const codes = view.sections.map((s) => s.code);
    expect(SECTION_ORDER.slice(0, 3)).toEqual(['48765-2', '104605-1', '11450-4']);
    const known = SECTION_ORDER.filter((c) => codes.includes(c));
    expect(known.length).toBeGreaterThanOrEqual(6);
    expect(codes.slice(0, known.length)).toEqual(known);
    const composition = bundle.entry![0]!.resource as unknown as { section: Array<{ code: { coding: Array<{ code: string }> } }> };
    const rest = composition.section.map((s) => s.code.coding[0]!.code).filter((c) => !known.includes(c));
    expect(rest.length).toBeGreaterThan(0);
    expect(codes.slice(known.length)).toEqual(rest);
  });

  it('shows a translated term with its original and code, marks a term the translator could not translate, and names withheld sections', () => {
    const bundle = seed('AT/at-lukas-bauer.json') as Bundle;
    const composition = bundle.entry![0]!.resource as any;
    composition.section[1].entry = [];
    composition.section[1].emptyReason = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/list-empty-reason', code: 'withheld' }] };
    const allergy = bundle.entry!.find((e) => e.resource?.resourceType === 'AllergyIntolerance')!.resource as any;
    allergy.code.coding[0]._display = { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/translation', extension: [{ url: 'lang', valueCode: 'pt' }, { url: 'content', valueString: 'Alergia a marisco' }] }] };
    allergy.reaction[0].manifestation[0].coding[0]._display = { extension: [{ url: 'https://pontis.example.eu/fhir/StructureDefinition/untranslated', valueCode: 'pt' }] };
    bundle.meta = { tag: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'TRSLT' }] };
    const view = summaryView(bundle, 'pt-PT');
    const entry = view.sections[0]!.entries[0]!;
    expect(entry.term).toMatchObject({ text: 'Alergia a marisco', lang: 'pt', original: 'Shellfish allergy', code: '300913006', untranslated: false });
    expect(entry.high).toBe(true);
    expect(entry.details[0]!.term).toMatchObject({ text: 'Anaphylaxis', untranslated: true });
    expect(view.untranslatedCount).toBe(1);
    expect(view.translated).toEqual({ into: 'pt', catalogue: undefined });
    const withheld = view.sections.find((s) => s.code === '11450-4')!;
    expect(withheld).toMatchObject({ withheld: true, entries: [] });
    expect(view.withheldCount).toBe(1);
    expect(view.patient).toMatchObject({ name: 'Lukas Bauer', birthDate: '1987-07-30', gender: 'male' });
    expect(view.author).toBe('Dr. Eva Steiner');
  });
});

describe('consent choices', () => {
  it('writes a base permit with per-country and per-section exceptions, and reads them back', () => {
    const consent = consentFromChoices({ share: true, countries: { PT: 'emergency', FR: 'none' }, hiddenSections: ['11450-4'] }, 'p1', new Date('2026-12-01T10:00:00Z'));
    expect(consent).toMatchObject({ status: 'active', patient: { reference: 'Patient/p1' }, dateTime: '2026-12-01T10:00:00.000Z', provision: { type: 'permit' } });
    expect(consent.provision!.provision).toEqual([
      { type: 'deny', actor: [expect.objectContaining({ reference: { identifier: { system: 'urn:iso:std:iso:3166', value: 'FR' } } })] },
      { type: 'deny', actor: [expect.objectContaining({ reference: { identifier: { system: 'urn:iso:std:iso:3166', value: 'PT' } } })], purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' }] },
      { type: 'deny', code: [{ coding: [{ system: 'http://loinc.org', code: '11450-4' }] }] },
    ]);
    expect(choicesFromConsent(consent, ['PT', 'FR'])).toEqual({ choices: { share: true, countries: { PT: 'emergency', FR: 'none' }, hiddenSections: ['11450-4'] }, unsupported: false });
  });

  it('writes the per-service opt-out as a base deny of the patient summary', () => {
    const consent = consentFromChoices({ share: false, countries: { PT: 'none' }, hiddenSections: ['11450-4'] }, 'p1');
    expect(consent.provision).toEqual({ type: 'deny', code: [{ coding: [{ system: 'http://loinc.org', code: '60591-5', display: 'Patient summary Document' }] }] });
    expect(consent.policyRule!.coding![0]!.code).toBe('OPTOUT');
  });

  it('says when a recorded Consent holds rules the page cannot show (a role)', () => {
    const read = choicesFromConsent(seed('AT/consents/at-lukas-bauer.json') as Consent, ['PT', 'FR']);
    expect(read.unsupported).toBe(true);
    expect(read.choices.hiddenSections).toEqual(['11450-4']);
    expect(read.choices.share).toBe(true);
  });
});

describe('the portal\'s text', () => {
  const languages = { en, de, pt, fr, es, it: italian };

  it('exists in all six languages, key for key, with the same placeholders, and none left in English', () => {
    expect(PORTAL_LANGUAGES.map((l) => l.code).sort()).toEqual(Object.keys(languages).sort());
    const placeholders = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort();
    for (const [code, messages] of Object.entries(languages)) {
      expect(Object.keys(messages).sort()).toEqual(Object.keys(en).sort());
      for (const [key, text] of Object.entries(messages)) {
        expect(text.trim().length).toBeGreaterThan(0);
        expect({ code, key, placeholders: placeholders(text) }).toEqual({ code, key, placeholders: placeholders(en[key as keyof typeof en]) });
      }
      if (code !== 'en') {
        const same = Object.keys(en).filter((k) => messages[k as keyof typeof en] === en[k as keyof typeof en] && /\s/.test(en[k as keyof typeof en]));
        expect({ code, untranslated: same }).toEqual({ code, untranslated: [] });
      }
    }
  });

  it("is chosen from a cookie, else the browser's first language the portal speaks, else English", () => {
    expect(chooseLanguage(undefined, 'pt-PT,pt;q=0.9,en;q=0.8')).toBe('pt');
    expect(chooseLanguage(undefined, 'zh-CN,de-AT;q=0.5')).toBe('de');
    expect(chooseLanguage('fr', 'de')).toBe('fr');
    expect(chooseLanguage('xx', 'zh')).toBe('en');
    expect(chooseLanguage(undefined, ';;;')).toBe('en');
    expect(translate('de', 'signed_in_as', { name: 'Eva' })).toBe('Angemeldet als Eva');
  });
});

describe('refusals in plain words', () => {
  const request = { app: { portalLanguage: 'en' } } as never;
  const answer = (status: number, diagnostics = '', headers: Record<string, string> = {}) => ({ status, body: { resourceType: 'OperationOutcome', issue: [{ diagnostics }] }, headers });

  it('says the same for a patient unknown at home and one who has not consented, and what to do', () => {
    const unknown = refusalOf(request, answer(404, 'the node of AT has no summary it can release for this patient'), 'AT');
    const refused = refusalOf(request, answer(403, 'no patient data can be released for this request'), 'AT');
    expect(unknown.message).toBe(refused.message);
    expect(unknown.message).toContain('Austria');
    expect(unknown.todo).toContain('emergency');
  });

  it('tells an unreachable or slow home node, an unverifiable answer, and when to try again', () => {
    expect(refusalOf(request, answer(504), 'AT').message).toContain('could not be reached or did not answer in time');
    expect(refusalOf(request, answer(502, 'the node of AT cannot be reached'), 'AT').message).toContain('could not be reached');
    expect(refusalOf(request, answer(502, 'the summary from the node of AT is refused: bad signature'), 'AT').message).toContain('could not be verified');
    expect(refusalOf(request, answer(503, '', { 'retry-after': '17' }), 'AT').todo).toBe('Try again in 17 seconds.');
    expect(refusalOf(request, answer(429, '', { 'retry-after': '40' }), 'AT')).toMatchObject({ status: 429, todo: 'Try again in 40 seconds.' });
    expect(refusalOf(request, answer(500), 'AT').message).toContain('Something went wrong');
  });
});

describe('who signs in', () => {
  it('takes a clinician with an ISCO-08 role and organisation, or a patient with their identifier, from the ID token', () => {
    expect(personOf({ sub: 's1', name: 'Eva Berger', isco08_role: '2211', organization: 'LKH', organization_id: 'urn:oid:1.2', country: 'AT' }, 'AT')).toEqual({ subject: 's1', kind: 'clinician', name: 'Eva Berger', role: '2211', organization: 'LKH', organizationId: 'urn:oid:1.2' });
    expect(personOf({ sub: 's2', given_name: 'Anna', family_name: 'Gruber', person_id: 'urn:oid:1.2.40.0.10.1.4.3.1|1238140358' }, 'AT')).toMatchObject({ kind: 'patient', name: 'Anna Gruber', personId: 'urn:oid:1.2.40.0.10.1.4.3.1|1238140358' });
  });

  it('refuses an ID token without role or identifier, a malformed one, or one of another country', () => {
    for (const claims of [{ sub: 's', name: 'n' }, { sub: 's', name: 'n', isco08_role: 'doctor', organization: 'o', organization_id: 'i' }, { sub: 's', name: 'n', isco08_role: '2211' }, { sub: 's', name: 'n', person_id: 'no-bar' }, { sub: 's', name: 'n', person_id: 'a|b', country: 'PT' }, { name: 'n', person_id: 'a|b' }]) {
      expect(() => personOf(claims, 'AT')).toThrow(SignInRefused);
    }
  });
});

describe('the portal token signer', () => {
  const key = (name: string) => join(projectRoot(), 'seed', 'trust', 'demo-keys', `${name}.json`);

  it("refuses a key that is not this country's identity provider in the trust list", async () => {
    const trust = await demoTrust();
    await expect(PortalTokenSigner.load(key('his-at'), trust, 'AT', 'http://at.example/fhir')).rejects.toThrow(PortalKeyError);
    await expect(PortalTokenSigner.load(key('idp-pt'), trust, 'AT', 'http://at.example/fhir')).rejects.toThrow(/not an identity provider of AT/);
    await expect(PortalTokenSigner.load('/nonexistent.json', trust, 'AT', 'http://at.example/fhir')).rejects.toThrow(PortalKeyError);
    expect((await PortalTokenSigner.load(key('idp-at'), trust, 'AT', 'http://at.example/fhir')).issuer).toBe('https://idp.at.demo.pontis.example');
  });
});

describe('the access log view', () => {
  it("shows a peer's break-glass read with its country, organisation, role, purpose and reason", () => {
    const event = auditEventOf(
      {
        access: {
          requester: { issuer: 'https://ncp.pt.demo.pontis.example', issuerKind: 'peer-node', subject: 'x', clientId: 'c', tokenId: 't', country: 'PT', scopes: [], context: 'user', name: 'Inês Costa', role: '2211', organization: 'Hospital de Santa Maria', purpose: 'ETREAT', breakGlassReason: 'unconscious' },
          requestId: 'r1',
          at: new Date(),
        } as never,
        facts: {
          patients: ['p1'],
          resources: ['Bundle/b1'],
          decision: { outcome: 'permit', patientId: 'p1', withheldSections: [], breakGlass: true, basis: 'break-glass' },
          throttled: false,
          overBudget: false,
          breakGlass: true,
        },
        interaction: 'operation',
        action: 'E',
        resourceType: 'Bundle',
        status: 200,
        nodeCountry: 'AT',
        nodeBaseUrl: 'http://at.example/fhir',
      },
      'e1',
      new Date('2026-12-01T10:00:00Z'),
    );
    const [row] = accessLogRows({ resourceType: 'Bundle', type: 'searchset', entry: [{ resource: event }] }, { issuer: 'https://idp.at.demo.pontis.example', subject: 'me' });
    expect(row).toMatchObject({ who: 'Inês Costa', self: false, country: 'PT', organisation: 'Hospital de Santa Maria', role: '2211', purpose: 'ETREAT', what: 'summary', permitted: true, breakGlass: true, breakGlassReason: 'unconscious' });
  });
});

describe('portal configuration', () => {
  it('is off without PONTIS_PORTAL_PORT, and on with the demo identity provider by default', () => {
    expect(loadConfig({}).portal).toBeUndefined();
    expect(loadConfig({ PONTIS_PORTAL_PORT: '8090' }).portal).toMatchObject({ port: 8090, oidc: undefined, idleTimeoutMs: 15 * 60_000 });
  });

  it('refuses, naming each variable, what production cannot have: the demo identity provider, http, no cookie password or token key', () => {
    const refused = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as Error).message;
      }
      throw new Error('accepted');
    };
    const message = refused({ NODE_ENV: 'production', PONTIS_PORTAL_PORT: '8090' });
    for (const name of ['PONTIS_OIDC_ISSUER', 'PONTIS_PORTAL_URL', 'PONTIS_PORTAL_COOKIE_PASSWORD', 'PONTIS_PORTAL_TOKEN_KEY']) expect(message).toContain(name);
    expect(refused({ NODE_ENV: 'production', PONTIS_PORTAL_PORT: '8090', PONTIS_OIDC_ISSUER: 'http://idp.example', PONTIS_OIDC_CLIENT_ID: 'c', PONTIS_OIDC_CLIENT_SECRET: '0123456789abcdef' })).toContain('must be an https URL');
    expect(refused({ PONTIS_PORTAL_PORT: '8090', PONTIS_OIDC_ISSUER: 'https://idp.example' })).toContain('PONTIS_OIDC_CLIENT_SECRET');
    expect(refused({ PONTIS_PORTAL_PORT: '8090', PONTIS_PORTAL_COOKIE_PASSWORD: 'short' })).toContain('PONTIS_PORTAL_COOKIE_PASSWORD');
    expect(refused({ PONTIS_PORTAL_IDLE_MINUTES: '0' })).toContain('PONTIS_PORTAL_IDLE_MINUTES');
  });
});
