import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProtectedHeader, exportJWK, generateKeyPair, importJWK, jwtVerify } from 'jose';
import { CircuitBreaker } from '../../src/exchange/circuit-breaker.js';
import { NodeIdentity } from '../../src/exchange/node-identity.js';
import { PeerDirectory, PeerDirectoryError } from '../../src/exchange/peer-directory.js';
import { signedSummary, signSummary, summaryEntityTag } from '../../src/exchange/summary-signature.js';
import { DEMO_TRUST_LIST } from '../../src/config.js';
import { TrustList } from '../../src/auth/trust-list.js';
import { projectRoot } from '../../src/project-root.js';
import { minimal, type Json } from '../support/test-node.js';
import { CrossBorderService } from '../../src/services/cross-border-service.js';
import type { PeerClient } from '../../src/exchange/peer-client.js';
import type { Access } from '../../src/access/access-context.js';
import type { PatientDataGate } from '../../src/access/patient-data-gate.js';
import { fhirError } from '../../src/fhir/operation-outcome.js';

const key = (name: string) => `${projectRoot()}/seed/trust/demo-keys/${name}.json`;
const directoryFile = `${projectRoot()}/seed/trust/peer-directory.json`;
/** These tests read no audit facts: what the service asks abroad is noted nowhere. */
const noGate = { touched: () => undefined } as unknown as PatientDataGate;

