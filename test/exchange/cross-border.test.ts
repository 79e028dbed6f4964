import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { generateKeyPair, SignJWT } from 'jose';
import { mintDemoToken } from '../../src/auth/demo-tokens.js';
import { freePort, startNode, type NodeProcess } from '../support/node-process.js';
import { documentFor, hospitalToken, minimal, patientOf, privacyConsent } from '../support/test-node.js';
import { NodeIdentity } from '../../src/exchange/node-identity.js';
import { signSummary } from '../../src/exchange/summary-signature.js';
import { projectRoot } from '../../src/project-root.js';

/**
 * Two real node processes on loopback, AT and PT, each with its own database on the MongoDB-wire
 * server, and the demo trust set-up: a clinician in Portugal asks the PT node for an Austrian
 * patient's summary; PT identifies the patient at AT and fetches it on the clinician's behalf.
 * Between them, a proxy that can alter what AT sends. FR is a fake node that fails on demand.
 */

type Json = Record<string, any>;
const AT_SYSTEM = 'urn:oid:1.2.40.0.10.1.4.3.1';
const GRUBER = `${AT_SYSTEM}|1238140358`; // consent: permit
const BAUER = `${AT_SYSTEM}|2454300787`; // consent: permit without the problem list, not to PT pharmacists
const YILMAZ = `${AT_SYSTEM}|3181051272`; // no consent (AT is opt-in)
const FR_SYSTEM = 'urn:oid:1.2.250.1.213.1.4.8';

let at: NodeProcess;
let pt: NodeProcess;
let proxy: Server;
let fake: Server;
let tamper = false;
/** AT's answers to PT's summary reads, as the proxy passed them on. */
const summaryStatuses: number[] = [];
let oversizeSent = 0;
let fakeMode: 'hang' | 'garbage' | 'oversize' | 'two-matches' | 'signed-invalid' = 'garbage';
let frSignedInvalid: Buffer;
const fakeAsked: string[] = [];
let ptUrl: string;
let atPublicUrl: string;
let atRealUrl: string;

