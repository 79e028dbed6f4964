import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import pino from 'pino';
import { mintDemoToken } from '../../src/auth/demo-tokens.js';
import { CONTENT_SECURITY_POLICY } from '../../src/portal/portal-server.js';
import { hospitalToken, privacyConsent, send } from '../support/test-node.js';
import { hostileDocument, HOSTILE_NARRATIVE, HOSTILE_PATIENT } from './hostile-document.js';
import { PortalClient, startPortalUnderTest, textOf, type PortalUnderTest } from './portal-harness.js';

/**
 * The portal's routes through `server.inject`, on an in-process AT node with its seed data, its
 * translation catalogue, and the demo identity provider over real HTTP (sign-in as a browser
 * would). Cross-border reads are in portal-browser.test.ts (two node processes).
 */

const AT = 'urn:oid:1.2.40.0.10.1.4.3.1';
let at: PortalUnderTest;

beforeAll(async () => {
  at = await startPortalUnderTest({ country: 'AT' });
  // A document with hostile narrative, and its patient's permit (AT is opt-in).
  const hospital = { authorization: `Bearer ${await hospitalToken(at.node.config.baseUrl)}` };
  const pushed = await send(at.node.server, 'POST', '/fhir/Bundle', hostileDocument(), hospital);
  expect(pushed.statusCode).toBe(201);
  const found = await at.node.server.inject({ url: `/fhir/Patient?identifier=${encodeURIComponent(`${HOSTILE_PATIENT.system}|${HOSTILE_PATIENT.value}`)}`, headers: { authorization: `Bearer ${await hospitalToken(at.node.config.baseUrl)}` } });
  const id = JSON.parse(found.payload).entry[0].resource.id as string;
  const consent = await send(at.node.server, 'POST', '/fhir/Consent', privacyConsent(id, { type: 'permit' }), { authorization: `Bearer ${await hospitalToken(at.node.config.baseUrl)}` });
  expect(consent.statusCode).toBe(201);
}, 60_000);

afterAll(async () => {
  await at?.stop();
});

/** A clinician signed in, the consultation of `identifier` found and confirmed. */
async function clinicianReading(value: string, username = 'doctor', language = 'en'): Promise<PortalClient> {
  const client = new PortalClient(at.portal.server, language);
  await client.signIn(at.portal.url, username);
  await client.get('/clinician/find');
  const found = await client.post('/clinician/find', { purpose: 'treat', country: 'AT', identifier: value });
  expect(found.statusCode).toBe(303);
  await client.get('/clinician/confirm');
  expect((await client.post('/clinician/confirm', {})).statusCode).toBe(303);
  return client;
}

