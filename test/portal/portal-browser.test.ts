import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { mintDemoToken } from '../../src/auth/demo-tokens.js';
import { sanitiseNarrative } from '../../src/portal/narrative.js';
import { CONTENT_SECURITY_POLICY } from '../../src/portal/portal-server.js';
import { freePort, startNode, type NodeProcess } from '../support/node-process.js';
import { hostileDocument, HOSTILE_NARRATIVE, HOSTILE_PATIENT } from './hostile-document.js';

/**
 * The portal in a real browser (Debian's Chromium, driven by playwright-core), end to end on two
 * real node processes with their demo identity providers: a doctor in Portugal reads an Austrian
 * patient's summary in Portuguese, prints it, meets each refusal, does it all with the keyboard;
 * the patient, at the Austrian portal, sees the read and withdraws consent, and the doctor is
 * refused on the next try. axe checks every page; a hostile document executes nothing.
 */

const CHROMIUM = process.env['PONTIS_CHROMIUM'] ?? '/usr/bin/chromium';
type Json = Record<string, any>;

let at: NodeProcess;
let pt: NodeProcess;
let atPortal: string;
let ptPortal: string;
let atApi: string;
let browser: Browser;
let doctor: BrowserContext;
let doctorPage: Page;
const audited: Array<{ page: string; serious: string[] }> = [];

function portalUrlOf(node: NodeProcess): string {
  const found = /portal: (http:\/\/\S+)/.exec(node.output());
  if (!found) throw new Error(`no portal URL in the node's output: ${node.output()}`);
  return found[1]!;
}

