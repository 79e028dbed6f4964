import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mintDemoToken, type DemoTokenOptions } from '../../src/auth/demo-tokens.js';
import { counting, type CountingDatabase } from '../support/counting-database.js';
import { memoryBackend, mongoBackend, type Backend } from '../support/stores.js';
import { bodyOf, buildTestNode, documentFor, privacyConsent, send, type Json, type TestNode } from '../support/test-node.js';

/**
 * The per-patient request budget is each requester's own, counts refused and unknown patients
 * alike, and never throttles a permitted break-glass read. Run on the embedded store and on the
 * MongoDB-wire server.
 */

const LIMIT = 4;
const UNKNOWN = 'urn:test:national|NOBODY-HERE';

interface Deployment {
  node: TestNode;
  database: CountingDatabase;
  /** National identifiers: a patient who permitted sharing, one who gave no consent (refused under opt-in). */
  permitting: string;
  silent: string;
}

async function deploy(backend: Backend): Promise<Deployment> {
  const counted = counting(backend);
  const node = await buildTestNode(counted, {
    PONTIS_LIMIT_PER_PATIENT: String(LIMIT),
    // Windows are aligned to the clock: a day-long one is not crossed while a test counts.
    PONTIS_LIMIT_WINDOW_S: '86400',
    PONTIS_LIMIT_PER_REQUESTER: '10000',
    PONTIS_CONSENT_DEFAULT: 'opt-in',
    PONTIS_BREAK_GLASS: 'allowed',
  });
  const run = randomUUID().slice(0, 8);
  const permitting = `BUDGET-P-${run}`;
  const silent = `BUDGET-S-${run}`;
  for (const id of [permitting, silent]) expect((await send(node.server, 'POST', '/fhir/Bundle', documentFor(id, '2026-01-01T00:00:00Z'))).statusCode).toBe(201);
  const found = bodyOf<Json>(await node.server.inject(`/fhir/Patient?identifier=urn:test:national|${permitting}`));
  const consent = privacyConsent(found['entry'][0].resource.id as string, { type: 'permit' });
  expect((await send(node.server, 'POST', '/fhir/Consent', consent)).statusCode).toBe(201);
  return { node, database: counted.last!, permitting, silent };
}

function summaryOf(node: TestNode, identifier: string, token: Partial<DemoTokenOptions>, requestId: string = randomUUID()) {
  return mintDemoToken({ audience: node.config.baseUrl, country: 'PT', issuer: 'ncp', ...token }).then((jwt) =>
    node.server.inject({ url: `/fhir/Patient/$summary?identifier=${identifier}`, headers: { authorization: `Bearer ${jwt}`, 'x-request-id': requestId } }),
  );
}

/** What a response tells its receiver, without what differs on every request. */
function observable(response: Awaited<ReturnType<typeof summaryOf>>): Json {
  const headers = { ...response.headers };
  // Per request, whatever the answer: its id, its trace, its date.
  delete headers['x-request-id'];
  delete headers['traceresponse'];
  delete headers['date'];
  // The seconds left in the budget window move on between two requests, for both alike.
  if (headers['retry-after'] !== undefined) headers['retry-after'] = 'N';
  return { status: response.statusCode, headers, body: response.payload.replace(/retry after \d+ s/g, 'retry after N s') };
}

