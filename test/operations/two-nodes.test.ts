import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import canonicalize from 'canonicalize';
import { flattenedVerify, importJWK, type JWK } from 'jose';
import { mintDemoToken } from '../../src/auth/demo-tokens.js';
import { ACT_REASON } from '../../src/auth/requester.js';
import { parseTraceparent } from '../../src/plugins/tracing.js';
import { freePort, startNode, type NodeProcess } from '../support/node-process.js';
import type { Json } from '../support/test-node.js';

/**
 * Two real nodes (AT home, PT the clinician's), embedded stores with the seed: one cross-border
 * read followed through both nodes' logs by its trace id; what they send checked for the FHIR
 * fixes of issue 15 (self link of the identification, signature time and published key,
 * break-glass coded).
 */

const GRUBER = 'urn:oid:1.2.40.0.10.1.4.3.1|1238140358';
const YILMAZ = 'urn:oid:1.2.40.0.10.1.4.3.1|3181051272';
const TRACE = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
let at: NodeProcess;
let pt: NodeProcess;
let atUrl: string;
let ptUrl: string;

beforeAll(async () => {
  const [atPort, ptPort] = await Promise.all([freePort(), freePort()]);
  atUrl = `http://127.0.0.1:${atPort}/fhir`;
  ptUrl = `http://127.0.0.1:${ptPort}/fhir`;
  const common = { PONTIS_PEER_URLS: `AT=${atUrl},PT=${ptUrl}`, LOG_LEVEL: 'info', HOST: '127.0.0.1' };
  [at, pt] = await Promise.all([
    startNode({ ...common, PORT: String(atPort), PONTIS_COUNTRY: 'AT', PONTIS_BASE_URL: atUrl, PONTIS_BREAK_GLASS: 'allowed' }),
    startNode({ ...common, PORT: String(ptPort), PONTIS_COUNTRY: 'PT', PONTIS_BASE_URL: ptUrl }),
  ]);
}, 90_000);

afterAll(async () => {
  await Promise.all([at?.stop(), pt?.stop()]);
});

const clinician = (extra: { purpose?: string; breakGlassReason?: string } = {}) => mintDemoToken({ audience: ptUrl, issuer: 'idp', country: 'PT', ...extra });

/** The node's request log lines (JSON lines of its output). */
function requestLines(node: NodeProcess): Json[] {
  return node
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Json)
    .filter((l) => l['msg'] === 'request');
}

describe('two nodes', () => {
  it('follow one cross-border read through both logs by its trace id, next to each request id', async () => {
    const requestId = `trace-nodes-${randomUUID()}`;
    const response = await fetch(`${ptUrl}/Patient/$summary?identifier=${encodeURIComponent(GRUBER)}`, {
      headers: { authorization: `Bearer ${await clinician()}`, 'x-request-id': requestId, traceparent: `00-${TRACE}-00f067aa0ba902b7-01` },
    });
    expect(response.status).toBe(200);
    expect(parseTraceparent(response.headers.get('traceresponse'))?.traceId).toBe(TRACE);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const ptLine = requestLines(pt).find((l) => l['requestId'] === requestId);
    expect(ptLine).toMatchObject({ traceId: TRACE, route: '/fhir/Patient/$summary', statusCode: 200 });
    // AT served the identification and the summary read for it: same request id, same trace.
    const atLines = requestLines(at).filter((l) => l['requestId'] === requestId);
    expect(atLines.map((l) => l['route']).sort()).toEqual(['/fhir/Patient', '/fhir/Patient/{id}/$summary']);
    for (const line of atLines) expect(line['traceId']).toBe(TRACE);
    expect(at.output() + pt.output()).not.toContain('1238140358');
  });

  it("signs what AT sends with a signing time and a key AT publishes, that verifies the summary", async () => {
    const response = await fetch(`${ptUrl}/Patient/$summary?identifier=${encodeURIComponent(GRUBER)}`, { headers: { authorization: `Bearer ${await clinician()}` } });
    const bundle = (await response.json()) as Json;
    const { signature, ...content } = bundle;
    const compact = Buffer.from(signature.data as string, 'base64').toString('utf8');
    const [protectedHeader, , signatureValue] = compact.split('.');
    const header = JSON.parse(Buffer.from(protectedHeader!, 'base64url').toString('utf8')) as Json;
    expect(header['sigT']).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(signature.when).toBe(header['sigT']);
    expect(header['jku']).toBe(`${atUrl}/.well-known/jwks.json`);
    const published = await fetch(header['jku'] as string);
    expect(published.status).toBe(200);
    expect(published.headers.get('content-type')).toMatch(/^application\/jwk-set\+json/);
    const { keys } = (await published.json()) as { keys: JWK[] };
    const key = keys.find((k) => k.kid === header['kid']);
    expect(key).toBeDefined();
    expect(Object.keys(key!)).not.toEqual(expect.arrayContaining(['d']));
    await expect(
      // As a verifier outside this codebase does (docs/exchange.md): the content in RFC 8785 canonical form.
      flattenedVerify({ protected: protectedHeader!, signature: signatureValue!, payload: Buffer.from(canonicalize(content)!, 'utf8') }, await importJWK(key!, key!.alg), { crit: { b64: true } }),
    ).resolves.toBeDefined();
  });

  it('answers an identification searchset with a self link', async () => {
    const response = await fetch(`${ptUrl}/Patient?identifier=${encodeURIComponent(GRUBER)}&family=Gruber`, { headers: { authorization: `Bearer ${await clinician()}` } });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Json;
    expect(body['link']).toEqual([{ relation: 'self', url: `${ptUrl}/Patient?identifier=${encodeURIComponent(GRUBER)}&family=Gruber` }]);
  });

  it('codes a break-glass purpose of use (v3-ActReason BTG) and keeps the reason as text', async () => {
    const reason = 'unconscious after a road accident';
    const response = await fetch(`${ptUrl}/Patient/$summary?identifier=${encodeURIComponent(YILMAZ)}`, {
      headers: { authorization: `Bearer ${await clinician({ purpose: 'ETREAT', breakGlassReason: reason })}` },
    });
    expect(response.status).toBe(200);
    const his = await mintDemoToken({ audience: atUrl, scope: 'system/Patient.rs' });
    const found = (await (await fetch(`${atUrl}/Patient?identifier=${encodeURIComponent(YILMAZ)}`, { headers: { authorization: `Bearer ${his}` } })).json()) as Json;
    const operator = await mintDemoToken({ audience: atUrl, issuer: 'ops', scope: 'system/AuditEvent.rs' });
    const log = (await (await fetch(`${atUrl}/AuditEvent?patient=${found['entry'][0].resource.id}`, { headers: { authorization: `Bearer ${operator}` } })).json()) as Json;
    const breakGlass = (log['entry'] as Json[]).map((e) => e['resource'] as Json).find((e) => (e['meta']['tag'] ?? []).some((t: Json) => t['code'] === 'break-glass'));
    expect(breakGlass?.['agent'][0].purposeOfUse).toEqual([{ coding: [{ system: ACT_REASON, code: 'BTG', display: 'break the glass' }], text: reason }]);
  });
});