describe('every answer', () => {
  it('carries a CSP without inline script, frame-ancestors none, no referrer, and no caching of pages', async () => {
    const client = new PortalClient(at.portal.server);
    const home = await client.get('/');
    expect(home.statusCode).toBe(200);
    expect(home.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-inline');
    expect(home.headers['x-frame-options']).toBe('DENY');
    expect(home.headers['referrer-policy']).toBe('no-referrer');
    expect(home.headers['cache-control']).toBe('no-store');
    expect(home.headers['x-content-type-options']).toBe('nosniff');
  });

  it('has no inline script or style on any page a clinician sees', async () => {
    const client = await clinicianReading('1238140358');
    for (const path of ['/', '/clinician/find', '/clinician/confirm', '/clinician/summary', '/clinician/summary/print']) {
      const page = await client.get(path);
      expect(page.payload).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(page.payload).not.toMatch(/\sstyle=|<style/);
      expect(page.payload).not.toMatch(/\son[a-z]+=/i);
    }
  });

  it('serves the design system and its own assets from the node, with a validator', async () => {
    const client = new PortalClient(at.portal.server);
    const css = await client.get('/assets/govuk-frontend.css');
    expect(css.statusCode).toBe(200);
    expect(css.headers['content-type']).toContain('text/css');
    expect(css.headers['etag']).toBeDefined();
    // GOV.UK's restricted typeface is left out.
    expect(css.payload).not.toContain('GDS Transport');
    expect((await client.get('/assets/nothing.css')).statusCode).toBe(404);
  });
});

describe('language', () => {
  it("follows the browser's Accept-Language, and a switch link sets it for the next pages", async () => {
    const german = new PortalClient(at.portal.server, 'de-AT,de;q=0.9');
    const home = await german.get('/');
    expect(home.payload).toContain('<html lang="de"');
    expect(textOf(home)).toContain('Patientenkurzakten in ganz Europa');
    const switched = await german.get('/?lang=fr');
    expect(switched.statusCode).toBe(303);
    expect(switched.headers['location']).toBe('/');
    const french = await german.get('/');
    expect(french.payload).toContain('<html lang="fr"');
    expect(textOf(french)).toContain('Résumés patients dans toute l’Europe');
  });

  it('sends a language switch back to this site only', async () => {
    const client = new PortalClient(at.portal.server);
    for (const path of ['//evil.example/?lang=de', '/\\evil.example/?lang=de', '///evil.example?lang=de', '/clinician//evil.example?lang=de']) {
      const answer = await client.get(path);
      expect([303, 404]).toContain(answer.statusCode);
      if (answer.statusCode === 303) expect(answer.headers['location']).toMatch(/^\/[^/\\]/);
    }
    expect((await client.get('/clinician/find?lang=de')).headers['location']).toBe('/clinician/find');
  });

  it('falls back to English for a language the portal does not speak', async () => {
    const page = await new PortalClient(at.portal.server, 'zh-CN').get('/');
    expect(page.payload).toContain('<html lang="en"');
  });
});

describe('sign-in and session', () => {
  it('sends a visitor without a session to the start page', async () => {
    const visitor = new PortalClient(at.portal.server);
    for (const path of ['/clinician/find', '/clinician/summary', '/patient', '/patient/access-log', '/patient/consent']) {
      const page = await visitor.get(path);
      expect(page.statusCode).toBe(303);
      expect(page.headers['location']).toBe('/');
    }
  });

  it('signs a clinician in through OpenID Connect into an encrypted, httpOnly, SameSite session', async () => {
    const client = new PortalClient(at.portal.server);
    const start = await client.get('/signin');
    expect(start.statusCode).toBe(303);
    const authorize = new URL(start.headers['location'] as string);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('prompt')).toBe('login');
    expect(authorize.searchParams.get('state')).toBeTruthy();
    expect(authorize.searchParams.get('nonce')).toBeTruthy();
    const landed = await client.signIn(at.portal.url, 'doctor');
    expect(landed.statusCode).toBe(303);
    expect(landed.headers['location']).toBe('/clinician/find');
    const cookie = ([] as string[]).concat(landed.headers['set-cookie'] ?? []).find((c) => c.startsWith('pontis_session='))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    // Encrypted (iron): nothing of the person is readable in it.
    expect(cookie).toMatch(/^pontis_session=Fe26\.2\*\*/);
    expect(cookie).not.toMatch(/Berger|doctor|2211/);
    const find = await client.get('/clinician/find');
    expect(find.statusCode).toBe(200);
    expect(textOf(find)).toContain('Signed in as Eva Berger');
  });

  it('refuses a return from the identity provider that it did not start, or whose state was altered', async () => {
    const stranger = new PortalClient(at.portal.server);
    const forged = await stranger.get('/auth/callback?code=abc&state=xyz');
    expect(forged.statusCode).toBe(400);
    expect(textOf(forged)).toContain('Sign-in did not succeed');
    expect(forged.headers['set-cookie'] ?? []).not.toEqual(expect.arrayContaining([expect.stringMatching(/^pontis_session=Fe26/)]));

    const client = new PortalClient(at.portal.server);
    await client.get('/signin');
    const altered = await client.get('/auth/callback?code=abc&state=not-the-one');
    expect(altered.statusCode).toBe(400);
  });

  it('ends the session on sign-out, and a copy of the old cookie no longer works', async () => {
    const client = new PortalClient(at.portal.server);
    await client.signIn(at.portal.url, 'nurse');
    await client.get('/clinician/find');
    const stolen = client.jar.get('pontis_session')!;
    const out = await client.post('/signout', {});
    expect(out.statusCode).toBe(303);
    expect(out.headers['location']).toBe('/?signedout=1');
    expect(client.jar.get('pontis_session')).toBeUndefined();
    const replayed = await at.portal.server.inject({ url: '/clinician/find', headers: { cookie: `pontis_session=${stolen}` } });
    expect(replayed.statusCode).toBe(303);
    expect(replayed.headers['location']).toBe('/?expired=1');
  });

  it('ends a session left idle longer than the idle timeout', async () => {
    const idle = await startPortalUnderTest({ country: 'AT', idleTimeoutMs: 800 });
    try {
      const client = new PortalClient(idle.portal.server);
      await client.signIn(idle.portal.url, 'doctor');
      expect((await client.get('/clinician/find')).statusCode).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 500));
      // Activity moves the timeout on.
      expect((await client.get('/clinician/find')).statusCode).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const expired = await client.get('/clinician/find');
      expect(expired.statusCode).toBe(303);
      expect(expired.headers['location']).toBe('/?expired=1');
      expect(textOf(await client.get('/?expired=1'))).toContain('Your session ended after a time without activity');
    } finally {
      await idle.stop();
    }
  }, 30_000);

  it('signs nobody in with a wrong password or an unknown user at the demo identity provider', async () => {
    const client = new PortalClient(at.portal.server);
    for (const [username, password] of [['doctor', 'wrong'], ['nobody', 'demo']]) {
      await expect(client.signIn(at.portal.url, username!, password)).rejects.toThrow(/login refused: 401/);
    }
    expect(client.jar.get('pontis_session')).toBeUndefined();
  });

  it('keeps clinicians and patients to their own pages', async () => {
    const patient = new PortalClient(at.portal.server);
    await patient.signIn(at.portal.url, 'lukas.bauer');
    const refused = await patient.get('/clinician/find');
    expect(refused.statusCode).toBe(403);
    expect(textOf(refused)).toContain('This page is for clinicians.');
    const clinician = new PortalClient(at.portal.server);
    await clinician.signIn(at.portal.url, 'pharmacist');
    expect((await clinician.get('/patient/consent')).statusCode).toBe(403);
  });
});

