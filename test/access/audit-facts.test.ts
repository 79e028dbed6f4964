import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import type { ServerInjectResponse } from '@hapi/hapi';
import { newAccessContext, type Access } from '../../src/access/access-context.js';
import { auditFactsOf } from '../../src/access/audit-facts.js';
import { issueDisclosure, UndisclosedAccessError } from '../../src/access/disclosure.js';
import { PatientDataGate } from '../../src/access/patient-data-gate.js';
import { RequestBudget } from '../../src/access/request-budget.js';
import { mintDemoToken, type DemoTokenOptions } from '../../src/auth/demo-tokens.js';
import type { Requester } from '../../src/auth/requester.js';
import { parseScopes } from '../../src/auth/scopes.js';
import { loadConfig } from '../../src/config.js';
import type { ConsentDecision } from '../../src/consent/consent-decision.js';
import type { ConsentRepository } from '../../src/repositories/consent-repository.js';
import type { PatientRepository } from '../../src/repositories/patient-repository.js';
import type { RequestBudgetRepository } from '../../src/repositories/request-budget-repository.js';
import { backends } from '../support/stores.js';
import { bodyOf, buildTestNode, documentFor, privacyConsent, send, type Json, type TestNode } from '../support/test-node.js';

/**
 * The gate is the only writer of a request's audit facts (patients reached, resources touched,
 * the decision, throttling); the audit plugin persists exactly what it recorded.
 */

const LIMIT = 3;

/** The AuditEvent the node stored for the request that got `response`. */
async function storedEvent(node: TestNode, response: ServerInjectResponse): Promise<Json> {
  const requestId = response.headers['x-request-id'] as string;
  for (const head of await node.store.audit.heads()) {
    for (const record of await node.store.audit.chainPage(head._id, 0, 100_000)) {
      const event = JSON.parse(record.json) as Json;
      if ((event['entity'] as Json[]).some((e) => e['what']?.identifier?.value === requestId)) return event;
    }
  }
  throw new Error('no audit record for the request');
}

/** The facts the gate recorded for the request that got `response`. */
function factsOf(response: ServerInjectResponse) {
  return auditFactsOf(response.request.app.access!);
}

/** The entities of an AuditEvent as `<object role code> <reference>`, in order, without the request id. */
function entities(event: Json): string[] {
  return (event['entity'] as Json[]).filter((e) => e['what']?.reference || e['type']?.code === 'Consent').map((e) => `${e['role']?.code ?? e['type'].code} ${e['what']?.reference ?? ''}`.trim());
}

describe.each(backends)('audit facts of requests, on the $name', (backend) => {
  let node: TestNode;
  let patientId: string;
  let consentId: string;
  const national = `FACTS-${randomUUID().slice(0, 8)}`;
  const identifier = `urn:test:national|${national}`;
  const ask = async (token: Partial<DemoTokenOptions>): Promise<ServerInjectResponse> =>
    node.server.inject({
      url: `/fhir/Patient/$summary?identifier=${identifier}`,
      headers: { authorization: `Bearer ${await mintDemoToken({ audience: node.config.baseUrl, country: 'PT', issuer: 'ncp', ...token })}` },
    });

  beforeAll(async () => {
    node = await buildTestNode(backend, { PONTIS_CONSENT_DEFAULT: 'opt-in', PONTIS_LIMIT_PER_PATIENT: String(LIMIT), PONTIS_LIMIT_WINDOW_S: '86400', PONTIS_LIMIT_PER_REQUESTER: '10000' });
  });
  afterAll(async () => {
    await node?.cleanup();
  });

  it('a push: the patient, the Bundle written, and the decision it was stored under', async () => {
    const pushed = await send(node.server, 'POST', '/fhir/Bundle', documentFor(national, '2026-01-01T00:00:00Z'));
    expect(pushed.statusCode).toBe(201);
    const bundleId = bodyOf<Json>(pushed)['id'] as string;
    patientId = bodyOf<Json>(await node.server.inject(`/fhir/Patient?identifier=${identifier}`))['entry'][0].resource.id as string;
    const facts = factsOf(pushed);
    expect(facts).toMatchObject({ patients: [patientId], resources: [`Bundle/${bundleId}`], decision: { outcome: 'permit', patientId }, throttled: false, overBudget: false, breakGlass: false });
    const event = await storedEvent(node, pushed);
    expect(entities(event)).toEqual([`1 Patient/${patientId}`, `4 Bundle/${bundleId}`, 'Consent']);
    expect(event['action']).toBe('C');
  });

  it('a Consent write: the patient and the Consent created', async () => {
    const written = await send(node.server, 'POST', '/fhir/Consent', privacyConsent(patientId, { type: 'permit' }));
    expect(written.statusCode).toBe(201);
    consentId = bodyOf<Json>(written)['id'] as string;
    expect(factsOf(written)).toMatchObject({ patients: [patientId], resources: [`Consent/${consentId}`], decision: { outcome: 'permit' }, throttled: false });
    expect(entities(await storedEvent(node, written))).toEqual([`1 Patient/${patientId}`, `4 Consent/${consentId}`, 'Consent']);
  });

  it("a clinician's $summary: the patient and the permit it was released under", async () => {
    const read = await ask({ subject: 'dr-reader' });
    expect(read.statusCode).toBe(200);
    const facts = factsOf(read);
    expect(facts).toMatchObject({ patients: [patientId], decision: { outcome: 'permit', patientId }, throttled: false, breakGlass: false });
    const event = await storedEvent(node, read);
    expect(event['outcome']).toBe('0');
    expect(entities(event)).toEqual([`1 Patient/${patientId}`, ...facts.resources.map((r) => `4 ${r}`), `Consent Consent/${consentId}`]);
    expect((event['entity'] as Json[]).find((e) => e['type']?.code === 'Consent')!['detail'][0]).toEqual({ type: 'decision', valueString: 'permit' });
  });

  it('a refused request: the patient asked for and the deny, nothing touched', async () => {
    const refused = await ask({ subject: 'a-nurse', role: '3221' });
    expect(refused.statusCode).toBe(403);
    expect(factsOf(refused)).toMatchObject({ patients: [patientId], resources: [], decision: { outcome: 'deny' }, throttled: false });
    const event = await storedEvent(node, refused);
    expect(event['outcome']).toBe('4');
    expect((event['entity'] as Json[]).find((e) => e['type']?.code === 'Consent')!['detail'][0]).toEqual({ type: 'decision', valueString: 'deny' });
    expect(event['meta'].tag).toBeUndefined();
  });

  it('over the per-patient budget: the 429 sets AccessContext.throttled and the AuditEvent is tagged throttled', async () => {
    const statuses: number[] = [];
    let last: ServerInjectResponse | undefined;
    for (let i = 0; i <= LIMIT; i++) {
      last = await ask({ subject: 'dr-hasty' });
      statuses.push(last.statusCode);
    }
    expect(statuses).toEqual([...Array(LIMIT).fill(200), 429]);
    expect(factsOf(last!)).toMatchObject({ patients: [patientId], throttled: true, overBudget: false });
    const event = await storedEvent(node, last!);
    expect((event['meta'].tag as Json[]).map((t) => t['code'])).toEqual(['throttled']);
    expect(event['outcomeDesc']).toMatch(/^HTTP 429: too many requests for this patient/);
  });
});

