#!/usr/bin/env node
// npm run bench:portal: the portal in headless Chromium (Debian's, through playwright-core). A
// doctor at the PT portal confirms an Austrian patient's identity; timed from the click on
// "confirm" to the summary page's load event (the browser's own navigation timing: POST, redirect,
// cross-border $summary in Portuguese through both nodes, rendering, sub-resources), over
// BENCH_RUNS runs (default 60) after 5 warm-up runs. In the same run, as baselines: the same
// cross-border $summary called directly over HTTP (no portal), and the portal page of a patient
// of PT itself (no exchange). Page weight: the summary page on a first visit (cold cache) and again.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { mintDemoToken } from '../dist/src/auth/demo-tokens.js';
import { machine, startProcess } from './lib.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 60);
const WARM_UP = 5;
const CHROMIUM = process.env.PONTIS_CHROMIUM ?? '/usr/bin/chromium';
const api = (port) => `http://127.0.0.1:${port}/fhir`;
const GRUBER = 'urn:oid:1.2.40.0.10.1.4.3.1|1238140358';

function startNode(country, port, portalPort, peerUrls) {
  return startProcess([join(ROOT, 'dist/src/main.js')], {
    PORT: String(port), HOST: '127.0.0.1', PONTIS_COUNTRY: country, PONTIS_BASE_URL: api(port), PONTIS_PEER_URLS: peerUrls, PONTIS_SEED: '1', LOG_LEVEL: 'warn', MONGODB_URI: '',
    PONTIS_PORTAL_PORT: String(portalPort), PONTIS_LIMIT_PER_REQUESTER: '1000000000', PONTIS_LIMIT_PER_PATIENT: '1000000000',
  }, /portal: (http:\/\/\S+)[\s\S]*listening on/);
}

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};
const summary = (name, values) => ({ name, runs: values.length, p50: percentile(values, 50), p95: percentile(values, 95), min: Math.min(...values), max: Math.max(...values) });

async function signIn(page, portal) {
  await page.goto(`${portal}/signin`);
  await page.fill('#username', 'doctor');
  await page.fill('#password', 'demo');
  await Promise.all([page.waitForURL(`${portal}/clinician/find`), page.click('button[type=submit]')]);
}

/** One look-up: find and confirm (not timed), then the timed confirm → summary rendered. */
async function confirmToSummary(page, portal, country, identifier, beforeConfirm = async () => {}) {
  await page.goto(`${portal}/clinician/find`);
  await page.check('#purpose-treat');
  await page.selectOption('#country', country);
  await page.fill('#identifier', identifier);
  await Promise.all([page.waitForURL(`${portal}/clinician/confirm`), page.click('form[action="/clinician/find"] button[type=submit]')]);
  await beforeConfirm();
  await Promise.all([page.waitForURL(`${portal}/clinician/summary`, { waitUntil: 'load' }), page.click('form[action="/clinician/confirm"] button')]);
  const timing = await page.evaluate(() => {
    const [nav] = performance.getEntriesByType('navigation');
    return { total: nav.loadEventEnd - nav.startTime, server: nav.responseStart - nav.startTime };
  });
  if (!(await page.isVisible('[data-testid="summary-checks"]'))) throw new Error('no summary rendered');
  return timing;
}

