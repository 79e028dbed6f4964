import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { CircuitBreaker } from '../../src/exchange/circuit-breaker.js';
import { NodeIdentity } from '../../src/exchange/node-identity.js';
import { PeerDirectory, PeerDirectoryError } from '../../src/exchange/peer-directory.js';
import { SignatureRefused, signSummary, verifySummary } from '../../src/exchange/summary-signature.js';
import { DEMO_TRUST_LIST } from '../../src/config.js';
import { TrustList } from '../../src/auth/trust-list.js';
import { projectRoot } from '../../src/project-root.js';
import { minimal, type Json } from '../support/test-node.js';
import { CrossBorderService } from '../../src/services/cross-border-service.js';
import type { PeerClient } from '../../src/exchange/peer-client.js';
import type { Access } from '../../src/access/access-context.js';
import { fhirError } from '../../src/fhir/operation-outcome.js';

const key = (name: string) => `${projectRoot()}/seed/trust/demo-keys/${name}.json`;
const directoryFile = `${projectRoot()}/seed/trust/peer-directory.json`;

describe('summary signatures', () => {
  it('verify what the home node signed, and refuse it altered, unsigned or signed by another node', async () => {
    const trust = await TrustList.load(DEMO_TRUST_LIST);
    const at = await NodeIdentity.load(key('ncp-at'));
    const bytes = Buffer.from(JSON.stringify(minimal()), 'utf8');
    const signed = JSON.parse((await signSummary(bytes, at, 'http://at.example/fhir')).toString('utf8')) as Json;
    expect(signed['signature']).toMatchObject({ sigFormat: 'application/jose', who: { identifier: { value: 'http://at.example/fhir' } } });
    await expect(verifySummary(signed, 'https://ncp.at.demo.pontis.example', trust)).resolves.toEqual({
      signedAt: signed['signature'].when,
      canonical: bytes.toString('utf8'),
      digest: createHash('sha256').update(bytes).digest('base64url'),
    });
    // A pair verified once is remembered; altered content is a different pair and is checked again.
    const verified = new Set<string>();
    await verifySummary(signed, 'https://ncp.at.demo.pontis.example', trust, verified);
    expect(verified.size).toBe(1);
    await expect(verifySummary({ ...signed, timestamp: '2000-01-01T00:00:00Z' }, 'https://ncp.at.demo.pontis.example', trust, verified)).rejects.toThrow(/does not match its content/);
    await expect(verifySummary({ ...signed, timestamp: '2000-01-01T00:00:00Z' }, 'https://ncp.at.demo.pontis.example', trust)).rejects.toThrow(/does not match its content/);
    const { signature: _s, ...unsigned } = signed;
    await expect(verifySummary(unsigned, 'https://ncp.at.demo.pontis.example', trust)).rejects.toBeInstanceOf(SignatureRefused);
    await expect(verifySummary(signed, 'https://ncp.pt.demo.pontis.example', trust)).rejects.toThrow(/not signed by a key of its home node/);
  });
});

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
});

describe("a clinician's identification at the home node", () => {
  const AT_SYSTEM = 'urn:oid:1.2.40.0.10.1.4.3.1';
  const clinician = (role: string): Access => ({
    requester: { issuer: 'https://idp.pt.demo.pontis.example', issuerKind: 'identity-provider', subject: 'dr-silva', clientId: 'portal', tokenId: 'j', country: 'PT', scopes: [], context: 'user', role, purpose: 'TREAT' },
    requestId: 'r',
    at: new Date(),
    patients: new Set(),
    resources: [],
  });

  /** PT's service over a fake AT that records what it is asked; `ids` are AT's patient ids, in turn. */
  async function service(ids: string[], stale: Set<string>) {
    const trust = await TrustList.load(DEMO_TRUST_LIST);
    const directory = PeerDirectory.load(directoryFile, 'PT', trust, { AT: 'http://at.example/fhir' });
    const at = await NodeIdentity.load(key('ncp-at'));
    const signed = JSON.parse((await signSummary(Buffer.from(JSON.stringify(minimal()), 'utf8'), at, 'http://at.example/fhir')).toString('utf8')) as Json;
    const asked: string[] = [];
    const peers = {
      search: async () => {
        asked.push('search');
        return { resourceType: 'Bundle', entry: [{ resource: { resourceType: 'Patient', id: ids.shift() } }] };
      },
      summary: async (_home: unknown, id: string) => {
        asked.push(`summary ${id}`);
        if (stale.has(id)) throw fhirError(403, { code: 'forbidden', message: 'refused' });
        return signed;
      },
    } as unknown as PeerClient;
    const pt = await NodeIdentity.load(key('ncp-pt'));
    const validator = { profileSet: 'test', validate: () => [] };
    return { asked, home: directory.homeOf(AT_SYSTEM)!, crossBorder: new CrossBorderService(directory, peers, pt, trust, validator, 'ips') };
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