describe('forms', () => {
  it('refuses a form without its crumb (CSRF) and changes nothing', async () => {
    const client = new PortalClient(at.portal.server);
    await client.signIn(at.portal.url, 'doctor');
    await client.get('/clinician/find');
    const forged = await client.post('/clinician/find', { purpose: 'treat', country: 'AT', identifier: '1238140358' }, { crumb: false });
    expect(forged.statusCode).toBe(403);
    expect(textOf(forged)).toContain('This form has expired');
    expect((await client.get('/clinician/confirm')).headers['location']).toBe('/clinician/find');
  });

  it('keeps the crumb of a page when its stylesheets and script load, or a missing page is asked for', async () => {
    const client = new PortalClient(at.portal.server);
    await client.signIn(at.portal.url, 'doctor');
    await client.get('/clinician/find');
    const crumb = client.jar.get('pontis_crumb');
    expect(crumb).toBeTruthy();
    for (const path of ['/assets/govuk-frontend.css', '/assets/portal.css', '/assets/portal.js', '/favicon.ico']) {
      const answer = await at.portal.server.inject({ url: path });
      expect(answer.headers['set-cookie'] ?? []).not.toEqual(expect.arrayContaining([expect.stringMatching(/^pontis_crumb=/)]));
    }
    const found = await client.post('/clinician/find', { purpose: 'treat', country: 'AT', identifier: '1238140358' });
    expect(found.statusCode).toBe(303);
  });

  it('asks for the purpose first and for a reason when it is an emergency', async () => {
    const client = new PortalClient(at.portal.server);
    await client.signIn(at.portal.url, 'doctor');
    const form = await client.get('/clinician/find');
    // The purpose comes before the patient's identifier in the form.
    expect(form.payload.indexOf('name="purpose"')).toBeLessThan(form.payload.indexOf('name="identifier"'));
    const missing = await client.post('/clinician/find', { purpose: 'emergency', country: 'AT', identifier: '1238140358' });
    expect(missing.statusCode).toBe(400);
    expect(textOf(missing)).toContain('Give the reason for emergency access');
    const bad = await client.post('/clinician/find', { purpose: 'treat', country: 'XX', identifier: '<script>' });
    expect(bad.statusCode).toBe(400);
    expect(textOf(bad)).toContain("Select the patient's country");
    expect(textOf(bad)).toContain('The identifier may contain letters, digits and - . / only');
  });
});

