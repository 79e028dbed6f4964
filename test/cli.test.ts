import { describe, expect, it } from '@jest/globals';
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { TokenVerifier } from '../src/auth/token-verifier.js';
import { MongoDatabase } from '../src/repositories/mongo-database.js';
import { storeOn } from '../src/repositories/store.js';
import { localSystemAccess } from '../src/access/system-access.js';
import { AuditTrail } from '../src/audit/audit-trail.js';
import { auditEventOf } from '../src/audit/audit-event.js';
import { freePort } from './support/node-process.js';
import { demoTrust } from './support/test-node.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const run = promisify(execFile);

/** Runs a command of the built node (npm test builds first); resolves to its exit code and output. */
async function pontis(args: string[], env: Record<string, string> = {}, script = 'bin/pontis.js'): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [script, ...args], { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'silent', ...env }, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('pontis token', () => {
  it('prints only a token that the node it names accepts: by default a doctor reading for treatment', async () => {
    const { code, stdout } = await pontis(['token', '--aud', 'http://localhost:8082/fhir']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const claims = decodeJwt(stdout.trim()) as Record<string, any>;
    expect(claims).toMatchObject({ iss: 'https://idp.pt.demo.pontis.example', aud: 'http://localhost:8082/fhir', scope: 'user/Patient.rs user/Bundle.r' });
    expect(claims['extensions'].ihe_iua).toMatchObject({ subject_role: { code: '221' }, purpose_of_use: { code: 'TREAT' }, home_community_id: 'PT' });
    expect(decodeProtectedHeader(stdout.trim()).alg).toBe('ES256');
    const verifier = new TokenVerifier(await demoTrust(), 'http://localhost:8082/fhir', 'PT', { firstUse: async () => true });
    expect(await verifier.verify(stdout.trim())).toMatchObject({ context: 'user', role: '221', purpose: 'TREAT', country: 'PT' });
  });

  it('mints a patient token bound to the patient, and a break-glass token with its reason', async () => {
    const patient = decodeJwt((await pontis(['token', '--aud', 'http://localhost:8081/fhir', '--patient', 'urn:oid:1.2.40.0.10.1.4.3.1|1238140358'])).stdout.trim()) as Record<string, any>;
    expect(patient['extensions'].ihe_iua.person_id).toBe('urn:oid:1.2.40.0.10.1.4.3.1|1238140358');
    expect(patient['scope']).toMatch(/^patient\//);
    const btg = decodeJwt((await pontis(['token', '--aud', 'http://localhost:8081/fhir', '--purpose', 'BTG', '--reason', 'unconscious', '--role', '2221'])).stdout.trim()) as Record<string, any>;
    expect(btg['extensions']).toMatchObject({ ihe_iua: { purpose_of_use: { code: 'BTG' }, subject_role: { code: '2221' } }, pontis: { break_glass_reason: 'unconscious' } });
  });
});

describe('the node with the demo trust set-up', () => {
  it('refuses to start when NODE_ENV=production', async () => {
    const { code, stderr } = await pontis([], { NODE_ENV: 'production', PORT: '0' }, 'dist/src/main.js');
    expect(code).toBe(2);
    expect(stderr).toMatch(/PONTIS_TRUST_LIST: holds the DEMO keys/);
  });
});

describe('pontis demo', () => {
  it('starts AT and PT, prints each URL on its own line and a token command, and serves a cross-border summary', async () => {
    const child = spawn(process.execPath, ['bin/pontis.js', 'demo'], { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'silent' }, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`demo did not start: ${out}`)), 40_000);
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (/Ctrl-C/.test(out)) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      const lines = out.split('\n');
      expect(lines).toContain('AT http://127.0.0.1:8081/fhir');
      expect(lines).toContain('PT http://127.0.0.1:8082/fhir');
      expect(out).toMatch(/npx pontis token --aud http:\/\/127\.0\.0\.1:8082\/fhir/);
      const token = (await pontis(['token', '--aud', 'http://127.0.0.1:8082/fhir'])).stdout.trim();
      const response = await fetch('http://127.0.0.1:8082/fhir/Patient/$summary?identifier=urn:oid:1.2.40.0.10.1.4.3.1|1238140358', { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-pontis-origin')).toBe('AT http://127.0.0.1:8081/fhir');
    } finally {
      child.kill('SIGINT');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  }, 60_000);
});

describe('pontis audit verify', () => {
  it('exits 3 on a linked trail no witness can vouch for, and 1, naming the record, once one is altered', async () => {
    const uri = process.env['PONTIS_TEST_MONGODB_URI'];
    if (!uri) throw new Error(process.env['PONTIS_TEST_MONGODB_MISSING'] ?? 'no MongoDB test server');
    const name = `pontis_cli_${randomUUID().slice(0, 8)}`;
    const database = await MongoDatabase.connect(uri, name);
    try {
      const store = await storeOn(database, { currentSummaryTtlMs: 0, documentCacheBytes: 0 });
      const trail = new AuditTrail(store.audit);
      for (let i = 0; i < 3; i++) {
        const access = localSystemAccess('AT', 'cli-test');
        const event = auditEventOf({ access, interaction: 'read', action: 'R', resourceType: 'Bundle', status: 200, nodeCountry: 'AT', nodeBaseUrl: 'http://at.example/fhir' }, randomUUID(), new Date());
        await trail.record({ event, patientIds: [`p${i}`], breakGlass: false });
      }
      // The peers of the demo directory are nowhere (closed loopback ports): nothing anchors the chains.
      const closed = `http://127.0.0.1:${await freePort()}/fhir`;
      const env = { MONGODB_URI: uri, MONGODB_DATABASE: name, PONTIS_COUNTRY: 'AT', PONTIS_PEER_URLS: `PT=${closed},FR=${closed}` };
      const intact = await pontis(['audit', 'verify'], env);
      expect(intact).toMatchObject({ code: 3, stdout: expect.stringMatching(/audit trail NOT ANCHORED: 3 records in 1 chains .* are linked, but no witness could be reached/) });
      expect(intact.stdout).toMatch(/witness PT .*: NOT REACHED/);
      const records = database.collection<{ _id: string; seq: number; patientIds: string[] }>('audit_events');
      const second = (await records.find({ seq: 2 }))[0]!;
      await records.updateOne({ _id: second._id }, { $set: { patientIds: ['someone-else'] } });
      const broken = await pontis(['audit', 'verify'], env);
      expect(broken.code).toBe(1);
      expect(broken.stdout).toMatch(/audit trail BROKEN: chain .+, record 2: content does not match its hash \(altered\)/);
    } finally {
      await database.drop();
      await database.close();
    }
  });
});
