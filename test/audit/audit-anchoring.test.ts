import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Server } from '@hapi/hapi';
import { readFileSync } from 'node:fs';
import { CompactSign, generateKeyPair } from 'jose';
import pino from 'pino';
import { mintDemoToken } from '../../src/auth/demo-tokens.js';
import { recordHash } from '../../src/audit/audit-chain.js';
import { CHECKPOINT_TYP, signCheckpoint } from '../../src/audit/audit-checkpoint.js';
import { verifyAgainstWitnesses, verifyAuditTrail } from '../../src/audit/audit-verification.js';
import { WITNESS_SCOPE, WitnessClient } from '../../src/audit/witness-client.js';
import { collectWitnessReports } from '../../src/audit/witness-reports.js';
import { loadConfig } from '../../src/config.js';
import { NodeIdentity } from '../../src/exchange/node-identity.js';
import { PeerDirectory } from '../../src/exchange/peer-directory.js';
import { projectRoot } from '../../src/project-root.js';
import type { AuditChainHead, AuditRecord } from '../../src/repositories/audit-repository.js';
import type { StoredCheckpoint } from '../../src/repositories/checkpoint-repository.js';
import type { DocumentDatabase } from '../../src/repositories/document-collection.js';
import { storeOn, type Store } from '../../src/repositories/store.js';
import { createServer } from '../../src/server.js';
import { freePort } from '../support/node-process.js';
import { backends } from '../support/stores.js';
import { demoTrust, documentFor, hospitalToken, send, sharedValidator, withDefaultToken, type Json } from '../support/test-node.js';

/**
 * The audit trail anchored outside the database: AT signs its chain head every 5 records and
 * PT (a real listening server) witnesses it. A writer of AT's database who cuts the chain back
 * or rewrites it (every later hash and the head recomputed, AT's stored checkpoints removed)
 * leaves a chain that verifies on its own; the heads PT witnessed do not match it.
 */

const DEMO_KEYS = `${projectRoot()}/seed/trust/demo-keys`;
const AT_URL = 'http://at.example/fhir';
const EVERY = 5;
const silent = pino({ level: 'silent' });