async function main() {
  const peerUrls = `AT=${api(18381)},PT=${api(18382)}`;
  const children = [];
  let browser;
  try {
    const [at, pt] = await Promise.all([startNode('AT', 18381, 18391, peerUrls), startNode('PT', 18382, 18392, peerUrls)]);
    children.push(at.child, pt.child);
    const ptPortal = pt.match[1];
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    const context = await browser.newContext({ locale: 'pt-PT', extraHTTPHeaders: { 'Accept-Language': 'pt-PT,pt;q=0.9' } });
    const page = await context.newPage();
    await signIn(page, ptPortal);

    const crossBorder = [];
    const crossBorderServer = [];
    const local = [];
    const direct = [];
    for (let i = 0; i < WARM_UP + RUNS; i++) {
      const a = await confirmToSummary(page, ptPortal, 'AT', '1238140358');
      const b = await confirmToSummary(page, ptPortal, 'PT', '284719365');
      const token = await mintDemoToken({ audience: api(18382), country: 'PT' });
      const started = performance.now();
      const response = await fetch(`${api(18382)}/Patient/$summary?identifier=${encodeURIComponent(GRUBER)}`, { headers: { authorization: `Bearer ${token}`, 'accept-language': 'pt-PT' } });
      await response.arrayBuffer();
      const elapsed = performance.now() - started;
      if (response.status !== 200) throw new Error(`direct $summary: ${response.status}`);
      if (i < WARM_UP) continue;
      crossBorder.push(a.total);
      crossBorderServer.push(a.server);
      local.push(b.total);
      direct.push(elapsed);
    }

    // Page weight of the summary page: a first visit (cold cache) and a repeat visit.
    const fresh = await browser.newContext({ locale: 'pt-PT', extraHTTPHeaders: { 'Accept-Language': 'pt-PT,pt;q=0.9' } });
    const weighed = await fresh.newPage();
    await signIn(weighed, ptPortal);
    const weigh = async () =>
      weighed.evaluate(() => {
        const [nav] = performance.getEntriesByType('navigation');
        const resources = performance.getEntriesByType('resource');
        return {
          documentTransfer: nav.transferSize,
          documentDecoded: nav.decodedBodySize,
          total: nav.transferSize + resources.reduce((n, r) => n + r.transferSize, 0),
          totalDecoded: nav.decodedBodySize + resources.reduce((n, r) => n + r.decodedBodySize, 0),
          resources: resources.map((r) => ({ name: new URL(r.name).pathname, transfer: r.transferSize, decoded: r.decodedBodySize })),
        };
      });
    // A cold cache for the summary page itself: what a first visit to it costs.
    const cdp = await fresh.newCDPSession(weighed);
    await confirmToSummary(weighed, ptPortal, 'AT', '1238140358', () => cdp.send('Network.clearBrowserCache'));
    const first = await weigh();
    await confirmToSummary(weighed, ptPortal, 'AT', '1238140358');
    const repeat = await weigh();

    const rows = [
      summary('portal: confirm → summary rendered, cross-border (PT portal, AT patient, in Portuguese)', crossBorder),
      summary('  of which until the first byte of the summary page', crossBorderServer),
      summary('portal: confirm → summary rendered, local (PT portal, PT patient)', local),
      summary('baseline: cross-border $summary called directly (HTTP, Accept-Language pt)', direct),
    ];
    const result = { date: new Date().toISOString(), machine: machine(), chromium: browser.version(), runs: RUNS, rows, weight: { first, repeat } };
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    writeFileSync(join(ROOT, 'bench/results/portal.json'), `${JSON.stringify(result, null, 2)}\n`);
    const kb = (n) => (n / 1024).toFixed(1);
    process.stdout.write(`\n${machine()}; Chromium ${browser.version()} headless; ${RUNS} runs after ${WARM_UP} warm-up; both nodes, both portals and the browser on this machine\n\n| what | runs | p50 ms | p95 ms | min | max | vs direct $summary (p50) |\n|---|---|---|---|---|---|---|\n`);
    const base = rows[3].p50;
    for (const r of rows) process.stdout.write(`| ${r.name} | ${r.runs} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} | ${r.min.toFixed(1)} | ${r.max.toFixed(1)} | ${(r.p50 / base).toFixed(2)}× |\n`);
    process.stdout.write(`\nsummary page weight, first visit: ${kb(first.total)} KB transferred (${kb(first.totalDecoded)} KB decoded); the page itself ${kb(first.documentTransfer)} KB (${kb(first.documentDecoded)} KB decoded)\n`);
    for (const r of first.resources) process.stdout.write(`  ${r.name}: ${kb(r.transfer)} KB transferred, ${kb(r.decoded)} KB decoded\n`);
    process.stdout.write(`repeat visit: ${kb(repeat.total)} KB transferred (stylesheets and script from the cache)\n`);
  } finally {
    await browser?.close();
    for (const c of children) c.kill('SIGTERM');
  }
}

main().catch((error) => {
  process.stderr.write(`bench: ${error.stack ?? error}\n`);
  process.exit(1);
});