describe('only the gate writes audit facts', () => {
  const hospital: Requester = {
    issuer: 'https://his.at.example',
    issuerKind: 'hospital-system',
    subject: 'his',
    clientId: 'his',
    tokenId: 't',
    country: 'AT',
    scopes: parseScopes('system/*.cruds'),
    context: 'system',
  };
  const access = (): Access => newAccessContext(randomUUID(), hospital) as Access;
  const permit: ConsentDecision = { outcome: 'permit', patientId: 'p1', withheldSections: [], breakGlass: false, basis: 'test' };

  /** A gate over stores that hold no Consents, and a budget of `limit` requests. */
  function gate(limit = 100): PatientDataGate {
    let counted = 0;
    const counts = { count: async () => ++counted } as unknown as RequestBudgetRepository;
    const consents = { rulesForPatient: async () => [] } as unknown as ConsentRepository;
    const patients = { identity: async () => null } as unknown as PatientRepository;
    const config = loadConfig({ PONTIS_COUNTRY: 'AT', PONTIS_BASE_URL: 'http://at.example/fhir' });
    return new PatientDataGate(consents, patients, config.consentPolicy, new RequestBudget(counts, { perRequester: limit, perPatient: limit, windowMs: 60_000 }));
  }

  it("are written by the gate and its Disclosures: a service's own record of the request does not exist", async () => {
    const a = access();
    const disclosure = await gate().open(a, 'p1');
    disclosure.touched('Patient/p1');
    gate().touched(a, 'Consent/c1');
    gate().reached(a, 'p2');
    expect(auditFactsOf(a)).toMatchObject({ patients: ['p1', 'p2'], resources: ['Patient/p1', 'Consent/c1'], decision: { outcome: 'permit', patientId: 'p1' } });
  });

  it('cannot be written through what a service reads: the facts are read-only by type and frozen', async () => {
    const a = access();
    await gate().open(a, 'p1');
    const facts = auditFactsOf(a);
    // @ts-expect-error: the facts a service reads have no writer
    expect(() => facts.patients.push('p9')).toThrow(TypeError);
    // @ts-expect-error: idem
    expect(() => facts.resources.push('Bundle/forged')).toThrow(TypeError);
    expect(() => {
      // @ts-expect-error: idem
      facts.throttled = true;
    }).toThrow(TypeError);
    // Refused by type; at run time either refused or without effect on the facts.
    const attempt = (write: () => void): void => {
      try {
        write();
      } catch {
        // refused at run time as well
      }
    };
    attempt(() => {
      // @ts-expect-error: the access context's decision is the gate's to set
      a.decision = { ...permit, breakGlass: true };
    });
    attempt(() => {
      // @ts-expect-error: over budget is the gate's to note; the context has no such field
      a.overBudget = true;
    });
    expect(auditFactsOf(a)).toMatchObject({ patients: ['p1'], resources: [], throttled: false, overBudget: false, breakGlass: false });
  });

  it('a Disclosure issued outside a request notes nothing', () => {
    expect(() => issueDisclosure(permit).touched('Patient/p1')).toThrow(UndisclosedAccessError);
  });

  it('the gate notes a refusal over the requester budget and over the patient budget', async () => {
    const g = gate(1);
    const a = access();
    await g.admitRequester(a);
    await expect(g.admitRequester(a)).rejects.toMatchObject({ output: { statusCode: 429 } });
    expect(auditFactsOf(a).throttled).toBe(true);
    const b = access();
    await g.open(b, 'p1').catch(() => undefined);
    await expect(g.open(b, 'p1')).rejects.toMatchObject({ output: { statusCode: 429 } });
    expect(auditFactsOf(b)).toMatchObject({ throttled: true, patients: ['p1'] });
  });

  it('only the gate imports the writer', () => {
    const src = fileURLToPath(new URL('../../src/', import.meta.url));
    const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
    const writers = files(src)
      .filter((file) => /\b(factRecordOf|AuditFactRecord)\b/.test(readFileSync(file, 'utf8')))
      .map((file) => relative(src, file))
      .sort();
    expect(writers).toEqual(['access/audit-facts.ts', 'access/patient-data-gate.ts']);
  });
});
