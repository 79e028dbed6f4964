import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { MongoClient } from 'mongodb';
import { mintDemoToken } from '../../src/auth/demo-tokens.js';
import { TrustList } from '../../src/auth/trust-list.js';
import { DEMO_TRUST_LIST } from '../../src/config.js';
import { verifySummary } from '../../src/exchange/summary-signature.js';
import { TRANSLATED_TAG, TRANSLATION_EXTENSION } from '../../src/terminology/summary-translator.js';
import { freePort, startNode, type NodeProcess } from '../support/node-process.js';

/**
 * Two real node processes, AT and PT, each with its own database on the MongoDB-wire server and
 * the demo catalogue (their default PONTIS_TERMINOLOGY): a clinician in Portugal reads an
 * Austrian patient's summary in Portuguese. Between them a proxy keeps what AT sent, and passes
 * on to AT an Accept-Language of its own: the home node serves peers the signed original whatever
 * they ask, and translation happens at PT, after the signature is verified.
 */

type Json = Record<string, any>;
const AT_SYSTEM = 'urn:oid:1.2.40.0.10.1.4.3.1';
const GRUBER = `${AT_SYSTEM}|1238140358`;
const AT_ISSUER = 'https://ncp.at.demo.pontis.example';

let at: NodeProcess;
let pt: NodeProcess;
let proxy: Server;
let ptUrl: string;
let atPublicUrl: string;
let ptDatabase: string;
/** The summaries AT sent whole (200), as they crossed the border (a 304 confirms the last one PT holds). */
const fromAt: Buffer[] = [];

