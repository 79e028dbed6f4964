#!/usr/bin/env node
// Screenshots of every portal page for docs/portal/ (shown in README.md): two nodes with their
// portals and demo identity providers, headless Chromium. `npm run build` first.
// A doctor in Portugal (in Portuguese) and an Austrian patient (in German).
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startProcess } from '../bench/lib.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(ROOT, 'docs', 'portal');
const CHROMIUM = process.env.PONTIS_CHROMIUM ?? '/usr/bin/chromium';
const api = (port) => `http://127.0.0.1:${port}/fhir`;

function startNode(country, port, portalPort, peerUrls) {
  return startProcess([join(ROOT, 'dist/src/main.js')], {
    PORT: String(port), HOST: '127.0.0.1', PONTIS_COUNTRY: country, PONTIS_BASE_URL: api(port), PONTIS_PEER_URLS: peerUrls, PONTIS_SEED: '1', LOG_LEVEL: 'warn', MONGODB_URI: '',
    PONTIS_PORTAL_PORT: String(portalPort), PONTIS_BREAK_GLASS: 'allowed',
  }, /portal: (http:\/\/\S+)[\s\S]*listening on/);
}

async function main() {
  mkdirSync(OUT, { recursive: true });
  const peerUrls = `AT=${api(18481)},PT=${api(18482)},FR=http://127.0.0.1:9/fhir`;
  const children = [];
  let browser;
  try {
    const [at, pt] = await Promise.all([startNode('AT', 18481, 18491, peerUrls), startNode('PT', 18482, 18492, peerUrls)]);
    children.push(at.child, pt.child);
    const [atPortal, ptPortal] = [at.match[1], pt.match[1]];
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    const shot = async (page, name, fullPage = false) => {
      await page.screenshot({ path: join(OUT, `${name}.png`), fullPage });
      process.stdout.write(`docs/portal/${name}.png\n`);
    };
    const doctor = await browser.newContext({ locale: 'pt-PT', viewport: { width: 1200, height: 900 }, extraHTTPHeaders: { 'Accept-Language': 'pt-PT,pt;q=0.9' } });
    const page = await doctor.newPage();
    await page.goto(`${ptPortal}/`);
    await shot(page, '01-start');
    await page.click('a[href="/signin"]');
    await page.fill('#username', 'doctor');
    await page.fill('#password', 'demo');
    await shot(page, '02-identity-provider');
    await Promise.all([page.waitForURL(`${ptPortal}/clinician/find`), page.click('button[type=submit]')]);
    await page.selectOption('#country', 'AT');
    await page.fill('#identifier', '1238140358');
    await shot(page, '03-find');
    await Promise.all([page.waitForURL(`${ptPortal}/clinician/confirm`), page.click('form[action="/clinician/find"] button[type=submit]')]);
    await shot(page, '04-confirm');
    await Promise.all([page.waitForURL(`${ptPortal}/clinician/summary`), page.click('form[action="/clinician/confirm"] button')]);
    await shot(page, '05-summary', true);
    await page.goto(`${ptPortal}/clinician/summary/print`);
    await page.emulateMedia({ media: 'print' });
    await page.pdf({ path: join(OUT, 'summary-print.pdf'), format: 'A4' });
    // The print view as printed: page 2 of the PDF (header and footer repeat), where pdftoppm is installed.
    const rendered = spawnSync('pdftoppm', ['-png', '-r', '70', '-f', '2', '-l', '2', '-singlefile', join(OUT, 'summary-print.pdf'), join(OUT, '06-print')]);
    if (rendered.status === 0) process.stdout.write('docs/portal/06-print.png (page 2 of summary-print.pdf)\n');
    else await shot(page, '06-print', true);
    await page.emulateMedia({ media: 'screen' });
    await page.goto(`${ptPortal}/clinician/find`);
    await page.selectOption('#country', 'AT');
    await page.fill('#identifier', '3181051272');
    await Promise.all([page.waitForLoadState('load'), page.click('form[action="/clinician/find"] button[type=submit]')]);
    await shot(page, '07-refusal');

    const patient = await browser.newContext({ locale: 'de-AT', viewport: { width: 1200, height: 900 } });
    const p = await patient.newPage();
    await p.goto(`${atPortal}/signin`);
    await p.fill('#username', 'anna.gruber');
    await p.fill('#password', 'demo');
    await Promise.all([p.waitForURL(`${atPortal}/patient`), p.click('button[type=submit]')]);
    await shot(p, '08-patient-summary');
    await p.goto(`${atPortal}/patient/access-log`);
    await shot(p, '09-access-log');
    await p.goto(`${atPortal}/patient/consent`);
    await shot(p, '10-consent', true);
  } finally {
    await browser?.close();
    for (const c of children) c.kill('SIGTERM');
  }
}

main().catch((error) => {
  process.stderr.write(`screenshots: ${error.stack ?? error}\n`);
  process.exit(1);
});