describe('the peer directory', () => {
  it('finds the home node of an identifier system and knows its own entry', async () => {
    const trust = await TrustList.load(DEMO_TRUST_LIST);
    const directory = PeerDirectory.load(directoryFile, 'PT', trust, { AT: 'http://127.0.0.1:1/fhir/' });
    expect(directory.self.country).toBe('PT');
    expect(directory.homeOf('urn:oid:1.2.40.0.10.1.4.3.1')).toMatchObject({ country: 'AT', baseUrl: 'http://127.0.0.1:1/fhir' });
    expect(directory.homeOf('urn:oid:9')).toBeUndefined();
    expect(directory.peers().map((p) => p.country).sort()).toEqual(['AT', 'FR']);
  });

  it.each([
    ['an issuer not a peer node of its country', { nodes: [{ country: 'AT', baseUrl: 'http://a/fhir', issuer: 'https://idp.at.demo.pontis.example', identifierSystems: ['s'] }] }, /not a peer-node of AT/],
    ['an identifier system with two homes', { nodes: [
      { country: 'AT', baseUrl: 'http://a/fhir', issuer: 'https://ncp.at.demo.pontis.example', identifierSystems: ['s'] },
      { country: 'PT', baseUrl: 'http://p/fhir', issuer: 'https://ncp.pt.demo.pontis.example', identifierSystems: ['s'] },
    ] }, /two home countries/],
    ['no entry for this node', { nodes: [{ country: 'PT', baseUrl: 'http://p/fhir', issuer: 'https://ncp.pt.demo.pontis.example', identifierSystems: ['s'] }] }, /no entry for this node's country AT/],
    ['a malformed entry', { nodes: [{ country: 'Austria' }] }, /invalid/],
  ])('is refused with %s', async (_name, raw, message) => {
    const trust = await TrustList.load(DEMO_TRUST_LIST);
    expect(() => PeerDirectory.from(raw, 'AT', trust)).toThrow(PeerDirectoryError);
    expect(() => PeerDirectory.from(raw, 'AT', trust)).toThrow(message);
  });
});

describe('the circuit breaker', () => {
  it('opens after the threshold, refuses while open, then lets one trial through', () => {
    const breaker = new CircuitBreaker({ threshold: 3, openMs: 1000 });
    for (let i = 0; i < 3; i++) {
      const permit = breaker.permit(0);
      expect(permit).toBeDefined();
      breaker.failed(permit!, 0);
    }
    expect(breaker.permit(500)).toBeUndefined();
    const trial = breaker.permit(1500);
    expect(trial?.trial).toBe(true);
    expect(breaker.permit(1500)).toBeUndefined();
    breaker.succeeded(trial!);
    expect(breaker.permit(1600)).toMatchObject({ trial: false });
  });

  it('takes no news from a call begun before the circuit last opened: its failure neither extends the pause nor counts after the circuit closes', () => {
    const breaker = new CircuitBreaker({ threshold: 2, openMs: 1000 });
    const early = breaker.permit(0)!;
    breaker.failed(breaker.permit(0)!, 0);
    breaker.failed(breaker.permit(0)!, 0);
    expect(breaker.state(10)).toBe('open');
    // The early call fails late: the pause still ends at 1000.
    breaker.failed(early, 900);
    const trial = breaker.permit(1000);
    expect(trial?.trial).toBe(true);
    breaker.succeeded(trial!);
    // Closed again: the early call's failure is not the first of a new run; one fresh failure is.
    breaker.failed(early, 1100);
    breaker.failed(breaker.permit(1100)!, 1100);
    expect(breaker.state(1100)).toBe('closed');
    breaker.failed(breaker.permit(1200)!, 1200);
    expect(breaker.state(1200)).toBe('open');
  });
});

describe("a clinician's identification at the home node", () => {
  const AT_SYSTEM = 'urn:oid:1.2.40.0.10.1.4.3.1';
  const clinician = (role: string): Access => ({
    requester: { issuer: 'https://idp.pt.demo.pontis.example', issuerKind: 'identity-provider', subject: 'dr-silva', clientId: 'portal', tokenId: 'j', country: 'PT', scopes: [], context: 'user', role, purpose: 'TREAT' },
    requestId: 'r',
    at: new Date(),
  });

  /** PT's service over a fake AT that records what it is asked; `ids` are AT's patient ids, in turn. */
  async function service(ids: string[], stale: Set<string>) {
    const trust = await TrustList.load(DEMO_TRUST_LIST);
    const directory = PeerDirectory.load(directoryFile, 'PT', trust, { AT: 'http://at.example/fhir' });
    const at = await NodeIdentity.load(key('ncp-at'));
    const bytes = await signSummary(Buffer.from(JSON.stringify(minimal()), 'utf8'), at, 'http://at.example/fhir');
    const asked: string[] = [];
    const peers = {
      search: async () => {
        asked.push('search');
        return { resourceType: 'Bundle', entry: [{ resource: { resourceType: 'Patient', id: ids.shift() } }] };
      },
      summary: async (_home: unknown, id: string, _call: unknown, known?: (bytes: Buffer) => boolean) => {
        asked.push(`summary ${id}`);
        if (stale.has(id)) throw fhirError(403, { code: 'forbidden', message: 'refused' });
        return { bytes, resource: known?.(bytes) ? undefined : (JSON.parse(bytes.toString('utf8')) as Json) };
      },
    } as unknown as PeerClient;
    const pt = await NodeIdentity.load(key('ncp-pt'));
    const validator = { profileSet: 'test', validate: () => [] };
    return { asked, home: directory.homeOf(AT_SYSTEM)!, crossBorder: new CrossBorderService(directory, peers, pt, trust, validator, 'ips', noGate) };
  }

  it('is reused for the same clinician in the same role, and made again for another role', async () => {
    const { asked, home, crossBorder } = await service(['p1', 'p1'], new Set());
    await crossBorder.summary(home, AT_SYSTEM, '1', {}, clinician('221'));
    await crossBorder.summary(home, AT_SYSTEM, '1', {}, clinician('221'));
    await crossBorder.summary(home, AT_SYSTEM, '1', {}, clinician('2262'));
    expect(asked).toEqual(['search', 'summary p1', 'summary p1', 'search', 'summary p1']);
  });

  it('is made again when a read by the identified id is refused, and the fresh answer is the answer', async () => {
    const stale = new Set<string>();
    const { asked, home, crossBorder } = await service(['p1', 'p2'], stale);
    await crossBorder.summary(home, AT_SYSTEM, '1', {}, clinician('221'));
    stale.add('p1'); // e.g. AT merged the record, or the consent changed
    const bytes = await crossBorder.summary(home, AT_SYSTEM, '1', {}, clinician('221'));
    expect(JSON.parse(bytes.toString('utf8'))).toMatchObject({ resourceType: 'Bundle' });
    expect(asked).toEqual(['search', 'summary p1', 'summary p1', 'search', 'summary p2']);
  });
});

describe('summaries received at the clinician node', () => {
  const AT_SYSTEM = 'urn:oid:1.2.40.0.10.1.4.3.1';
  const access = (): Access => ({
    requester: { issuer: 'https://idp.pt.demo.pontis.example', issuerKind: 'identity-provider', subject: 'dr-silva', clientId: 'portal', tokenId: 'j', country: 'PT', scopes: [], context: 'user', role: '221', purpose: 'TREAT' },
    requestId: 'r',
    at: new Date(),
  });

  it('are checked once per copy: the same bytes again pass unparsed, a re-signed copy is verified again, altered bytes are refused', async () => {
    const trust = await TrustList.load(DEMO_TRUST_LIST);
    const directory = PeerDirectory.load(directoryFile, 'PT', trust, { AT: 'http://at.example/fhir' });
    const at = await NodeIdentity.load(key('ncp-at'));
    const stored = Buffer.from(JSON.stringify(minimal()), 'utf8');
    let sending = await signSummary(stored, at, 'http://at.example/fhir');
    const recognised: boolean[] = [];
    const peers = {
      search: async () => ({ resourceType: 'Bundle', entry: [{ resource: { resourceType: 'Patient', id: 'p1' } }] }),
      summary: async (_home: unknown, _id: string, _call: unknown, known: (bytes: Buffer) => boolean) => {
        const bytes = Buffer.from(sending);
        recognised.push(known(bytes));
        return { bytes, resource: recognised.at(-1) ? undefined : (JSON.parse(bytes.toString('utf8')) as Json) };
      },
    } as unknown as PeerClient;
    let validations = 0;
    const validator = { profileSet: 'test', validate: async () => (validations++, []) };
    const crossBorder = new CrossBorderService(directory, peers, await NodeIdentity.load(key('ncp-pt')), trust, validator, 'ips', noGate);
    const home = directory.homeOf(AT_SYSTEM)!;

    // Concurrent first arrivals of one copy are checked once.
    const first = await Promise.all([1, 2, 3].map(() => crossBorder.summary(home, AT_SYSTEM, '1', {}, access())));
    expect(validations).toBe(1);
    expect(first[0]!.equals(sending)).toBe(true);
    const again = await crossBorder.summary(home, AT_SYSTEM, '1', {}, access());
    expect(recognised.at(-1)).toBe(true);
    expect(again.equals(sending)).toBe(true);

    // A copy signed later (another `when`): other bytes, verified; same content, verdict reused.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    sending = await signSummary(stored, at, 'http://at.example/fhir');
    const resigned = await crossBorder.summary(home, AT_SYSTEM, '1', {}, access());
    expect(recognised.at(-1)).toBe(false);
    expect(resigned.equals(sending)).toBe(true);
    expect(validations).toBe(1);

    // Altered in transit: other bytes, checked, refused; and refused again (a refusal is not remembered as accepted).
    sending = Buffer.from(sending.toString('utf8').replace('"timestamp":"', '"timestamp":"1'), 'utf8');
    for (let i = 0; i < 2; i++) {
      await expect(crossBorder.summary(home, AT_SYSTEM, '1', {}, access())).rejects.toMatchObject({ output: { statusCode: 502 } });
      expect(recognised.at(-1)).toBe(false);
    }
  });

  it('offer the copy last accepted back to its home node: its 304 passes that copy on unchecked, other content is checked, and a copy signed by a key no longer trusted is not offered', async () => {
    const trust = await TrustList.load(DEMO_TRUST_LIST);
    const directory = PeerDirectory.load(directoryFile, 'PT', trust, { AT: 'http://at.example/fhir' });
    const at = await NodeIdentity.load(key('ncp-at'));
    let current = await signedSummary(Buffer.from(JSON.stringify(minimal()), 'utf8'), at, 'http://at.example/fhir');
    const offered: Array<readonly string[] | undefined> = [];
    const peers = {
      search: async () => ({ resourceType: 'Bundle', entry: [{ resource: { resourceType: 'Patient', id: 'p1' } }] }),
      // AT as hapi answers: 304 when the tag of what it would send now is among those offered.
      summary: async (_home: unknown, _id: string, _call: unknown, known: (bytes: Buffer) => boolean, entityTags?: readonly string[]) => {
        offered.push(entityTags);
        const tag = summaryEntityTag(current.digest);
        if (entityTags?.includes(tag)) return { bytes: Buffer.alloc(0), resource: undefined, unchanged: tag };
        return { bytes: current.bytes, resource: known(current.bytes) ? undefined : (JSON.parse(current.bytes.toString('utf8')) as Json) };
      },
    } as unknown as PeerClient;
    let validations = 0;
    const validator = { profileSet: 'test', validate: async () => (validations++, []) };
    const crossBorder = new CrossBorderService(directory, peers, await NodeIdentity.load(key('ncp-pt')), trust, validator, 'ips', noGate);
    const home = directory.homeOf(AT_SYSTEM)!;

    const first = await crossBorder.summary(home, AT_SYSTEM, '1', {}, access());
    expect(offered).toEqual([undefined]);
    const again = await crossBorder.summary(home, AT_SYSTEM, '1', {}, access());
    expect(offered.at(-1)).toEqual([summaryEntityTag(current.digest)]);
    expect(again.equals(first)).toBe(true);
    expect(validations).toBe(1);

    // AT's content changed (a new version, another consent): it comes whole, and is checked.
    const changed = minimal();
    changed['timestamp'] = '2026-01-02T00:00:00Z';
    current = await signedSummary(Buffer.from(JSON.stringify(changed), 'utf8'), at, 'http://at.example/fhir');
    const fresh = await crossBorder.summary(home, AT_SYSTEM, '1', {}, access());
    expect(JSON.parse(fresh.toString('utf8'))['timestamp']).toBe('2026-01-02T00:00:00Z');
    expect(validations).toBe(2);

    // AT's key leaves the trust list: the copy it signed is no longer offered (nor passed on).
    const compact = Buffer.from(String(JSON.parse(fresh.toString('utf8'))['signature'].data), 'base64').toString('utf8');
    const { kid } = JSON.parse(Buffer.from(compact.split('.')[0]!, 'base64url').toString('utf8')) as { kid: string };
    (trust.issuer(home.issuer)!.keys as Map<string, unknown>).delete(kid);
    await expect(crossBorder.summary(home, AT_SYSTEM, '1', {}, access())).rejects.toMatchObject({ output: { statusCode: 502 } });
    expect(offered.at(-1)).toBeUndefined();
  });
});

describe("the node's tokens", () => {
  const requester = { issuer: 'https://idp.pt.demo.pontis.example', issuerKind: 'identity-provider', subject: 'dr-silva', name: 'Dr. Silva', clientId: 'portal', tokenId: 'j', country: 'PT', scopes: [], context: 'user', role: '221', purpose: 'TREAT', breakGlassReason: 'unconscious' } as Access['requester'];

  it.each(['EdDSA', 'ES256', 'RS256'])('signed with a %s key verify with its published key and carry the clinician, one call each', async (alg) => {
    const { privateKey } = await generateKeyPair(alg, { extractable: true });
    const file = join(mkdtempSync(join(tmpdir(), 'pontis-node-key-')), 'key.json');
    writeFileSync(file, JSON.stringify({ issuer: 'https://ncp.pt.example', country: 'PT', key: { ...(await exportJWK(privateKey)), kid: 'k1', alg } }));
    const node = await NodeIdentity.load(file);
    const published = await importJWK(node.publicJwk, alg);
    const token = await node.onBehalfOf(requester, 'http://at.example/fhir');
    expect(decodeProtectedHeader(token)).toEqual({ alg, kid: 'k1', typ: 'JWT' });
    const { payload } = await jwtVerify(token, published, { issuer: 'https://ncp.pt.example', audience: 'http://at.example/fhir' });
    expect(payload).toMatchObject({
      sub: 'https://idp.pt.demo.pontis.example#dr-silva',
      scope: 'user/Patient.rs user/Bundle.r',
      client_id: 'pontis-node-pt',
      extensions: { ihe_iua: { subject_name: 'Dr. Silva', subject_role: { code: '221' }, purpose_of_use: { code: 'TREAT' }, home_community_id: 'PT' }, pontis: { break_glass_reason: 'unconscious' } },
    });
    expect(payload.exp! - payload.iat!).toBe(60);
    expect((await jwtVerify(await node.onBehalfOf(requester, 'http://at.example/fhir'), published)).payload.jti).not.toBe(payload.jti);
    const { payload: own } = await jwtVerify(await node.asNode('http://at.example/fhir', 'audit/checkpoint'), published, { audience: 'http://at.example/fhir' });
    expect(own).toMatchObject({ iss: 'https://ncp.pt.example', sub: 'pontis-node-pt', client_id: 'pontis-node-pt', scope: 'audit/checkpoint' });
  });
});