beforeAll(async () => {
  const uri = process.env['PONTIS_TEST_MONGODB_URI'];
  if (!uri) throw new Error(process.env['PONTIS_TEST_MONGODB_MISSING'] ?? 'no MongoDB test server');
  const [atPort, proxyPort, ptPort] = await Promise.all([freePort(), freePort(), freePort()]);
  atPublicUrl = `http://127.0.0.1:${proxyPort}/fhir`;
  ptUrl = `http://127.0.0.1:${ptPort}/fhir`;
  proxy = createServer((req, res) => {
    const { 'accept-encoding': _encoding, ...forwarded } = req.headers;
    const upstream = httpRequest(`http://127.0.0.1:${atPort}${req.url}`, { method: req.method, headers: { ...forwarded, 'accept-language': 'fr' } }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on('data', (c: Buffer) => chunks.push(c));
      answer.on('end', () => {
        const body = Buffer.concat(chunks);
        if (req.url?.includes('$summary') && answer.statusCode === 200) fromAt.push(body);
        const { 'transfer-encoding': _chunked, ...rest } = answer.headers;
        res.writeHead(answer.statusCode ?? 502, { ...rest, 'content-length': String(body.length) }).end(body);
      });
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  }).listen(proxyPort, '127.0.0.1');
  ptDatabase = `pontis_e2e_tr_pt_${randomUUID().slice(0, 8)}`;
  const common = { MONGODB_URI: uri, PONTIS_SEED: '1', PONTIS_PEER_URLS: `AT=${atPublicUrl},PT=${ptUrl}`, PONTIS_PEER_TIMEOUT_MS: '3000', HOST: '127.0.0.1' };
  [at, pt] = await Promise.all([
    startNode({ ...common, PORT: String(atPort), PONTIS_COUNTRY: 'AT', PONTIS_BASE_URL: atPublicUrl, MONGODB_DATABASE: `pontis_e2e_tr_at_${randomUUID().slice(0, 8)}` }),
    startNode({ ...common, PORT: String(ptPort), PONTIS_COUNTRY: 'PT', PONTIS_BASE_URL: ptUrl, MONGODB_DATABASE: ptDatabase }),
  ]);
}, 90_000);

afterAll(async () => {
  await Promise.all([at?.stop(), pt?.stop()]);
  proxy?.close();
});

/** A PT clinician's cross-border $summary, with the headers given. */
async function summaryAtPt(headers: Record<string, string> = {}): Promise<{ status: number; text: string; headers: Headers; requestId: string }> {
  const token = await mintDemoToken({ audience: ptUrl, issuer: 'idp', country: 'PT' });
  const requestId = `cross-tr-${randomUUID()}`;
  const response = await fetch(`${ptUrl}/Patient/$summary?identifier=${encodeURIComponent(GRUBER)}`, { headers: { authorization: `Bearer ${token}`, 'x-request-id': requestId, ...headers } });
  return { status: response.status, text: await response.text(), headers: response.headers, requestId };
}

/** PT's audit record of a request, by its request id (read from PT's database). */
async function ptAuditRecord(requestId: string): Promise<Json> {
  const client = await MongoClient.connect(process.env['PONTIS_TEST_MONGODB_URI']!);
  try {
    const records = await client.db(ptDatabase).collection<{ json: string }>('audit_events').find({}).toArray();
    const events = records.map((r) => JSON.parse(r.json) as Json).filter((e) => (e['entity'] as Json[]).some((x) => x['what']?.identifier?.value === requestId));
    expect(events).toHaveLength(1);
    return events[0]!;
  } finally {
    await client.close();
  }
}

/** What kind of record an AuditEvent is: everything but its time, id and request id. */
function kindOf(event: Json): Json {
  return {
    type: event['type'],
    subtype: event['subtype'],
    action: event['action'],
    outcome: event['outcome'],
    agents: (event['agent'] as Json[]).map((a) => ({ type: a['type'], role: a['role'], who: a['who'], requestor: a['requestor'] })),
    entities: (event['entity'] as Json[]).map((e) => ({ type: e['type'], role: e['role'], what: e['what']?.reference ?? e['what']?.identifier?.system })),
  };
}

describe('a cross-border summary in the reader language', () => {
  it("arrives in Portuguese for a PT clinician, while AT's signed original still verifies and is still served as it was", async () => {
    const translated = await summaryAtPt({ 'accept-language': 'pt-PT,pt;q=0.9,en;q=0.5' });
    expect(translated.status).toBe(200);
    expect(translated.headers.get('content-language')).toBe('pt');
    expect(translated.headers.get('x-pontis-origin')).toBe(`AT ${atPublicUrl}`);
    expect(translated.headers.get('x-pontis-translation')).toMatch(/^codes=(\d+)\/\1; titles=(\d+)\/\2$/);
    const copy = JSON.parse(translated.text) as Json;
    const composition = copy['entry'][0].resource as Json;
    expect(composition['language']).toBe('de-AT');
    const titles = (composition['section'] as Json[]).map((s) => s['_title'].extension.find((e: Json) => e['url'] === TRANSLATION_EXTENSION).extension[1].valueString);
    expect(titles).toContain('Alergias e intolerâncias');
    expect(copy['meta'].tag).toContainEqual(TRANSLATED_TAG);
    // The copy no longer carries AT's signature (it signs the original); the Provenance says whose it was.
    expect(copy['signature']).toBeUndefined();
    const provenance = (copy['entry'] as Json[]).at(-1)!['resource'] as Json;
    expect(provenance['resourceType']).toBe('Provenance');
    expect(provenance['entity'][0].what.display).toBe('the original document (de-AT), signed by Pontis node AT');
    expect(provenance['agent'][0].who.identifier.value).toBe(ptUrl);

    // What AT sent for that read (or last sent whole, when it confirmed PT's copy with a 304): its
    // signed original, untranslated though the proxy asked for French.
    const trust = await TrustList.load(DEMO_TRUST_LIST);
    const sent = JSON.parse(fromAt.at(-1)!.toString('utf8')) as Json;
    await expect(verifySummary(sent, AT_ISSUER, trust)).resolves.toMatchObject({ canonical: expect.any(String) });
    expect(JSON.stringify(sent)).not.toContain(TRANSLATION_EXTENSION);
    expect(provenance['entity'][0].what.identifier).toEqual(sent['identifier']);

    // Without Accept-Language, and in the document's own language: the original as AT signed it.
    for (const headers of [{}, { 'accept-language': 'de' }] as Record<string, string>[]) {
      const original = await summaryAtPt(headers);
      expect(original.status).toBe(200);
      expect(original.text).toBe(fromAt.at(-1)!.toString('utf8'));
      await expect(verifySummary(JSON.parse(original.text) as Json, AT_ISSUER, trust)).resolves.toMatchObject({ signedAt: expect.any(String) });
    }
  });

  it('is audited at PT as the same kind of record as an untranslated read', async () => {
    const translated = await summaryAtPt({ 'accept-language': 'pt-PT' });
    const untranslated = await summaryAtPt();
    expect([translated.status, untranslated.status]).toEqual([200, 200]);
    const [a, b] = [await ptAuditRecord(translated.requestId), await ptAuditRecord(untranslated.requestId)];
    expect(kindOf(a)).toEqual(kindOf(b));
    expect(a['outcome']).toBe('0');
    expect(JSON.stringify(a)).not.toMatch(/transl/i);
  });
});