beforeAll(async () => {
  const uri = process.env['PONTIS_TEST_MONGODB_URI'];
  if (!uri) throw new Error(process.env['PONTIS_TEST_MONGODB_MISSING'] ?? 'no MongoDB test server');
  const [atPort, proxyPort, ptPort, frPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  atRealUrl = `http://127.0.0.1:${atPort}`;
  atPublicUrl = `http://127.0.0.1:${proxyPort}/fhir`;
  ptUrl = `http://127.0.0.1:${ptPort}/fhir`;
  const peerUrls = `AT=${atPublicUrl},PT=${ptUrl},FR=http://127.0.0.1:${frPort}/fhir`;

  // The proxy in front of AT: AT's public URL is the proxy's (as behind a reverse proxy).
  proxy = createServer((req, res) => {
    // Uncompressed, so that the tampering below edits the JSON itself; and unconditional when
    // tampering, as a man in the middle would make it (AT's 304 leaves nothing to alter).
    const { 'accept-encoding': _encoding, 'if-none-match': condition, ...forwarded } = req.headers;
    if (condition !== undefined && !tamper) forwarded['if-none-match'] = condition;
    const upstream = httpRequest(`${atRealUrl}${req.url}`, { method: req.method, headers: forwarded }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on('data', (c: Buffer) => chunks.push(c));
      answer.on('end', () => {
        let body = Buffer.concat(chunks);
        if (tamper && req.url?.includes('$summary')) body = Buffer.from(body.toString('utf8').replace('"status":"final"', '"status":"preliminary"'), 'utf8');
        if (req.url?.includes('$summary')) summaryStatuses.push(answer.statusCode ?? 0);
        const { 'transfer-encoding': _chunked, ...rest } = answer.headers;
        const headers = { ...rest, 'content-length': String(body.length) };
        res.writeHead(answer.statusCode ?? 502, headers).end(body);
      });
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  }).listen(proxyPort, '127.0.0.1');
  fake = createServer((req, res) => {
    fakeAsked.push(req.url ?? '');
    if (fakeMode === 'signed-invalid') {
      // A node in the directory, correctly signing a document that breaks the IPS profile.
      const body = req.url?.includes('$summary')
        ? frSignedInvalid
        : JSON.stringify({ resourceType: 'Bundle', type: 'searchset', total: 1, entry: [{ resource: { resourceType: 'Patient', id: 'fr-1' } }] });
      res.writeHead(200, { 'content-type': 'application/fhir+json' }).end(body);
    }
    if (fakeMode === 'two-matches') {
      const patient = (id: string) => ({ fullUrl: `http://fr.example/fhir/Patient/${id}`, resource: { resourceType: 'Patient', id, name: [{ family: 'Martin' }] } });
      res.writeHead(200, { 'content-type': 'application/fhir+json' }).end(JSON.stringify({ resourceType: 'Bundle', type: 'searchset', total: 2, entry: [patient('a'), patient('b')] }));
    }
    if (fakeMode === 'garbage') res.writeHead(200, { 'content-type': 'text/html' }).end('<html>maintenance</html>');
    if (fakeMode === 'oversize') {
      // Chunked, without a length, and far over PT's limit: PT must stop reading, not buffer it.
      res.writeHead(200, { 'content-type': 'application/fhir+json' }).write('{"resourceType":"Bundle","type":"searchset","total":1,"x":"');
      let sent = 0;
      const more = (): void => {
        while (sent < 200 * 2 ** 20 && !res.destroyed) {
          oversizeSent = sent += 2 ** 16;
          if (!res.write('x'.repeat(2 ** 16))) return void res.once('drain', more);
        }
        if (!res.destroyed) res.end('"}');
      };
      more();
    }
    // 'hang': never answers
  }).listen(frPort, '127.0.0.1');

  const invalid = minimal();
  delete invalid['entry'][0].resource.status; // Composition.status is 1..1
  frSignedInvalid = await signSummary(Buffer.from(JSON.stringify(invalid), 'utf8'), await NodeIdentity.load(`${projectRoot()}/seed/trust/demo-keys/ncp-fr.json`), `http://127.0.0.1:${frPort}/fhir`);

  const common = { MONGODB_URI: uri, PONTIS_SEED: '1', PONTIS_PEER_URLS: peerUrls, PONTIS_PEER_TIMEOUT_MS: '1500', HOST: '127.0.0.1' };
  [at, pt] = await Promise.all([
    startNode({ ...common, PORT: String(atPort), PONTIS_COUNTRY: 'AT', PONTIS_BASE_URL: atPublicUrl, MONGODB_DATABASE: `pontis_e2e_at_${randomUUID().slice(0, 8)}`, PONTIS_BREAK_GLASS: 'allowed' }),
    startNode({ ...common, PONTIS_MAX_PAYLOAD_BYTES: String(2 * 2 ** 20), PORT: String(ptPort), PONTIS_COUNTRY: 'PT', PONTIS_BASE_URL: ptUrl, MONGODB_DATABASE: `pontis_e2e_pt_${randomUUID().slice(0, 8)}` }),
  ]);
}, 90_000);

afterAll(async () => {
  await Promise.all([at?.stop(), pt?.stop()]);
  proxy?.close();
  fake?.closeAllConnections?.();
  fake?.close();
});

/** A clinician in Portugal, through the Portuguese identity provider. */
async function clinician(options: { role?: string; purpose?: string; reason?: string } = {}): Promise<string> {
  return mintDemoToken({ audience: ptUrl, issuer: 'idp', country: 'PT', ...(options.role ? { role: options.role } : {}), ...(options.purpose ? { purpose: options.purpose } : {}), ...(options.reason ? { breakGlassReason: options.reason } : {}) });
}

async function summaryAtPt(identifier: string, token: string, extra = ''): Promise<{ status: number; body: Json; headers: Headers }> {
  const requestId = `cross-${randomUUID()}`;
  const response = await fetch(`${ptUrl}/Patient/$summary?identifier=${encodeURIComponent(identifier)}${extra}`, { headers: { authorization: `Bearer ${token}`, 'x-request-id': requestId } });
  return { status: response.status, body: (await response.json()) as Json, headers: response.headers };
}

describe('cross-border retrieval between real nodes', () => {
  it("gives a clinician in PT an Austrian patient's summary, signed by AT, and both nodes audit it under one request id", async () => {
    const { status, body, headers } = await summaryAtPt(GRUBER, await clinician());
    expect(status).toBe(200);
    expect(body['resourceType']).toBe('Bundle');
    expect(body['signature']).toMatchObject({ sigFormat: 'application/jose', who: { identifier: { value: atPublicUrl } } });
    expect(headers.get('x-pontis-origin')).toBe(`AT ${atPublicUrl}`);
    // PT offers the copy it accepted back to AT (If-None-Match: its content digest); AT, after its
    // consent check and audit, confirms it unchanged with a 304, and PT passes that copy on.
    const before = summaryStatuses.length;
    const again = await summaryAtPt(GRUBER, await clinician());
    expect(again.status).toBe(200);
    expect(summaryStatuses.slice(before)).toEqual([304]);
    expect(again.body).toEqual(body);
    const requestId = headers.get('x-request-id')!;
    // AT's audit: the inbound read, with the clinician's identity and PT as the country.
    const patientSearch = await fetch(`${atPublicUrl}/Patient?identifier=${encodeURIComponent(GRUBER)}`, {
      headers: { authorization: `Bearer ${await mintDemoToken({ audience: atPublicUrl, scope: 'system/Patient.rs' })}` },
    });
    const atPatientId = ((await patientSearch.json()) as Json)['entry'][0].resource.id;
    const operator = await mintDemoToken({ audience: atPublicUrl, issuer: 'ops', scope: 'system/AuditEvent.rs' });
    const log = (await (await fetch(`${atPublicUrl}/AuditEvent?patient=${atPatientId}`, { headers: { authorization: `Bearer ${operator}` } })).json()) as Json;
    const linked = (log['entry'] as Json[]).map((e) => e['resource']).filter((e: Json) => (e['entity'] as Json[]).some((x) => x['what']?.identifier?.value === requestId));
    expect(linked.length).toBe(2); // the identification and the summary read
    // The clinician's second read reuses their identification: one call to AT, still audited there.
    const againId = again.headers.get('x-request-id')!;
    const linkedAgain = (log['entry'] as Json[]).map((e) => e['resource']).filter((e: Json) => (e['entity'] as Json[]).some((x) => x['what']?.identifier?.value === againId));
    expect(linkedAgain.map((e: Json) => e['subtype'][0].code)).toEqual(['operation']);
    const read = linked.find((e: Json) => e['subtype'][0].code === 'operation')!;
    expect(read['outcome']).toBe('0');
    expect(read['agent'][0].who.identifier.value).toMatch(/#demo-idp-user$/);
    expect(read['agent'][0].role[0].coding[0].code).toBe('221');
    const client = (read['agent'] as Json[]).find((a) => a['type'].coding[0].code === '110153')!;
    expect(client['who']).toMatchObject({ identifier: { system: 'https://ncp.pt.demo.pontis.example', value: 'pontis-node-pt' }, display: 'client of PT' });
  });

  it('answers the same for a patient who has not consented and one AT does not know', async () => {
    // AT's identification shows a foreign requester only the patients it may see.
    const refused = await summaryAtPt(YILMAZ, await clinician());
    const unknown = await summaryAtPt(`${AT_SYSTEM}|0000000000`, await clinician());
    expect([refused.status, unknown.status]).toEqual([404, 404]);
    expect(refused.body).toEqual(unknown.body);
    expect(refused.body['issue'][0].diagnostics).toBe('the node of AT has no summary it can release for this patient');
  });

  it('withholds the sections the patient restricted, and refuses the actors they excluded', async () => {
    const { status, body } = await summaryAtPt(BAUER, await clinician());
    expect(status).toBe(200);
    const problems = (body['entry'][0].resource.section as Json[]).find((s) => s['code'].coding[0].code === '11450-4')!;
    expect(problems['emptyReason'].coding[0].code).toBe('withheld');
    expect((await summaryAtPt(BAUER, await clinician({ role: '2262' }))).status).toBe(404);
  });

  it('lets break-glass through where AT allows it', async () => {
    const { status, body } = await summaryAtPt(YILMAZ, await clinician({ purpose: 'ETREAT', reason: 'unconscious after a road accident' }));
    expect(status).toBe(200);
    expect(body['resourceType']).toBe('Bundle');
  });

  it('identifies a foreign patient with only what confirms identity', async () => {
    const response = await fetch(`${ptUrl}/Patient?identifier=${encodeURIComponent(GRUBER)}`, { headers: { authorization: `Bearer ${await clinician()}` } });
    expect(response.status).toBe(200);
    const patient = ((await response.json()) as Json)['entry'][0].resource as Json;
    expect(Object.keys(patient).sort()).toEqual(['birthDate', 'gender', 'id', 'identifier', 'name', 'resourceType']);
  });

  it('passes on narrowing demographics: a wrong birth date finds no one', async () => {
    const { status } = await summaryAtPt(GRUBER, await clinician(), '&birthdate=1901-01-01');
    expect(status).toBe(404);
  });

  it('serves what a hospital pushed at AT, once the patient consented there', async () => {
    // A fresh token for each request: tokens are single-use.
    const his = async () => ({ authorization: `Bearer ${await hospitalToken(atPublicUrl)}`, 'content-type': 'application/fhir+json' });
    const value = String(Date.now()).slice(-10);
    const document = documentFor(value, '2026-11-20T09:00:00Z');
    patientOf(document)['identifier'] = [{ system: AT_SYSTEM, value }];
    expect((await fetch(`${atPublicUrl}/Bundle`, { method: 'POST', headers: await his(), body: JSON.stringify(document) })).status).toBe(201);
    // AT is opt-in: nothing leaves before the patient's consent.
    expect((await summaryAtPt(`${AT_SYSTEM}|${value}`, await clinician())).status).toBe(404);
    const search = (await (await fetch(`${atPublicUrl}/Patient?identifier=${encodeURIComponent(`${AT_SYSTEM}|${value}`)}`, { headers: await his() })).json()) as Json;
    const consent = privacyConsent(search['entry'][0].resource.id, { type: 'permit' });
    expect((await fetch(`${atPublicUrl}/Consent`, { method: 'POST', headers: await his(), body: JSON.stringify(consent) })).status).toBe(201);
    const { status, body } = await summaryAtPt(`${AT_SYSTEM}|${value}`, await clinician());
    expect(status).toBe(200);
    expect(body['identifier']).toEqual(document['identifier']);
  });

  it("refuses a summary its home node signed but that breaks the profiles in force, naming the node", async () => {
    fakeMode = 'signed-invalid';
    const { status, body } = await summaryAtPt(`${FR_SYSTEM}|2850312345678`, await clinician());
    expect(status).toBe(502);
    expect(body['issue'][0].diagnostics).toMatch(/summary from the node of FR does not meet the profiles in force here; it is not passed on/);
    expect(body['issue'].some((i: Json) => i['severity'] === 'error' && /Composition\.status/.test(JSON.stringify(i)))).toBe(true);
    expect(JSON.stringify(body)).not.toContain('"entry"');
  });

  it('answers 409 when the home node matches several patients, and passes on what narrows it', async () => {
    fakeMode = 'two-matches';
    fakeAsked.length = 0;
    const { status, body } = await summaryAtPt(`${FR_SYSTEM}|1850312345678`, await clinician(), '&family=Martin&birthdate=1985-03-12');
    expect(status).toBe(409);
    expect(body['issue'][0]).toMatchObject({ code: 'multiple-matches', diagnostics: expect.stringMatching(/node of FR matched 2 patients; narrow with family, given, birthdate or gender/) });
    const asked = new URL(fakeAsked[0]!, 'http://fr.example').searchParams;
    expect([asked.get('identifier'), asked.get('family'), asked.get('birthdate')]).toEqual([`${FR_SYSTEM}|1850312345678`, 'Martin', '1985-03-12']);
  });

  it('refuses a summary altered in transit', async () => {
    tamper = true;
    try {
      const { status, body } = await summaryAtPt(GRUBER, await clinician());
      expect(status).toBe(502);
      expect(body['issue'][0].diagnostics).toMatch(/node of AT is refused: the summary signature does not match its content/);
      expect(JSON.stringify(body)).not.toContain('"entry"');
    } finally {
      tamper = false;
    }
  });

  it('answers 400 for an identifier system of no Member State', async () => {
    const { status, body } = await summaryAtPt('urn:oid:9.9.9|1', await clinician());
    expect(status).toBe(400);
    expect(body['issue'][0].diagnostics).toMatch(/urn:oid:9\.9\.9/);
  });

  it('refuses at AT a token forged by a node not in the directory', async () => {
    const { privateKey } = await generateKeyPair('EdDSA');
    const now = Math.floor(Date.now() / 1000);
    const forged = await new SignJWT({ scope: 'user/Bundle.r', client_id: 'x', extensions: { ihe_iua: { subject_name: 'x', subject_role: '221', subject_organization: 'x', subject_organization_id: 'x', purpose_of_use: 'TREAT', home_community_id: 'PT' } } })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'rogue' })
      .setIssuer('https://ncp.xx.rogue.example')
      .setSubject('x')
      .setAudience(atPublicUrl)
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .setJti(randomUUID())
      .sign(privateKey);
    const response = await fetch(`${atPublicUrl}/Patient/$summary?identifier=${encodeURIComponent(GRUBER)}`, { headers: { authorization: `Bearer ${forged}` } });
    expect(response.status).toBe(401);
  });

  it('answers 502 for a peer that answers garbage or too much, 504 for one that hangs, 503 once its circuit opens; others are unaffected', async () => {
    const frPatient = `${FR_SYSTEM}|1850312345678`;
    fakeMode = 'oversize';
    const oversize = await summaryAtPt(frPatient, await clinician());
    expect(oversize.status).toBe(502);
    expect(oversize.body['issue'][0].diagnostics).toMatch(/node of FR .* answered more than 2097152 bytes; nothing is passed on/);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(oversizeSent).toBeGreaterThan(0);
    expect(oversizeSent).toBeLessThan(100 * 2 ** 20); // PT hung up early: the 200 MB were never read
    fakeMode = 'garbage';
    const garbage = await summaryAtPt(frPatient, await clinician());
    expect(garbage.status).toBe(502);
    expect(garbage.body['issue'][0].diagnostics).toMatch(/node of FR .* not a FHIR answer/);
    fakeMode = 'hang';
    const started = Date.now();
    const hung = await summaryAtPt(frPatient, await clinician());
    expect(hung.status).toBe(504);
    expect(Date.now() - started).toBeLessThan(5000);
    // Meanwhile AT answers as fast as ever.
    const [slow, fast] = await Promise.all([summaryAtPt(frPatient, await clinician()), summaryAtPt(GRUBER, await clinician())]);
    expect([slow.status, fast.status]).toEqual([504, 200]);
    for (let i = 0; i < 2; i++) await summaryAtPt(frPatient, await clinician());
    const open = await summaryAtPt(frPatient, await clinician());
    expect(open.status).toBe(503);
    expect(open.body['issue'][0].diagnostics).toMatch(/node of FR .* paused/);
  });

  it('answers 502 for a peer that is down', async () => {
    await at.stop();
    await new Promise((resolve) => proxy.close(resolve));
    const { status, body } = await summaryAtPt(GRUBER, await clinician());
    expect(status).toBe(502);
    expect(body['issue'][0].diagnostics).toMatch(/node of AT .*(cannot be reached|not a FHIR answer)/);
  });
});