describe.each([memoryBackend, mongoBackend])('per-patient request budget on the $name', (backend) => {
  let d: Deployment;
  beforeAll(async () => {
    d = await deploy(backend);
  });
  afterAll(async () => {
    await d?.node.cleanup();
  });

  it('refused reads of a known patient and reads of an unknown one look the same, over the budget too', async () => {
    // A nurse (role not allowed to read) asks for a known patient; the same nurse asks for nobody.
    const known: Json[] = [];
    const unknown: Json[] = [];
    for (let i = 0; i < LIMIT + 2; i++) {
      known.push(observable(await summaryOf(d.node, `urn:test:national|${d.permitting}`, { role: '3221', subject: 'nurse-1' })));
      unknown.push(observable(await summaryOf(d.node, UNKNOWN, { role: '3221', subject: 'nurse-1' })));
    }
    expect(known.map((r) => r['status'])).toEqual([...Array(LIMIT).fill(403), 429, 429]);
    expect(unknown).toEqual(known);
  });

  it('a refused read of a known patient costs the store the same operations as a read of an unknown one', async () => {
    // Warm both paths (token keys, caches), then compare one request of each.
    await summaryOf(d.node, `urn:test:national|${d.silent}`, { subject: 'doctor-rt' });
    await summaryOf(d.node, UNKNOWN, { subject: 'doctor-rt' });
    // Request counts are reported in the background once a second: report them now, so that no
    // report lands while one of the two requests below is counted.
    await d.node.store.requestCounts.reconcile();
    d.database.operations = [];
    expect((await summaryOf(d.node, `urn:test:national|${d.silent}`, { subject: 'doctor-rt' })).statusCode).toBe(403);
    const refused = d.database.operations.sort();
    d.database.operations = [];
    expect((await summaryOf(d.node, UNKNOWN, { subject: 'doctor-rt' })).statusCode).toBe(403);
    const nobody = d.database.operations.sort();
    expect(nobody).toEqual(refused);
    expect(refused).toContain('patient_changes.findOne');
  });

  it("one requester's abuse does not lock others out of a patient's summary", async () => {
    for (let i = 0; i < LIMIT + 3; i++) await summaryOf(d.node, `urn:test:national|${d.permitting}`, { role: '3221', subject: 'abuser' });
    expect((await summaryOf(d.node, `urn:test:national|${d.permitting}`, { role: '3221', subject: 'abuser' })).statusCode).toBe(429);
    const other = await summaryOf(d.node, `urn:test:national|${d.permitting}`, { subject: 'another-doctor' });
    expect(other.statusCode).toBe(200);
    const emergency = await summaryOf(d.node, `urn:test:national|${d.silent}`, { subject: 'emergency-doctor', purpose: 'ETREAT', breakGlassReason: 'unconscious on arrival' });
    expect(emergency.statusCode).toBe(200);
  });

  it('a permitted break-glass read is never throttled: over the budget it goes through, flagged in the audit record', async () => {
    const statuses: number[] = [];
    const ids: string[] = [];
    for (let i = 0; i < LIMIT + 2; i++) {
      const id = `btg-${randomUUID()}`;
      ids.push(id);
      statuses.push((await summaryOf(d.node, `urn:test:national|${d.silent}`, { subject: 'btg-doctor', purpose: 'ETREAT', breakGlassReason: 'cardiac arrest' }, id)).statusCode);
    }
    expect(statuses).toEqual(Array(LIMIT + 2).fill(200));
    const patientId = bodyOf<Json>(await d.node.server.inject(`/fhir/Patient?identifier=urn:test:national|${d.silent}`))['entry'][0].resource.id as string;
    const events = (await d.node.store.audit.forPatient(patientId, 500)).map((r) => JSON.parse(r.json) as Json);
    const flags = (requestId: string) => {
      const event = events.find((e) => (e['entity'] as Json[]).some((x) => x['what']?.identifier?.value === requestId))!;
      return ((event['meta'].tag ?? []) as Json[]).map((t) => t['code'] as string).sort();
    };
    expect(flags(ids[0]!)).toEqual(['break-glass']);
    expect(flags(ids[LIMIT]!)).toEqual(['break-glass', 'over-budget']);
  });

  it('a break-glass request that is refused is throttled like any other', async () => {
    // Break-glass without a permit: a role that may not read.
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 1; i++) {
      statuses.push((await summaryOf(d.node, `urn:test:national|${d.silent}`, { role: '3221', subject: 'btg-nurse', purpose: 'ETREAT', breakGlassReason: 'x' })).statusCode);
    }
    expect(statuses).toEqual([...Array(LIMIT).fill(403), 429]);
  });
});