describe('the clinician pages', () => {
  it('confirms identity on the minimal Patient, then shows the summary, allergies first, in the reader\'s language', async () => {
    const client = new PortalClient(at.portal.server, 'pt-PT');
    await client.signIn(at.portal.url, 'doctor');
    await client.get('/clinician/find');
    await client.post('/clinician/find', { purpose: 'treat', country: 'AT', identifier: '1238140358' });
    const confirm = await client.get('/clinician/confirm');
    expect(confirm.statusCode).toBe(200);
    const shown = textOf(confirm);
    expect(shown).toContain('Anna Maria Gruber');
    expect(shown).toContain('14 de março de 1958');
    expect(shown).toContain('Feminino');
    expect(shown).toContain('1238140358');
    expect(shown).not.toContain('Penicillin');
    expect((await client.post('/clinician/confirm', {})).headers['location']).toBe('/clinician/summary');
    const summary = await client.get('/clinician/summary');
    expect(summary.statusCode).toBe(200);
    const text = textOf(summary);
    // Translated term beside its original and code; the section title too.
    expect(text).toContain('Alergia à penicilina');
    expect(text).toContain('Allergy to penicillin');
    expect(text).toContain('91936005');
    expect(text).toMatch(/Stored at this node|Guardado neste nó/);
    // Allergies before problems, whatever the document's order.
    expect(summary.payload.indexOf('section-1')).toBeLessThan(summary.payload.indexOf('section-2'));
    expect(text.indexOf('Alergia à penicilina')).toBeLessThan(text.indexOf('Diabetes'));
    // The narrative is shown with the language it is written in.
    expect(summary.payload).toMatch(/data-testid="narrative" lang="de-AT"/);
    const print = await client.get('/clinician/summary/print');
    expect(print.statusCode).toBe(200);
    expect(print.payload).toContain('data-testid="print-header"');
    expect(print.payload).toContain('data-testid="print-footer"');
  });

  it('reads through the node\'s own access path: each view is an audited read with the clinician\'s identity', async () => {
    const client = await clinicianReading('1238140358', 'pharmacist');
    await client.get('/clinician/summary');
    const trail = JSON.stringify(await auditRecords());
    expect(trail).toContain('Karl Steiner');
    expect(trail).toContain('2262');
    expect(trail).toContain('Apotheke am Graben');
  });

  it('starts a new consultation on request: the confirmed patient is forgotten', async () => {
    const client = await clinicianReading('1238140358');
    expect((await client.get('/clinician/summary')).statusCode).toBe(200);
    const fresh = await client.post('/clinician/new', {});
    expect(fresh.statusCode).toBe(303);
    expect(fresh.headers['location']).toBe('/clinician/find');
    expect((await client.get('/clinician/summary')).headers['location']).toBe('/clinician/find');
    expect((await client.get('/clinician/confirm')).headers['location']).toBe('/clinician/find');
  });

  it('shows a patient unknown here and a patient who has not consented with the same words', async () => {
    const client = new PortalClient(at.portal.server);
    await client.signIn(at.portal.url, 'doctor');
    await client.get('/clinician/find');
    const unknown = await client.post('/clinician/find', { purpose: 'treat', country: 'AT', identifier: '1111111111' });
    const noConsent = await client.post('/clinician/find', { purpose: 'treat', country: 'AT', identifier: '3181051272' });
    expect(unknown.statusCode).toBe(noConsent.statusCode);
    const words = (r: typeof unknown) => /data-testid="refusal">([^<]*)</.exec(r.payload)?.[1];
    expect(words(unknown)).toBeDefined();
    expect(words(unknown)).toBe(words(noConsent));
    expect(textOf(unknown)).toContain('In an emergency');
  });

  it('shows sections the patient withheld as withheld', async () => {
    const client = await clinicianReading('2454300787');
    const summary = await client.get('/clinician/summary');
    expect(summary.statusCode).toBe(200);
    expect(summary.payload).toContain('data-testid="withheld"');
    expect(textOf(summary)).toContain("Sections withheld at the patient's request: 1.");
    expect(textOf(summary)).not.toContain('Asthma');
  });

  it('never stores narrative with scripts, handlers, style elements, frames or forms (FHIR txt-1, at the door)', async () => {
    const pushed = await send(at.node.server, 'POST', '/fhir/Bundle', hostileDocument(HOSTILE_NARRATIVE), { authorization: `Bearer ${await hospitalToken(at.node.config.baseUrl)}` });
    expect(pushed.statusCode).toBe(422);
    expect(pushed.payload).toContain('txt-1');
  });

  it('renders what FHIR lets through sanitised: no javascript: or other link target, style, image, or the page\'s ids and classes', async () => {
    const client = await clinicianReading(HOSTILE_PATIENT.value);
    const summary = await client.get('/clinician/summary');
    expect(summary.statusCode).toBe(200);
    const narrative = /<div class="pontis-narrative[\s\S]*?<\/section>/.exec(summary.payload)![0];
    expect(narrative).toContain('Allergy to penicillin');
    expect(narrative).toContain('open record');
    for (const forbidden of [/javascript:/i, /evil\.example/, /style=/i, /<img/i, /id="main-content"/, /class="govuk-header"/, /href=/, /id="overlay"/]) {
      expect(narrative).not.toMatch(forbidden);
    }
  });
});