/** axe on the page as it is: no serious or critical violation. */
async function accessible(page: Page, name: string): Promise<void> {
  const result = await new AxeBuilder({ page }).analyze();
  const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.map((n) => String(n.target)).join(', ')}`);
  audited.push({ page: name, serious });
  expect({ page: name, serious }).toEqual({ page: name, serious: [] });
}

async function signIn(page: Page, portal: string, username: string): Promise<void> {
  await page.goto(`${portal}/`);
  await page.click('a[href="/signin"]');
  await page.fill('#username', username);
  await page.fill('#password', 'demo');
  await Promise.all([page.waitForURL(`${portal}/**`), page.click('button[type=submit]')]);
}

async function find(page: Page, country: string, identifier: string, purpose: { emergency?: string } = {}): Promise<void> {
  await page.goto(`${ptPortal}/clinician/find`);
  if (purpose.emergency !== undefined) {
    await page.check('#purpose-emergency');
    await page.fill('#reason', purpose.emergency);
  } else {
    await page.check('#purpose-treat');
  }
  await page.selectOption('#country', country);
  await page.fill('#identifier', identifier);
  // The form's answer commits one document (after the redirect to the confirmation, or in place).
  await Promise.all([page.waitForEvent('framenavigated'), page.click('form[action="/clinician/find"] button[type=submit]')]);
  await page.waitForLoadState('load');
}

async function hospitalCall(method: string, path: string, body?: Json): Promise<Json> {
  const token = await mintDemoToken({ audience: atApi, country: 'AT', scope: 'system/Bundle.crus system/Patient.rs system/Consent.crus' });
  const response = await fetch(`${atApi}/${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json', accept: 'application/fhir+json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  if (response.status >= 400) throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 300)}`);
  return text ? (JSON.parse(text) as Json) : {};
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is needed at ${CHROMIUM} (apt-get install -y chromium; .ci/run installs it), or set PONTIS_CHROMIUM`);
  const [atPort, ptPort, atPortalPort, ptPortalPort, frPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  atApi = `http://127.0.0.1:${atPort}/fhir`;
  const ptApi = `http://127.0.0.1:${ptPort}/fhir`;
  // FR's node is listed but nothing listens there: its patients' home node is unreachable.
  const peers = `AT=${atApi},PT=${ptApi},FR=http://127.0.0.1:${frPort}/fhir`;
  const common = { HOST: '127.0.0.1', PONTIS_PEER_URLS: peers, PONTIS_SEED: '1', PONTIS_BREAK_GLASS: 'allowed', MONGODB_URI: '', PONTIS_PEER_CONNECT_TIMEOUT_MS: '500', PONTIS_PEER_TIMEOUT_MS: '2000' };
  [at, pt] = await Promise.all([
    startNode({ ...common, PORT: String(atPort), PONTIS_COUNTRY: 'AT', PONTIS_BASE_URL: atApi, PONTIS_PORTAL_PORT: String(atPortalPort) }),
    startNode({ ...common, PORT: String(ptPort), PONTIS_COUNTRY: 'PT', PONTIS_BASE_URL: ptApi, PONTIS_PORTAL_PORT: String(ptPortalPort) }),
  ]);
  atPortal = portalUrlOf(at);
  ptPortal = portalUrlOf(pt);
  // A document whose narrative is as hostile as FHIR validation lets through, permitted by its patient.
  await hospitalCall('POST', 'Bundle', hostileDocument());
  const found = await hospitalCall('GET', `Patient?identifier=${encodeURIComponent(`${HOSTILE_PATIENT.system}|${HOSTILE_PATIENT.value}`)}`);
  const id = found['entry'][0].resource.id as string;
  await hospitalCall('POST', 'Consent', {
    resourceType: 'Consent',
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: `Patient/${id}` },
    dateTime: '2026-01-01T00:00:00Z',
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
    provision: { type: 'permit' },
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  doctor = await browser.newContext({ locale: 'pt-PT', extraHTTPHeaders: { 'Accept-Language': 'pt-PT,pt;q=0.9' } });
  doctorPage = await doctor.newPage();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all([at?.stop(), pt?.stop()]);
});

describe('a doctor in Portugal', () => {
  it('signs in, finds an Austrian patient, confirms, reads the summary in Portuguese, and opens the print view', async () => {
    const page = doctorPage;
    await page.goto(`${ptPortal}/`);
    expect(await page.getAttribute('html', 'lang')).toBe('pt');
    await accessible(page, 'start');
    await page.click('a[href="/signin"]');
    // The demo identity provider's sign-in page.
    await page.waitForSelector('#username');
    await accessible(page, 'identity provider sign-in');
    await page.fill('#username', 'doctor');
    await page.fill('#password', 'demo');
    await Promise.all([page.waitForURL(`${ptPortal}/clinician/find`), page.click('button[type=submit]')]);
    expect(await page.textContent('[data-testid="signed-in"]')).toContain('Inês Costa');
    await accessible(page, 'find');

    await find(page, 'AT', '1238140358');
    expect(page.url()).toBe(`${ptPortal}/clinician/confirm`);
    const minimal = await page.textContent('[data-testid="minimal-patient"]');
    expect(minimal).toContain('Anna Maria Gruber');
    expect(minimal).toContain('14 de março de 1958');
    await accessible(page, 'confirm');

    await Promise.all([page.waitForURL(`${ptPortal}/clinician/summary`), page.click('form[action="/clinician/confirm"] button')]);
    const checks = await page.textContent('[data-testid="summary-checks"]');
    expect(checks).toContain('Assinatura do nó de origem (Áustria) verificada');
    expect(checks).toContain('International Patient Summary');
    expect(await page.textContent('[data-testid="translated"]')).toContain('português');
    const main = (await page.textContent('main'))!;
    expect(main).toContain('Alergia à penicilina');
    expect(main).toContain('Allergy to penicillin');
    // Allergies come first.
    expect(await page.locator('main section h2').first().textContent()).toMatch(/Alergias/);
    await accessible(page, 'summary');

    await Promise.all([page.waitForURL(`${ptPortal}/clinician/summary/print`), page.click('[data-testid="print-link"]')]);
    await accessible(page, 'print view');
    await page.emulateMedia({ media: 'print' });
    // Header and footer repeat on every printed page (the frame table's head and foot); navigation is hidden.
    expect(await page.locator('.pontis-print-frame > thead').evaluate((e) => (globalThis as any).getComputedStyle(e).display)).toBe('table-header-group');
    expect(await page.locator('.pontis-print-frame > tfoot').evaluate((e) => (globalThis as any).getComputedStyle(e).display)).toBe('table-footer-group');
    expect(await page.isVisible('[data-testid="print-header"]')).toBe(true);
    expect(await page.isVisible('[data-testid="print-footer"]')).toBe(true);
    expect(await page.isVisible('.pontis-header-bar')).toBe(false);
    expect(await page.textContent('[data-testid="print-footer"]')).toContain('Inês Costa');
    const pdf = await page.pdf({ format: 'A4', printBackground: false });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    await page.emulateMedia({ media: 'screen' });
  }, 60_000);

  it('is told, in plain words, when no summary can be shown, the home node cannot be reached', async () => {
    const page = await doctor.newPage();
    await find(page, 'AT', '1111111111');
    const unknown = await page.textContent('[data-testid="refusal"]');
    await accessible(page, 'refusal');
    await find(page, 'AT', '3181051272');
    const noConsent = await page.textContent('[data-testid="refusal"]');
    expect(unknown).toBe(noConsent);
    expect(unknown).toContain('não é conhecido');
    expect(await page.textContent('[data-testid="refusal-todo"]')).toContain('emergência');

    await find(page, 'FR', '1234567890123');
    expect(await page.textContent('[data-testid="refusal"]')).toContain('Não foi possível contactar o serviço do país de origem (França)');
    expect(await page.textContent('[data-testid="refusal-todo"]')).toContain('Tente novamente');

    await find(page, 'AT', '1238140358', { emergency: '' });
    expect(await page.locator('.govuk-error-summary').textContent()).toContain('Indique o motivo do acesso de emergência');
    await accessible(page, 'find with errors');
    await page.close();
  }, 60_000);

  it('reads in an emergency, stating why (break-glass), and the page says it is in force', async () => {
    const page = await doctor.newPage();
    // Fatma Yılmaz has given no consent; the demo AT node allows break-glass.
    await find(page, 'AT', '3181051272', { emergency: 'unconscious after a road accident' });
    expect(page.url()).toBe(`${ptPortal}/clinician/confirm`);
    await Promise.all([page.waitForURL(`${ptPortal}/clinician/summary`), page.click('form[action="/clinician/confirm"] button')]);
    expect(await page.textContent('[data-testid="break-glass"]')).toContain('unconscious after a road accident');
    await accessible(page, 'summary under break-glass');
    await page.close();
  }, 60_000);

  it('can use the first form after signing in from a bookmarked sign-in link (no page of the portal seen before)', async () => {
    const context = await browser.newContext({ locale: 'en-GB' });
    const page = await context.newPage();
    await page.goto(`${ptPortal}/signin`);
    await page.fill('#username', 'pharmacist');
    await page.fill('#password', 'demo');
    await Promise.all([page.waitForURL(`${ptPortal}/clinician/find`), page.click('button[type=submit]')]);
    await page.selectOption('#country', 'AT');
    await page.fill('#identifier', '1238140358');
    await Promise.all([page.waitForURL(`${ptPortal}/clinician/confirm`), page.click('form[action="/clinician/find"] button[type=submit]')]);
    await Promise.all([page.waitForURL(`${ptPortal}/?signedout=1`), page.click('form[action="/signout"] button')]);
    await context.close();
  }, 60_000);

  it('does the whole clinician flow with the keyboard alone', async () => {
    const context = await browser.newContext({ locale: 'en-GB' });
    const page = await context.newPage();
    const tabTo = async (selector: string) => {
      for (let i = 0; i < 60; i++) {
        if (await page.evaluate((s) => ((globalThis as any).document.activeElement?.matches(s) as boolean | undefined) ?? false, selector)) return;
        await page.keyboard.press('Tab');
      }
      throw new Error(`${selector} cannot be reached with Tab`);
    };
    await page.goto(`${ptPortal}/`);
    await tabTo('a[href="/signin"]');
    await Promise.all([page.waitForSelector('#username'), page.keyboard.press('Enter')]);
    await tabTo('#username');
    await page.keyboard.type('nurse');
    await tabTo('#password');
    await page.keyboard.type('demo');
    await Promise.all([page.waitForURL(`${ptPortal}/clinician/find`), page.keyboard.press('Enter')]);
    await tabTo('#purpose-treat');
    await page.keyboard.press('Space');
    await tabTo('#country');
    await page.keyboard.type('Austria');
    await tabTo('#identifier');
    await page.keyboard.type('1238140358');
    await Promise.all([page.waitForURL(`${ptPortal}/clinician/confirm`), page.keyboard.press('Enter')]);
    await tabTo('form[action="/clinician/confirm"] button');
    await Promise.all([page.waitForURL(`${ptPortal}/clinician/summary`), page.keyboard.press('Enter')]);
    expect(await page.textContent('main')).toContain('Allergy to penicillin');
    await tabTo('[data-testid="print-link"]');
    await Promise.all([page.waitForURL(`${ptPortal}/clinician/summary/print`), page.keyboard.press('Enter')]);
    await context.close();
  }, 60_000);

  it('reads a hostile document without anything in it executing, loading or taking the page over', async () => {
    const page = await doctor.newPage();
    const dialogs: string[] = [];
    const foreignRequests: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    page.on('request', (r) => {
      if (!r.url().startsWith(ptPortal)) foreignRequests.push(r.url());
    });
    await find(page, 'AT', HOSTILE_PATIENT.value);
    await Promise.all([page.waitForURL(`${ptPortal}/clinician/summary`), page.click('form[action="/clinician/confirm"] button')]);
    expect(await page.textContent('[data-testid="narrative"]')).toContain('open record');
    await page.getByText('open record').click();
    await page.getByText('see full record').click();
    expect(page.url()).toBe(`${ptPortal}/clinician/summary`);
    expect(await page.evaluate(() => (globalThis as { __pontisPwned?: string }).__pontisPwned)).toBeUndefined();
    expect(await page.isVisible('#overlay')).toBe(false);
    expect(await page.locator('#main-content').count()).toBe(1);
    expect(dialogs).toEqual([]);
    expect(foreignRequests).toEqual([]);
    await accessible(page, 'summary of a hostile document');

    // What the node refuses at the door, sanitised and served under the portal's CSP: nothing runs either.
    await page.route(`${ptPortal}/hostile-probe`, (route) =>
      route.fulfill({ status: 200, headers: { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': CONTENT_SECURITY_POLICY }, body: `<!DOCTYPE html><html lang="en"><head><title>probe</title></head><body><main id="main-content">${sanitiseNarrative(HOSTILE_NARRATIVE)}</main></body></html>` }),
    );
    await page.goto(`${ptPortal}/hostile-probe`);
    await page.getByText('open record').click();
    await page.mouse.move(5, 5);
    await page.waitForTimeout(200);
    expect(await page.evaluate(() => (globalThis as { __pontisPwned?: string }).__pontisPwned)).toBeUndefined();
    expect(dialogs).toEqual([]);
    expect(await page.locator('script, iframe, form, svg, base, img, [style]').count()).toBe(0);
    await page.close();
  }, 60_000);
});

describe('the Austrian patient', () => {
  it("sees the Portuguese doctor's read, withdraws consent, and the doctor is refused on the next try", async () => {
    const context = await browser.newContext({ locale: 'de-AT' });
    const page = await context.newPage();
    await signIn(page, atPortal, 'anna.gruber');
    expect(page.url()).toBe(`${atPortal}/patient`);
    expect(await page.textContent('h1')).toBe('Meine Patientenkurzakte');
    await accessible(page, 'patient summary');

    await page.click('a[href="/patient/access-log"]');
    const rows = page.locator('[data-testid="access-log-row"]', { hasText: 'Inês Costa' });
    expect(await rows.count()).toBeGreaterThan(0);
    const row = (await rows.first().textContent())!;
    expect(row).toContain('Portugal');
    expect(row).toContain('Hospital de Santa Maria, Lisboa');
    expect(row).toContain('Allgemeinmediziner/in');
    expect(row).toContain('Behandlung');
    await accessible(page, 'access log');

    await page.click('a[href="/patient/consent"]');
    await accessible(page, 'consent');
    await page.check('#share-deny');
    await Promise.all([page.waitForURL(`${atPortal}/patient/consent?saved=1`), page.click('form[action="/patient/consent"] button[type=submit]')]);
    expect(await page.textContent('[data-testid="consent-saved"]')).toContain('Ihre Auswahl ist gespeichert');

    // The doctor's next try is refused, with the same words as for a patient unknown there.
    await find(doctorPage, 'AT', '1238140358');
    expect(await doctorPage.textContent('[data-testid="refusal"]')).toContain('não autorizou a partilha consigo');
    await context.close();
  }, 60_000);

  it('who was read in an emergency sees it flagged as break-glass, with the reason', async () => {
    const context = await browser.newContext({ locale: 'en-GB' });
    const page = await context.newPage();
    await signIn(page, atPortal, 'fatma.yilmaz');
    await page.goto(`${atPortal}/patient/access-log`);
    const row = page.locator('[data-testid="access-log-row"]', { hasText: 'Inês Costa' }).filter({ has: page.locator('[data-testid="break-glass-flag"]') });
    expect(await row.count()).toBeGreaterThan(0);
    expect(await row.first().textContent()).toContain('unconscious after a road accident');
    await context.close();
  }, 60_000);

  it('found no serious or critical accessibility violation on any page', () => {
    expect(audited.length).toBeGreaterThanOrEqual(10);
    expect(audited.filter((a) => a.serious.length > 0)).toEqual([]);
  });
});
