import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { recordHash } from '../../src/audit/audit-chain.js';
import { WitnessClient } from '../../src/audit/witness-client.js';
import { NodeIdentity } from '../../src/exchange/node-identity.js';
import { projectRoot } from '../../src/project-root.js';
import type { AuditChainHead, AuditRecord } from '../../src/repositories/audit-repository.js';
import { MongoDatabase } from '../../src/repositories/mongo-database.js';
import { freePort, startNode, type NodeProcess } from '../support/node-process.js';
import { demoTrust, hospitalToken } from '../support/test-node.js';

/**
 * Two real node processes, AT and PT, each with its own database on the MongoDB-wire server.
 * AT signs its audit chain head every 3 records and PT witnesses it; `pontis audit verify` run
 * against AT's database then finds the trail anchored, and, once a writer of that database has
 * rewritten a record and recomputed every later hash and the head, finds the rewrite.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

let at: NodeProcess;
let pt: NodeProcess;
let atUrl: string;
let ptUrl: string;
let uri: string;
const atDatabase = `pontis_anchor_at_${randomUUID().slice(0, 8)}`;
let env: Record<string, string>;

async function verify(): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/pontis.js', 'audit', 'verify'], { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'silent', ...env }, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  uri = process.env['PONTIS_TEST_MONGODB_URI'] ?? '';
  if (!uri) throw new Error(process.env['PONTIS_TEST_MONGODB_MISSING'] ?? 'no MongoDB test server');
  const [atPort, ptPort, frPort] = await Promise.all([freePort(), freePort(), freePort()]);
  atUrl = `http://127.0.0.1:${atPort}/fhir`;
  ptUrl = `http://127.0.0.1:${ptPort}/fhir`;
  // FR is in the directory but never up: its witnessing fails and is retried, and nothing waits for it.
  const peerUrls = `AT=${atUrl},PT=${ptUrl},FR=http://127.0.0.1:${frPort}/fhir`;
  const common = { MONGODB_URI: uri, PONTIS_SEED: '0', PONTIS_PEER_URLS: peerUrls, PONTIS_PEER_TIMEOUT_MS: '1500', HOST: '127.0.0.1' };
  env = { MONGODB_URI: uri, MONGODB_DATABASE: atDatabase, PONTIS_COUNTRY: 'AT', PONTIS_PEER_URLS: peerUrls, PONTIS_PEER_TIMEOUT_MS: '1500' };
  [at, pt] = await Promise.all([
    startNode({ ...common, PORT: String(atPort), PONTIS_COUNTRY: 'AT', PONTIS_BASE_URL: atUrl, MONGODB_DATABASE: atDatabase, PONTIS_AUDIT_CHECKPOINT_RECORDS: '3', PONTIS_AUDIT_CHECKPOINT_MS: '600000' }),
    startNode({ ...common, PORT: String(ptPort), PONTIS_COUNTRY: 'PT', PONTIS_BASE_URL: ptUrl, MONGODB_DATABASE: `pontis_anchor_pt_${randomUUID().slice(0, 8)}` }),
  ]);
}, 90_000);

afterAll(async () => {
  await Promise.all([at?.stop(), pt?.stop()]);
  const database = await MongoDatabase.connect(uri, atDatabase);
  await database.drop();
  await database.close();
});

describe('the audit trail of a real node, witnessed by a real peer', () => {
  it('is found anchored by `pontis audit verify`, and rewritten once a database writer recomputed the chain', async () => {
    // Seven audited requests at AT (searches by a hospital system): checkpoints at 3 and 6.
    for (let i = 0; i < 7; i++) {
      const response = await fetch(`${atUrl}/Patient?identifier=${encodeURIComponent(`urn:test:national|N${i}`)}`, { headers: { authorization: `Bearer ${await hospitalToken(atUrl)}` } });
      expect(response.status).toBe(200);
    }
    const atIdentity = await NodeIdentity.load(`${projectRoot()}/seed/trust/demo-keys/ncp-at.json`);
    const client = new WitnessClient(atIdentity, { timeoutMs: 2000, maxBytes: 2 ** 20 });
    const ptNode = { country: 'PT', baseUrl: ptUrl, issuer: 'https://ncp.pt.demo.pontis.example', identifierSystems: [] };
    const witnessedSeqs = async () => (await client.witnessedHeads(ptNode, await demoTrust())).heads.map((h) => h.seq);
    for (const end = Date.now() + 15_000; !(await witnessedSeqs()).includes(6); ) {
      if (Date.now() > end) throw new Error(`PT did not witness AT's head at 6: ${at.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // AT stops: its last head (7) is signed and offered to PT on the way out.
    await at.stop();
    expect(await witnessedSeqs()).toEqual([3, 6, 7]);

    const intact = await verify();
    expect(intact.stdout).toMatch(new RegExp(`witness PT \\(${ptUrl.replace(/[.]/g, '\\.')}\\): 3 heads of 1 chains`));
    expect(intact.stdout).toMatch(/witness FR .*: NOT REACHED: the node of FR .* cannot be reached/);
    expect(intact.stdout).toMatch(/audit trail intact: 7 records in 1 chains .*; 3 witnessed heads match \(1 of 2 witnesses answered\)/);
    expect(intact.code).toBe(0);

    // A writer of AT's database alters record 2, recomputes every later hash and the head, and
    // removes AT's stored checkpoints: the chain on its own is consistent again.
    const database = await MongoDatabase.connect(uri, atDatabase);
    try {
      const records = database.collection<AuditRecord>('audit_events');
      const all = await records.find({}, { sort: { _id: 1 } });
      expect(all.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      let prevHash = all[0]!.hash;
      for (const record of all.slice(1)) {
        const json = record.seq === 2 ? record.json.replace('"outcomeDesc":"HTTP 200', '"outcomeDesc":"HTTP 403') : record.json;
        const hash = recordHash({ ...record, json, prevHash });
        await records.updateOne({ _id: record._id }, { $set: { json, prevHash, hash } });
        prevHash = hash;
      }
      await database.collection<AuditChainHead>('audit_chains').updateOne({ _id: all[0]!.chain }, { $set: { headHash: prevHash } });
      await database.collection<{ _id: string }>('audit_checkpoints').deleteMany({});
    } finally {
      await database.close();
    }
    const rewritten = await verify();
    expect(rewritten.stdout).toMatch(/audit trail BROKEN: chain .+, record 3: differs from the head PT \(.+\) witnessed \(chain rewritten\)/);
    expect(rewritten.code).toBe(1);

    // With no witness reachable the chain alone proves nothing: said so, with its own exit code.
    await pt.stop();
    const alone = await verify();
    expect(alone.stdout).toMatch(/audit trail NOT ANCHORED: 7 records in 1 chains .* are linked, but no witness could be reached/);
    expect(alone.code).toBe(3);
  }, 90_000);
});