describe('the patient pages', () => {
  it('shows the patient their summary, who read it, and writes their consent as FHIR Consent, in force at the next request', async () => {
    // A clinician reads Anna Gruber's summary.
    const doctor = await clinicianReading('1238140358', 'doctor');
    expect((await doctor.get('/clinician/summary')).statusCode).toBe(200);

    const anna = new PortalClient(at.portal.server, 'de-AT');
    await anna.signIn(at.portal.url, 'anna.gruber');
    const mine = await anna.get('/patient');
    expect(mine.statusCode).toBe(200);
    expect(textOf(mine)).toContain('Meine Patientenkurzakte');
    const log = await anna.get('/patient/access-log');
    expect(log.statusCode).toBe(200);
    const rows = textOf(log);
    expect(rows).toContain('Eva Berger');
    expect(rows).toContain('Landeskrankenhaus Salzburg');
    expect(rows).toContain('Allgemeinmediziner/in');
    expect(rows).toContain('Behandlung');

    const consent = await anna.get('/patient/consent');
    expect(consent.statusCode).toBe(200);
    expect(consent.payload).toMatch(/id="share-permit"[^>]*checked/);
    const saved = await anna.post('/patient/consent', { share: 'deny', country_PT: 'all', country_FR: 'all' });
    expect(saved.statusCode).toBe(303);
    expect(saved.headers['location']).toBe('/patient/consent?saved=1');
    const after = await anna.get('/patient/consent?saved=1');
    expect(after.payload).toMatch(/id="share-deny"[^>]*checked/);
    expect(after.payload).toContain('data-testid="consent-saved"');

    // The next request of the clinician is refused.
    const refused = await doctor.get('/clinician/summary');
    expect(refused.statusCode).toBe(403);
    expect(refused.payload).toContain('data-testid="refusal"');

    // Permit again, hiding the problem list: the clinician sees it withheld.
    expect((await anna.post('/patient/consent', { share: 'permit', country_PT: 'emergency', country_FR: 'none', sections: ['11450-4'] })).statusCode).toBe(303);
    const back = await anna.get('/patient/consent');
    expect(back.payload).toMatch(/id="country-PT-emergency"[^>]*checked/);
    expect(back.payload).toMatch(/id="country-FR-none"[^>]*checked/);
    expect(back.payload).toMatch(/id="section-11450-4"[^>]*checked/);
    const withheld = await doctor.get('/clinician/summary');
    expect(withheld.statusCode).toBe(200);
    expect(withheld.payload).toContain('data-testid="withheld"');
  });
});

describe('the portal\'s log', () => {
  it('says which route answered what, and never a name, identifier, token, cookie or claim', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logged = await startPortalUnderTest({ country: 'AT', logger: pino({ level: 'info' }, sink) });
    try {
      const doctor = new PortalClient(logged.portal.server, 'pt');
      await doctor.signIn(logged.portal.url, 'doctor');
      await doctor.get('/clinician/find');
      await doctor.post('/clinician/find', { purpose: 'emergency', reason: 'unconscious after a fall', country: 'AT', identifier: '1238140358' });
      await doctor.post('/clinician/confirm', {});
      expect((await doctor.get('/clinician/summary')).statusCode).toBe(200);
      await doctor.get('/auth/callback?code=stolen-code&state=forged');
      const anna = new PortalClient(logged.portal.server);
      await anna.signIn(logged.portal.url, 'anna.gruber');
      await anna.get('/patient/access-log');
      const log = lines.join('');
      expect(log).toContain('"route":"/clinician/summary"');
      for (const secret of ['1238140358', 'Gruber', 'Anna', 'Berger', 'unconscious', 'eyJ', 'Fe26', 'stolen-code', 'forged', 'urn:oid:1.2.40', 'pontis_session', 'penicillin']) {
        expect({ secret, found: log.includes(secret) }).toEqual({ secret, found: false });
      }
    } finally {
      await logged.stop();
    }
  });
});

/** The node's audit records, read as an operator would. */
async function auditRecords(): Promise<unknown> {
  const token = await mintDemoToken({ audience: at.node.config.baseUrl, country: 'AT', issuer: 'ops', scope: 'system/AuditEvent.rs' });
  const patients = await at.node.server.inject({ url: `/fhir/Patient?identifier=${encodeURIComponent(`${AT}|1238140358`)}`, headers: { authorization: `Bearer ${await hospitalToken(at.node.config.baseUrl)}` } });
  const id = JSON.parse(patients.payload).entry[0].resource.id as string;
  const log = await at.node.server.inject({ url: `/fhir/AuditEvent?patient=${id}`, headers: { authorization: `Bearer ${token}` } });
  return JSON.parse(log.payload);
}
