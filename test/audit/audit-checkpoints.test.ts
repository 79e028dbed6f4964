import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { readFileSync } from 'node:fs';
import { base64url, CompactSign, importJWK, type JWK } from 'jose';
import pino from 'pino';
import { localSystemAccess } from '../../src/access/system-access.js';
import { auditEventOf } from '../../src/audit/audit-event.js';
import { CHECKPOINT_TYP, signCheckpoint, verifyCheckpoint, type AuditCheckpoint } from '../../src/audit/audit-checkpoint.js';
import { AuditCheckpointer } from '../../src/audit/audit-checkpointer.js';
import { AuditTrail } from '../../src/audit/audit-trail.js';
import { CheckpointGossip } from '../../src/audit/checkpoint-gossip.js';
import { WitnessUnavailable } from '../../src/audit/witness-client.js';
import { NodeIdentity } from '../../src/exchange/node-identity.js';
import type { PeerNode } from '../../src/exchange/peer-directory.js';
import { projectRoot } from '../../src/project-root.js';
import { MemoryDatabase } from '../../src/repositories/memory-database.js';
import { storeOn } from '../../src/repositories/store.js';
import { demoTrust } from '../support/test-node.js';

const DEMO_KEYS = `${projectRoot()}/seed/trust/demo-keys`;
const identity = () => NodeIdentity.load(`${DEMO_KEYS}/ncp-at.json`);
const hash = (c: string) => c.repeat(64);
const silent = pino({ level: 'silent' });
const PT: PeerNode = { country: 'PT', baseUrl: 'http://pt.example/fhir', issuer: 'https://ncp.pt.demo.pontis.example', identifierSystems: ['urn:pt'] };
const FR: PeerNode = { country: 'FR', baseUrl: 'http://fr.example/fhir', issuer: 'https://ncp.fr.demo.pontis.example', identifierSystems: ['urn:fr'] };

async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function capture() {
  let text = '';
  const logger = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _e, done) => ((text += chunk.toString()), done()) }));
  return { logger, text: () => text, lines: () => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('a signed checkpoint', () => {
  it("verifies against the trust list as the node's own, and says what it signs", async () => {
    const node = await identity();
    const signed = await signCheckpoint(node, { chain: 'host-1-abcd', seq: 7, hash: hash('a') }, Date.parse('2026-01-01T00:00:00Z'));
    expect(await verifyCheckpoint(signed.jws, await demoTrust())).toEqual({ issuer: 'https://ncp.at.demo.pontis.example', chain: 'host-1-abcd', seq: 7, hash: hash('a'), issuedAt: 1767225600, jws: signed.jws });
  });

  it('is refused altered, of another typ, unsigned, too large, or signed by an issuer that is no peer node', async () => {
    const trust = await demoTrust();
    const node = await identity();
    const { jws } = await signCheckpoint(node, { chain: 'host-1-abcd', seq: 7, hash: hash('a') });
    const [header, payload, signature] = jws.split('.');
    const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload!))) as Record<string, unknown>;
    const altered = `${header}.${base64url.encode(JSON.stringify({ ...claims, seq: 6 }))}.${signature}`;
    await expect(verifyCheckpoint(altered, trust)).rejects.toMatchObject({ reason: 'untrusted', message: 'the checkpoint signature does not verify' });
    const statement = await node.signStatement('JWT', claims);
    await expect(verifyCheckpoint(statement, trust)).rejects.toMatchObject({ reason: 'malformed', message: expect.stringMatching(/not an audit checkpoint/) });
    const none = `${base64url.encode(JSON.stringify({ alg: 'none', typ: CHECKPOINT_TYP }))}.${payload}.`;
    await expect(verifyCheckpoint(none, trust)).rejects.toMatchObject({ message: expect.stringMatching(/algorithm "none" is not accepted/) });
    await expect(verifyCheckpoint('x'.repeat(5000), trust)).rejects.toMatchObject({ reason: 'malformed' });
    // The demo hospital system of AT is in the trust list, but it is not a node: it cannot sign heads.
    const his = JSON.parse(readFileSync(`${DEMO_KEYS}/his-at.json`, 'utf8')) as { issuer: string; key: JWK & { kid: string; alg: string } };
    const byHospital = await new CompactSign(new TextEncoder().encode(JSON.stringify({ ...claims, iss: his.issuer })))
      .setProtectedHeader({ alg: his.key.alg, kid: his.key.kid, typ: CHECKPOINT_TYP })
      .sign(await importJWK(his.key, his.key.alg));
    await expect(verifyCheckpoint(byHospital, trust)).rejects.toMatchObject({ message: 'the checkpoint issuer is not a peer node of the trust list' });
  });
});