/** The demo directory cut down to `urls`' countries, at those URLs. */
async function directoryFor(country: string, urls: Record<string, string>): Promise<PeerDirectory> {
  const raw = JSON.parse(readFileSync(`${projectRoot()}/seed/trust/peer-directory.json`, 'utf8')) as { nodes: { country: string }[] };
  raw.nodes = raw.nodes.filter((n) => n.country in urls);
  return PeerDirectory.from(raw, country, await demoTrust(), urls);
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.each(backends)('the audit trail anchored at a peer, on the $name', (backend) => {
  let pt: { server: Server; store: Store; url: string; cleanup(): Promise<void> };
  let at: { server: Server; store: Store; database: DocumentDatabase; cleanup(): Promise<void> };
  let atIdentity: NodeIdentity;
  let atDirectory: PeerDirectory;
  let client: WitnessClient;
  let chain: string;

  const records = () => at.database.collection<AuditRecord>('audit_events');
  const chains = () => at.database.collection<AuditChainHead>('audit_chains');
  const checkpoints = () => at.database.collection<StoredCheckpoint>('audit_checkpoints');

  /** What `pontis audit verify` decides: the chains alone, then against PT and the stored checkpoints. */
  async function verdict() {
    const local = await verifyAuditTrail(at.store.audit);
    const reports = await collectWitnessReports(client, atDirectory, await demoTrust(), atIdentity, at.store.checkpoints);
    return { local, reports, anchored: await verifyAgainstWitnesses(at.store.audit, [...reports.peers, reports.stored]) };
  }

  /** Runs an attack on AT's database, then puts every audit collection back as it was. */
  async function attack(body: () => Promise<void>): Promise<void> {
    const saved = { records: await records().find({}), chains: await chains().find({}), checkpoints: await checkpoints().find({}) };
    try {
      await body();
    } finally {
      for (const [collection, docs] of [
        [records(), saved.records],
        [chains(), saved.chains],
        [checkpoints(), saved.checkpoints],
      ] as const) {
        await collection.deleteMany({});
        if (docs.length > 0) await (collection as ReturnType<typeof records>).insertMany(docs as AuditRecord[]);
      }
    }
  }

  /** The attacker also removes AT's own stored checkpoints: only the peers are left to notice. */
  const removeStoredCheckpoints = () => checkpoints().deleteMany({});

  beforeAll(async () => {
    const trust = await demoTrust();
    const port = await freePort();
    const ptUrl = `http://127.0.0.1:${port}/fhir`;
    {
      const config = loadConfig({ PONTIS_COUNTRY: 'PT', PONTIS_BASE_URL: ptUrl, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'silent' });
      const { database, cleanup } = await backend.open();
      const store = await storeOn(database, config);
      const exchange = { directory: await directoryFor('PT', { AT: AT_URL, PT: ptUrl }), identity: await NodeIdentity.load(`${DEMO_KEYS}/ncp-pt.json`) };
      const server = await createServer({ config, store, logger: silent, validator: sharedValidator(), trust, exchange });
      await server.start();
      pt = { server, store, url: ptUrl, cleanup: async () => (await server.stop(), await cleanup()) };
    }
    atIdentity = await NodeIdentity.load(`${DEMO_KEYS}/ncp-at.json`);
    atDirectory = await directoryFor('AT', { AT: AT_URL, PT: ptUrl });
    client = new WitnessClient(atIdentity, { timeoutMs: 2000, maxBytes: 2 ** 20 });
    const config = loadConfig({ PONTIS_COUNTRY: 'AT', PONTIS_BASE_URL: AT_URL, LOG_LEVEL: 'silent', PONTIS_AUDIT_CHECKPOINT_RECORDS: String(EVERY), PONTIS_AUDIT_CHECKPOINT_MS: '600000' });
    const { database, cleanup } = await backend.open();
    const store = await storeOn(database, config);
    const server = withDefaultToken(await createServer({ config, store, logger: silent, validator: sharedValidator(), trust, exchange: { directory: atDirectory, identity: atIdentity } }), AT_URL);
    await server.initialize();
    at = { server, store, database, cleanup: async () => (await server.stop(), await cleanup()) };

    // Twelve audited requests: a push and eleven reads. Checkpoints at records 5 and 10.
    const pushed = await send(at.server, 'POST', '/fhir/Bundle', documentFor('ANCHOR1', '2024-01-01T10:00:00Z'));
    expect(pushed.statusCode).toBe(201);
    const id = (JSON.parse(pushed.payload) as Json)['id'] as string;
    for (let i = 0; i < 11; i++) expect((await at.server.inject(`/fhir/Bundle/${id}`)).statusCode).toBe(200);
    chain = (await chains().find({}))[0]!._id;
    // What the requests set going settles before any test reads or attacks it, each awaited as the
    // state it must reach rather than for a time: AT's stored chain head trails its records by up to
    // HEAD_INTERVAL_MS (an attack that moved the head back would see it moved forward again under
    // it), and AT keeps each checkpoint only after handing it to PT.
    await until('AT to store its chain head at record 12', async () => ((await chains().find({ _id: chain }))[0]?.headSeq === 12 ? true : undefined));
    await until('AT to keep its checkpoints of records 5 and 10', async () => ((await at.store.checkpoints.page('', 10)).length === 2 ? true : undefined));
    await until('PT to witness records 5 and 10', async () => ((await pt.store.witnessed.headsOf(atIdentity.issuer, undefined, 100)).length === 2 ? true : undefined));
  }, 60_000);

  afterAll(async () => {
    await at?.cleanup();
    await pt?.cleanup();
  });

  it("has PT witness AT's chain head every N records, each checkpoint signed with AT's node key, and AT keep a copy", async () => {
    const witnessed = await pt.store.witnessed.headsOf(atIdentity.issuer, undefined, 100);
    expect(witnessed.map((h) => [h.chain, h.seq])).toEqual([
      [chain, 5],
      [chain, 10],
    ]);
    const tenth = (await records().find({ chain, seq: 10 }))[0]!;
    expect(witnessed[1]!.hash).toBe(tenth.hash);
    expect((await at.store.checkpoints.page('', 10)).map((c) => c.seq)).toEqual([5, 10]);
    const { local, reports, anchored } = await verdict();
    expect(local).toMatchObject({ records: 12 });
    expect(local.broken).toBeUndefined();
    expect(reports.peers.map((p) => [p.witness, p.heads.length])).toEqual([[`PT (${pt.url})`, 2]]);
    expect(anchored).toEqual({ positions: 2 });
  });

  it('notices the last records deleted and the head moved back, behind the witnessed head', async () => {
    await attack(async () => {
      const eight = (await records().find({ chain, seq: 8 }))[0]!;
      await records().deleteMany({ chain, seq: { $gt: 8 } });
      await chains().updateOne({ _id: chain }, { $set: { headSeq: 8, headHash: eight.hash } });
      await removeStoredCheckpoints();
      const { local, anchored } = await verdict();
      // The chain alone is consistent: the check before anchoring noticed nothing.
      expect(local.broken).toBeUndefined();
      expect(local.records).toBe(8);
      expect(anchored.broken).toEqual({ chain, seq: 10, problem: `missing, though PT (${pt.url}) witnessed the chain up to it (chain cut back behind a witnessed head)` });
    });
  });

  it('does not notice records cut off after the last witnessed head (the documented bound: fewer than N records or T)', async () => {
    await attack(async () => {
      const ten = (await records().find({ chain, seq: 10 }))[0]!;
      await records().deleteMany({ chain, seq: { $gt: 10 } });
      await chains().updateOne({ _id: chain }, { $set: { headSeq: 10, headHash: ten.hash } });
      const { local, anchored } = await verdict();
      expect(local.broken).toBeUndefined();
      expect(anchored.broken).toBeUndefined();
    });
  });

  it('notices a record altered with every later hash and the head recomputed', async () => {
    await attack(async () => {
      const all = await records().find({ chain }, { sort: { seq: 1 } });
      // Record 3 says something else; records 4.. are relinked to it, and the head moved along.
      let prevHash = all[1]!.hash;
      for (const record of all.slice(2)) {
        const json = record.seq === 3 ? record.json.replace('"outcomeDesc":"HTTP', '"outcomeDesc":"HTTQ') : record.json;
        expect(json !== record.json).toBe(record.seq === 3);
        const hash = recordHash({ ...record, json, prevHash });
        await records().updateOne({ _id: record._id }, { $set: { json, prevHash, hash } });
        prevHash = hash;
      }
      await chains().updateOne({ _id: chain }, { $set: { headHash: prevHash } });
      await removeStoredCheckpoints();
      const { local, anchored } = await verdict();
      expect(local.broken).toBeUndefined();
      expect(local.records).toBe(12);
      expect(anchored.broken).toEqual({ chain, seq: 5, problem: `differs from the head PT (${pt.url}) witnessed (chain rewritten)` });
    });
  });

  it('notices a whole chain removed with its head', async () => {
    await attack(async () => {
      await records().deleteMany({ chain });
      await chains().deleteOne({ _id: chain });
      await removeStoredCheckpoints();
      const { local, anchored } = await verdict();
      expect(local).toEqual({ chains: 0, records: 0 });
      expect(anchored.broken).toMatchObject({ chain, seq: 5, problem: expect.stringMatching(/the chain is missing, though PT .* witnessed it/) });
    });
  });

  it("notices a rewrite from AT's stored checkpoints alone when they were left in place", async () => {
    await attack(async () => {
      await records().deleteMany({ chain, seq: { $gt: 9 } });
      const nine = (await records().find({ chain, seq: 9 }))[0]!;
      await chains().updateOne({ _id: chain }, { $set: { headSeq: 9, headHash: nine.hash } });
      const reports = await collectWitnessReports(client, atDirectory, await demoTrust(), atIdentity, at.store.checkpoints);
      expect((await verifyAgainstWitnesses(at.store.audit, [reports.stored])).broken).toMatchObject({ seq: 10, problem: expect.stringMatching(/stored checkpoints witnessed the chain up to it/) });
    });
  });

  describe("PT's witness route", () => {
    async function submit(jws: string, token: string | undefined): Promise<{ status: number; body: Json }> {
      const response = await fetch(`${pt.url}/$audit-checkpoint`, {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
        body: JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'checkpoint', valueString: jws }] }),
      });
      return { status: response.status, body: (await response.json()) as Json };
    }
    const witnessedCount = async () => (await pt.store.witnessed.headsOf(atIdentity.issuer, undefined, 1000)).length;

    it('refuses a checkpoint forged with another key under AT’s name and kid, and keeps nothing of it', async () => {
      const before = await witnessedCount();
      const { kid, alg } = (JSON.parse(readFileSync(`${DEMO_KEYS}/ncp-at.json`, 'utf8')) as { key: { kid: string; alg: string } }).key;
      const { privateKey } = await generateKeyPair(alg);
      const forged = await new CompactSign(new TextEncoder().encode(JSON.stringify({ iss: atIdentity.issuer, chain, seq: 20, hash: 'a'.repeat(64), iat: Math.floor(Date.now() / 1000) })))
        .setProtectedHeader({ alg, kid, typ: CHECKPOINT_TYP })
        .sign(privateKey);
      const { status, body } = await submit(forged, await atIdentity.asNode(pt.url, WITNESS_SCOPE));
      expect(status).toBe(403);
      expect(body['issue'][0]).toMatchObject({ code: 'security', diagnostics: 'checkpoint refused: the checkpoint signature does not verify', expression: ["Parameters.parameter.where(name = 'checkpoint').value"] });
      expect(await witnessedCount()).toBe(before);
    });

    it("refuses AT's checkpoint from anyone but AT's node in its own name, and a token passed off as a checkpoint", async () => {
      const genuine = await signCheckpoint(atIdentity, { chain, seq: 21, hash: 'b'.repeat(64) });
      const fr = await NodeIdentity.load(`${DEMO_KEYS}/ncp-fr.json`);
      const byFr = await submit(genuine.jws, await fr.asNode(pt.url, WITNESS_SCOPE));
      expect([byFr.status, byFr.body['issue'][0].diagnostics]).toEqual([403, 'a node submits checkpoints of its own audit chains only']);
      const hospital = await submit(genuine.jws, await hospitalToken(pt.url, 'PT'));
      expect(hospital.status).toBe(403);
      const onBehalf = await submit(genuine.jws, await mintDemoToken({ audience: pt.url, issuer: 'ncp', country: 'AT' }));
      expect(onBehalf.status).toBe(403);
      expect((await submit(genuine.jws, undefined)).status).toBe(401);
      const token = await atIdentity.asNode(pt.url, WITNESS_SCOPE);
      const tokenAsCheckpoint = await submit(await atIdentity.asNode(pt.url, WITNESS_SCOPE), token);
      expect([tokenAsCheckpoint.status, tokenAsCheckpoint.body['issue'][0].code]).toEqual([400, 'invalid']);
      expect((await pt.store.witnessed.headsOf(atIdentity.issuer, undefined, 1000)).some((h) => h.seq === 21)).toBe(false);
    });

    it('keeps a second, different head for a witnessed position as evidence of equivocation, answers 409, and reports it to AT', async () => {
      const genuine = (await pt.store.witnessed.headsOf(atIdentity.issuer, undefined, 1000)).find((h) => h.seq === 5)!;
      // The same checkpoint again is fine (a re-send after a lost answer).
      expect((await submit(genuine.jws, await atIdentity.asNode(pt.url, WITNESS_SCOPE))).status).toBe(200);
      const other = await signCheckpoint(atIdentity, { chain, seq: 5, hash: 'c'.repeat(64) });
      const { status, body } = await submit(other.jws, await atIdentity.asNode(pt.url, WITNESS_SCOPE));
      expect(status).toBe(409);
      expect(body['issue'][0]).toMatchObject({ code: 'conflict', diagnostics: expect.stringMatching(/evidence of equivocation/) });
      // What PT witnessed first stays; the contradiction is kept beside it.
      expect((await pt.store.witnessed.headsOf(atIdentity.issuer, undefined, 1000)).find((h) => h.seq === 5)!.hash).toBe(genuine.hash);
      expect(await pt.store.witnessed.equivocationsOf(atIdentity.issuer, 10)).toEqual([expect.objectContaining({ chain, seq: 5, witnessedJws: genuine.jws, jws: other.jws })]);
      expect(await client.submit((await directoryFor('AT', { AT: AT_URL, PT: pt.url })).node('PT')!, other)).toBe('equivocation');
      const { reports, anchored } = await verdict();
      expect(reports.peers[0]!.equivocations).toHaveLength(1);
      expect(anchored.broken).toMatchObject({ chain, seq: 5, problem: expect.stringMatching(/equivocation caught by PT/) });
    });
  });
});