describe('the checkpointer', () => {
  async function checkpointer(records: number, intervalMs: number) {
    const store = await storeOn(new MemoryDatabase(), { currentSummaryTtlMs: 0, documentCacheBytes: 0 });
    const sent: AuditCheckpoint[] = [];
    const signer = new AuditCheckpointer(await identity(), store.checkpoints, { deliver: (c) => sent.push(c) }, { records, intervalMs }, silent);
    return { signer, sent, store };
  }

  it('signs the head every N records, counting group writes whole', async () => {
    const { signer, sent, store } = await checkpointer(3, 600_000);
    signer.durable({ chain: 'c-1-a', seq: 1, hash: hash('1') }, 1);
    signer.durable({ chain: 'c-1-a', seq: 2, hash: hash('2') }, 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(sent).toEqual([]);
    signer.durable({ chain: 'c-1-a', seq: 3, hash: hash('3') }, 1);
    await until('the checkpoint at 3', () => sent.length === 1);
    signer.durable({ chain: 'c-1-a', seq: 7, hash: hash('7') }, 4);
    await until('the checkpoint at 7', () => sent.length === 2);
    expect(sent.map((c) => [c.seq, c.hash])).toEqual([
      [3, hash('3')],
      [7, hash('7')],
    ]);
    await signer.close();
    expect((await store.checkpoints.page('', 10)).map((c) => c.seq)).toEqual([3, 7]);
  });

  it('signs the head T ms after the first unsigned record when fewer than N come, and the last head at close', async () => {
    const { signer, sent } = await checkpointer(1000, 150);
    const started = Date.now();
    signer.durable({ chain: 'c-1-a', seq: 1, hash: hash('1') }, 1);
    signer.durable({ chain: 'c-1-a', seq: 2, hash: hash('2') }, 1);
    await until('the timed checkpoint', () => sent.length === 1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(sent[0]!.seq).toBe(2);
    signer.durable({ chain: 'c-1-a', seq: 3, hash: hash('3') }, 1);
    await signer.close();
    expect(sent.map((c) => c.seq)).toEqual([2, 3]);
    // Nothing new: nothing signed again.
    await signer.close();
    expect(sent).toHaveLength(2);
  });

  it("signs an abandoned chain's last head before moving to the new chain", async () => {
    const { signer, sent } = await checkpointer(1000, 600_000);
    signer.durable({ chain: 'c-1-a', seq: 4, hash: hash('4') }, 4);
    signer.durable({ chain: 'c-1-b', seq: 1, hash: hash('b') }, 1);
    await until('the old chain signed', () => sent.length === 1);
    expect([sent[0]!.chain, sent[0]!.seq]).toEqual(['c-1-a', 4]);
    await signer.close();
    expect(sent.map((c) => `${c.chain}@${c.seq}`)).toEqual(['c-1-a@4', 'c-1-b@1']);
  });

  it('re-sends at start-up the newest stored checkpoint of each chain', async () => {
    const { signer, store } = await checkpointer(1, 600_000);
    signer.durable({ chain: 'c-1-a', seq: 1, hash: hash('1') }, 1);
    signer.durable({ chain: 'c-1-a', seq: 2, hash: hash('2') }, 1);
    signer.durable({ chain: 'c-1-b', seq: 1, hash: hash('b') }, 1);
    await signer.close();
    const again: AuditCheckpoint[] = [];
    const next = new AuditCheckpointer(await identity(), store.checkpoints, { deliver: (c) => again.push(c) }, { records: 1, intervalMs: 1000 }, silent);
    next.resendStored();
    await next.close();
    expect(again.map((c) => `${c.chain}@${c.seq}`).sort()).toEqual(['c-1-a@2', 'c-1-b@1']);
    expect(again.every((c) => c.issuer === 'https://ncp.at.demo.pontis.example' && c.jws.split('.').length === 3)).toBe(true);
  });
});

describe('the gossip to the witnesses', () => {
  const checkpoint = async (seq: number, chain = 'c-1-a') => signCheckpoint(await identity(), { chain, seq, hash: hash(String(seq % 10)) });

  it('never holds up an audited request: the record is durable while the witness has not answered', async () => {
    const store = await storeOn(new MemoryDatabase(), { currentSummaryTtlMs: 0, documentCacheBytes: 0 });
    let asked = 0;
    const gossip = new CheckpointGossip([PT], { submit: () => ((asked += 1), new Promise<never>(() => {})) }, silent);
    const trail = new AuditTrail(store.audit, new AuditCheckpointer(await identity(), store.checkpoints, gossip, { records: 1, intervalMs: 1000 }, silent));
    const event = auditEventOf({ access: localSystemAccess('AT', 'gossip-test'), interaction: 'read', action: 'R', resourceType: 'Bundle', status: 200, nodeCountry: 'AT', nodeBaseUrl: 'http://at.example/fhir' }, randomUUID(), new Date());
    const started = Date.now();
    await trail.record({ event, patientIds: ['p1'], breakGlass: false });
    await trail.record({ event, patientIds: ['p2'], breakGlass: false });
    expect(Date.now() - started).toBeLessThan(500);
    await until('the witness to be asked', () => asked === 1);
    expect(gossip.pending).toBe(1); // the second checkpoint waits behind the first, hanging call
    await gossip.close(50);
  });

  it('retries a witness that failed after a doubling wait, counts and logs each failure with no token or checkpoint in it, and sends only the newest head of a chain', async () => {
    const log = capture();
    const submitted: string[] = [];
    let failuresLeft = 2;
    let release: () => void = () => {};
    let holdFirst = true;
    const gossip = new CheckpointGossip(
      [PT, FR],
      {
        async submit(peer, c) {
          if (peer.country === 'FR') {
            if (holdFirst) {
              holdFirst = false;
              await new Promise<void>((resolve) => (release = resolve));
            }
            submitted.push(`FR ${c.seq}`);
            return 'witnessed';
          }
          if (failuresLeft-- > 0) throw new WitnessUnavailable(`the node of PT (${peer.baseUrl}) cannot be reached`);
          submitted.push(`PT ${c.seq}`);
          return 'witnessed';
        },
      },
      log.logger,
      { minMs: 20, maxMs: 40 },
    );
    gossip.deliver(await checkpoint(5));
    await until('FR to be asked', () => !holdFirst);
    // While FR takes seq 5, two later heads of the chain arrive: only the newest is still owed.
    gossip.deliver(await checkpoint(10));
    gossip.deliver(await checkpoint(15));
    release();
    await until('both witnesses served', () => submitted.includes('FR 15') && submitted.includes('PT 15'));
    expect(submitted.filter((s) => s.startsWith('FR'))).toEqual(['FR 5', 'FR 15']);
    expect(submitted.filter((s) => s.startsWith('PT'))).toEqual(['PT 15']);
    expect(gossip.counts).toEqual({ delivered: 3, failed: 2, equivocations: 0 });
    const warnings = log.lines().filter((l) => l['msg'] === 'audit checkpoint not delivered to a witness; will retry');
    expect(warnings.map((w) => [w['peer'], w['failures'], w['retryInMs']])).toEqual([
      ['PT', 1, 20],
      ['PT', 2, 40],
    ]);
    expect(log.text()).not.toMatch(/eyJ|Bearer/);
    await gossip.close(50);
  });

  it('reports a witness that holds a different head (equivocation) as an error', async () => {
    const log = capture();
    const gossip = new CheckpointGossip([PT], { submit: async () => 'equivocation' as const }, log.logger);
    gossip.deliver(await checkpoint(5));
    await until('the answer', () => gossip.counts.equivocations === 1);
    expect(log.lines().find((l) => l['level'] === 50)).toMatchObject({ peer: 'PT', chain: 'c-1-a', seq: 5, msg: expect.stringMatching(/equivocation/) });
    await gossip.close(50);
  });
});
