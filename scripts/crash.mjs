#!/usr/bin/env node
// npm run crash: crash safety of a Pontis node on FerretDB (or MONGODB_URI). Drives concurrent
// pushes, Bundle updates, Consent creates and updates and reads at one node process, kills it
// with SIGKILL at random moments (some during start-up), restarts it on the same database, and
// remembers every write that was acknowledged (2xx received). Afterwards checks that every
// acknowledged write is readable with its content and has its audit record, that nothing
// half-written is readable, that the consent decision follows the newest complete versions, and
// that `pontis audit verify` passes (a PT node, never killed, witnesses the audit chain heads).
// Prints a summary; exits 1 on any finding.
//
// CRASH_CYCLES (default 20) kill cycles, CRASH_WORKERS (default 8) concurrent clients,
// CRASH_MIN_MS / CRASH_MAX_MS (default 300 / 2500) how long the node runs before it is killed.
// Needs dist/ (npm run build).
/* global AbortSignal, structuredClone */
import { spawn } from 'node:child_process';
import { randomInt, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import { NO_SERVER_HELP, startMongoTestServer, stopMongoTestServer } from './mongo-test-server.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAIN = join(ROOT, 'dist/src/main.js');
// The `pontis` command (dist/src/cli/pontis.js only exports `run`: invoked directly it does nothing).
const CLI = join(ROOT, 'bin/pontis.js');
const integer = (name, fallback) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number`);
  return value;
};
const CYCLES = integer('CRASH_CYCLES', 20);
const WORKERS = integer('CRASH_WORKERS', 8);
const MIN_MS = integer('CRASH_MIN_MS', 300);
const MAX_MS = Math.max(MIN_MS + 1, integer('CRASH_MAX_MS', 2500));
const MAX_PATIENTS = 10;
const HIS_SCOPES = 'system/Bundle.crus system/Patient.rs system/Consent.crus';
const MINIMAL = JSON.parse(readFileSync(join(ROOT, 'profiles/hl7.fhir.uv.ips-2.0.0/package/example/Bundle-bundle-minimal.json'), 'utf8'));

if (!existsSync(MAIN)) {
  console.error('dist/ is missing: run `npm run build` first (npm run crash does)');
  process.exit(2);
}
const { mintDemoToken } = await import('../dist/src/auth/demo-tokens.js');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
// Undefined for none (a Consent write may come before any push was acknowledged).
const pick = (items) => (items.length === 0 ? undefined : items[randomInt(items.length)]);

/** A free loopback port. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// ---- what the clients know ---------------------------------------------------------------------

/** Findings: anything here fails the run. */
const findings = [];
const finding = (message) => {
  if (findings.length < 200) findings.push(message);
};
const counts = {
  acknowledged: { push: 0, 'bundle-update': 0, 'consent-create': 0, 'consent-update': 0 },
  reads: 0,
  conflicts: 0,
  inDoubt: 0,
  unexpected: 0,
};
/** Every acknowledged write: what, which version, its content mark, its request id. */
const acknowledged = [];
/** Patients: national identifier, server id once known. */
const patients = [];
/** Bundles and Consents by `Type/id`. */
const resources = new Map();
/** Pushes that got no answer: retried later (a push is idempotent), they must then succeed. */
let pendingPushes = [];
/** Consent creates that got no answer: mark → patient id. Such a Consent may or may not exist. */
const doubtfulConsentCreates = new Map();
let sequence = 0;

function resource(type, id, patientId, base) {
  const key = `${type}/${id}`;
  let known = resources.get(key);
  if (!known) {
    known = { type, id, patientId, base, latest: 0, acknowledgedLatest: 0, versions: new Map(), candidates: new Map() };
    resources.set(key, known);
  }
  return known;
}

function candidate(known, versionId, mark) {
  const set = known.candidates.get(versionId) ?? new Set();
  set.add(mark);
  known.candidates.set(versionId, set);
}

const markOf = (type, body) => (type === 'Bundle' ? String(body?.entry?.[0]?.resource?.title) : String(body?.dateTime));

/**
 * A version of a resource seen in an answer: it must hold content some client sent for exactly
 * that version, and the same content every time.
 */
function observe(known, versionId, mark, where) {
  const key = `${known.type}/${known.id}`;
  if (!known.candidates.get(versionId)?.has(mark)) finding(`${where}: ${key} version ${versionId} holds content never sent for that version`);
  const seen = known.versions.get(versionId);
  if (seen !== undefined && seen !== mark) finding(`${where}: ${key} version ${versionId} was seen with two contents (two writers won it)`);
  known.versions.set(versionId, mark);
  if (versionId > known.latest) known.latest = versionId;
}

// ---- talking to the node -----------------------------------------------------------------------

let origin = '';
let baseUrl = '';

/** One request with a fresh single-use token; status 0 when no complete answer came back. */
async function call(method, path, body, headers = {}, token) {
  const requestId = `crash-${randomUUID()}`;
  try {
    const response = await fetch(`${origin}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token ?? (await mintDemoToken({ audience: baseUrl, country: 'AT', scope: HIS_SCOPES }))}`,
        'x-request-id': requestId,
        ...(body ? { 'content-type': 'application/fhir+json' } : {}),
        ...headers,
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(20_000),
    });
    const text = await response.text();
    const etag = /^W\/"(\d+)"$/.exec(response.headers.get('etag') ?? '')?.[1];
    return { status: response.status, body: text ? JSON.parse(text) : undefined, etag: etag ? Number(etag) : undefined, requestId };
  } catch {
    return { status: 0, requestId };
  }
}

/** A status that is neither success, a conflict, nor a lost connection: reported, and in doubt. */
function unexpected(what, answer) {
  counts.unexpected++;
  finding(`${what}: unexpected HTTP ${answer.status} ${JSON.stringify(answer.body?.issue?.[0] ?? '').slice(0, 200)}`);
}

function documentFor(national, mark) {
  const bundle = structuredClone(MINIMAL);
  bundle.identifier = { system: 'urn:test:documents', value: `crash-${randomUUID()}` };
  bundle.timestamp = new Date(Date.UTC(2024, 0, 1) + sequence * 60_000).toISOString();
  bundle.entry[0].resource.title = mark;
  bundle.entry.find((e) => e.resource.resourceType === 'Patient').resource.identifier = [{ system: 'urn:test:national', value: national }];
  return bundle;
}

function consentFor(patientId, mark, type) {
  return {
    resourceType: 'Consent',
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: `Patient/${patientId}` },
    dateTime: mark,
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
    provision: { type },
  };
}

/** A Consent mark: a dateTime unique to the write, later for later writes (the newest is in force). */
const consentMark = () => new Date(Date.UTC(2020, 0, 1) + ++sequence * 1000).toISOString();

async function patientIdOf(national) {
  const answer = await call('GET', `/fhir/Patient?identifier=${encodeURIComponent(`urn:test:national|${national}`)}`);
  if (answer.status === 0) return undefined;
  counts.reads++;
  const id = answer.body?.entry?.[0]?.resource?.id;
  if (answer.status !== 200 || !id) finding(`patient urn:test:national|${national} of an acknowledged push is not searchable (HTTP ${answer.status})`);
  return id;
}

function acknowledge(kind, known, versionId, mark, requestId) {
  counts.acknowledged[kind]++;
  acknowledged.push({ kind, type: known.type, id: known.id, versionId, mark, requestId });
  observe(known, versionId, mark, `acknowledged ${kind}`);
  if (versionId > known.acknowledgedLatest) known.acknowledgedLatest = versionId;
}

// ---- operations --------------------------------------------------------------------------------

async function push(item) {
  const answer = await call('POST', '/fhir/Bundle', item.body, { prefer: 'return=representation' });
  if (answer.status === 200 || answer.status === 201) {
    const id = answer.body?.id;
    const known = resource('Bundle', id, undefined, item.body);
    candidate(known, 1, item.mark);
    acknowledge('push', known, Number(answer.body?.meta?.versionId), markOf('Bundle', answer.body), answer.requestId);
    const patient = item.patient;
    patient.id ??= await patientIdOf(patient.national);
    known.patientId = patient.id;
    return true;
  }
  if (answer.status !== 0) unexpected('push', answer);
  counts.inDoubt++;
  pendingPushes.push(item);
  return answer.status !== 0;
}

async function pushNew() {
  const patient = patients.length < MAX_PATIENTS && (patients.length < 3 || randomInt(3) === 0) ? { national: `CR${randomUUID().slice(0, 8)}` } : pick(patients);
  if (!patients.includes(patient)) patients.push(patient);
  const mark = `push ${++sequence}`;
  return push({ body: documentFor(patient.national, mark), mark, patient });
}

/** A new version of a known Bundle or Consent, from the newest version this client knows. */
async function update(type) {
  const known = [...resources.values()].filter((r) => r.type === type && r.latest > 0);
  if (known.length === 0) return true;
  const target = pick(known);
  const from = target.latest;
  const mark = type === 'Bundle' ? `update ${++sequence}` : consentMark();
  const body =
    type === 'Bundle'
      ? (() => {
          const bundle = structuredClone(target.base);
          bundle.id = target.id;
          bundle.entry[0].resource.title = mark;
          return bundle;
        })()
      : { ...consentFor(target.patientId, mark, randomInt(2) ? 'permit' : 'deny'), id: target.id, ...(randomInt(5) === 0 ? { status: 'inactive' } : {}) };
  candidate(target, from + 1, mark);
  const answer = await call('PUT', `/fhir/${type}/${target.id}`, body, { 'if-match': `W/"${from}"` });
  if (answer.status === 200) {
    if (answer.etag !== from + 1) finding(`${type}/${target.id}: update from version ${from} answered version ${answer.etag}`);
    acknowledge(type === 'Bundle' ? 'bundle-update' : 'consent-update', target, answer.etag, mark, answer.requestId);
    return true;
  }
  if (answer.status === 412) {
    counts.conflicts++;
    return read(target);
  }
  if (answer.status !== 0) unexpected(`${type} update`, answer);
  counts.inDoubt++;
  return answer.status !== 0;
}

async function createConsent() {
  const patient = pick(patients.filter((p) => p.id));
  if (!patient) return true;
  const mark = consentMark();
  const body = consentFor(patient.id, mark, randomInt(2) ? 'permit' : 'deny');
  const answer = await call('POST', '/fhir/Consent', body, { prefer: 'return=representation' });
  if (answer.status === 201) {
    const known = resource('Consent', answer.body.id, patient.id, body);
    candidate(known, 1, mark);
    acknowledge('consent-create', known, Number(answer.body.meta.versionId), markOf('Consent', answer.body), answer.requestId);
    return true;
  }
  if (answer.status !== 0) unexpected('Consent create', answer);
  counts.inDoubt++;
  doubtfulConsentCreates.set(mark, patient.id);
  return answer.status !== 0;
}

/** Reads the current version: it must hold content sent for it, and not be older than acknowledged. */
async function read(target) {
  const floor = target.acknowledgedLatest;
  const answer = await call('GET', `/fhir/${target.type}/${target.id}`);
  if (answer.status === 0) return false;
  counts.reads++;
  if (answer.status !== 200) {
    unexpected(`read ${target.type}`, answer);
    return true;
  }
  const versionId = Number(answer.body.meta.versionId);
  if (versionId < floor) finding(`${target.type}/${target.id}: read version ${versionId} after version ${floor} was acknowledged`);
  observe(target, versionId, markOf(target.type, answer.body), 'read');
  return true;
}

/** A resource's history: gapless, each version holding content sent for it. */
async function readHistory(target, where = 'history') {
  const answer = await call('GET', `/fhir/${target.type}/${target.id}/_history`);
  if (answer.status === 0) return false;
  counts.reads++;
  if (answer.status !== 200) {
    unexpected(`${where} ${target.type}`, answer);
    return true;
  }
  const versions = (answer.body.entry ?? []).map((e) => e.resource);
  const numbers = versions.map((v) => Number(v.meta.versionId));
  const expected = Array.from({ length: numbers[0] ?? 0 }, (_, i) => numbers[0] - i);
  if (JSON.stringify(numbers) !== JSON.stringify(expected)) finding(`${where}: ${target.type}/${target.id} history is not gapless: ${numbers.join(',')}`);
  for (const v of versions) observe(target, Number(v.meta.versionId), markOf(target.type, v), where);
  return true;
}

async function operation() {
  if (pendingPushes.length > 0 && randomInt(2) === 0) return push(pendingPushes.shift());
  const roll = randomInt(100);
  if (roll < 20 || resources.size === 0) return pushNew();
  if (roll < 42) return update('Bundle');
  if (roll < 55) return createConsent();
  if (roll < 75) return update('Consent');
  const known = [...resources.values()];
  return roll < 92 ? read(pick(known)) : readHistory(pick(known));
}

// ---- the node ----------------------------------------------------------------------------------

function startNode(env) {
  const child = spawn(process.execPath, [MAIN], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
  const ready = new Promise((resolve, reject) => {
    const onData = (d) => {
      output = (output + d.toString()).slice(-4000);
      if (/listening on/.test(output)) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    exited.then((how) => reject(new Error(`node exited (${how}) before listening: ${output}`)));
  });
  ready.catch(() => {});
  return { child, ready, exited, output: () => output };
}

function run(command, args, env) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.once('exit', (code) => resolve({ code, output: output.trim() }));
  });
}

// ---- final checks ------------------------------------------------------------------------------

async function finalChecks(database, nodeEnv) {
  const passed = [];
  const unanswered = pendingPushes.length;
  for (const item of pendingPushes.splice(0)) await push(item);
  if (pendingPushes.length > 0) finding(`${pendingPushes.length} pushes left in doubt by a crash could not be completed by retrying them`);
  else passed.push(`every push left in doubt completed by its retry (${unanswered} at the end)`);

  let mark = findings.length;
  for (const write of acknowledged) {
    const known = resources.get(`${write.type}/${write.id}`);
    const answer = await call('GET', `/fhir/${write.type}/${write.id}/_history/${write.versionId}`);
    counts.reads++;
    if (answer.status !== 200) finding(`acknowledged ${write.kind} of ${write.type}/${write.id} version ${write.versionId} is not readable (HTTP ${answer.status})`);
    else if (markOf(write.type, answer.body) !== write.mark || answer.body.meta.versionId !== String(write.versionId)) {
      finding(`acknowledged ${write.kind} of ${write.type}/${write.id} version ${write.versionId} reads back with other content`);
    } else observe(known, write.versionId, write.mark, 'final vread');
  }
  if (findings.length === mark) passed.push(`every acknowledged write readable with its content (${acknowledged.length})`);

  mark = findings.length;
  for (const known of resources.values()) {
    await readHistory(known, 'final history');
    await read(known);
    if (known.latest < known.acknowledgedLatest) finding(`${known.type}/${known.id}: current version ${known.latest} is older than acknowledged version ${known.acknowledgedLatest}`);
  }
  if (findings.length === mark) passed.push(`every history gapless, each version holding content sent for it, current at least the acknowledged (${resources.size} resources)`);

  // Consent lists (derived like the decision's input): known Consents at their newest versions,
  // or Consents whose create got no answer, whole.
  mark = findings.length;
  let completedDoubtful = 0;
  for (const patient of patients.filter((p) => p.id)) {
    const answer = await call('GET', `/fhir/Consent?patient=${patient.id}`);
    counts.reads++;
    if (answer.status !== 200) {
      finding(`Consents of a patient cannot be listed (HTTP ${answer.status})`);
      continue;
    }
    for (const entry of answer.body.entry ?? []) {
      const consent = entry.resource;
      const key = `Consent/${consent.id}`;
      let known = resources.get(key);
      if (!known) {
        const dateTime = markOf('Consent', consent);
        if (doubtfulConsentCreates.get(dateTime) !== patient.id || consent.meta.versionId !== '1') {
          finding(`${key} is listed but no acknowledged or unanswered create made it`);
          continue;
        }
        completedDoubtful++;
        known = resource('Consent', consent.id, patient.id, consent);
        candidate(known, 1, dateTime);
      }
      const versionId = Number(consent.meta.versionId);
      observe(known, versionId, markOf('Consent', consent), 'Consent list');
      if (versionId !== known.latest) finding(`${key} is listed at version ${versionId}, its newest is ${known.latest}`);
    }
  }
  if (findings.length === mark) passed.push(`Consent lists show whole Consents at their newest versions only (${completedDoubtful} unanswered creates found whole)`);

  // The decision: a clinician abroad gets a patient's summary exactly when the newest active
  // Consent (by dateTime, at its newest version) permits it (the node is opt-in).
  mark = findings.length;
  const consentsByPatient = new Map();
  for (const known of resources.values()) {
    if (known.type !== 'Consent') continue;
    const list = consentsByPatient.get(known.patientId) ?? [];
    list.push(known);
    consentsByPatient.set(known.patientId, list);
  }
  let decisions = 0;
  for (const patient of patients.filter((p) => p.id)) {
    const history = await Promise.all((consentsByPatient.get(patient.id) ?? []).map((k) => call('GET', `/fhir/Consent/${k.id}`)));
    const newest = history
      .filter((a) => a.status === 200 && a.body.status === 'active')
      .map((a) => a.body)
      .sort((a, b) => Date.parse(b.dateTime) - Date.parse(a.dateTime))[0];
    const expected = newest?.provision?.type === 'permit' ? 200 : 403;
    const clinician = await mintDemoToken({ audience: baseUrl, issuer: 'ncp', country: 'PT' });
    const answer = await call('GET', `/fhir/Patient/${patient.id}/$summary`, undefined, {}, clinician);
    decisions++;
    if (answer.status !== expected) finding(`Patient/${patient.id}: $summary for a clinician abroad answered ${answer.status}, the newest Consent says ${expected}`);
  }
  if (findings.length === mark) passed.push(`consent decisions follow the newest complete Consent versions (${decisions} patients)`);

  // Store level: what a crash left half-written is not readable.
  mark = findings.length;
  const summaries = new Set((await database.collection('summaries').find({}, { projection: { _id: 1 } }).toArray()).map((d) => d._id));
  const orphanBundles = new Set();
  for (const v of await database.collection('summary_versions').find({}, { projection: { summaryId: 1 } }).toArray()) {
    if (!summaries.has(v.summaryId)) orphanBundles.add(v.summaryId);
  }
  for (const id of orphanBundles) {
    const [current, first] = await Promise.all([call('GET', `/fhir/Bundle/${id}`), call('GET', `/fhir/Bundle/${id}/_history/1`)]);
    if (current.status !== 404 || first.status !== 404) finding(`Bundle/${id}: bytes of an unfinished push are readable (${current.status}, ${first.status})`);
  }
  const unfinishedConsents = await database.collection('consents').find({ versionId: 0 }).toArray();
  for (const record of unfinishedConsents) {
    const versions = await database.collection('consent_versions').countDocuments({ consentId: record._id });
    const answer = await call('GET', `/fhir/Consent/${record._id}`);
    if (versions === 0 && answer.status !== 404) finding(`Consent/${record._id}: a create stopped before version 1 is readable (HTTP ${answer.status})`);
  }
  if (findings.length === mark) passed.push(`nothing half-written readable (${orphanBundles.size} unfinished pushes, ${unfinishedConsents.length} unfinished Consent creates left behind, all 404)`);

  // Audit: every acknowledged write has its (successful) audit record, found by request id.
  mark = findings.length;
  const audited = new Set();
  for (const record of await database.collection('audit_events').find({}, { projection: { json: 1 } }).toArray()) {
    const event = JSON.parse(record.json);
    if (event.outcome !== '0') continue;
    const requestId = event.entity?.find((e) => e.type?.code === 'XrequestId')?.what?.identifier?.value;
    if (requestId) audited.add(requestId);
  }
  for (const write of acknowledged) if (!audited.has(write.requestId)) finding(`acknowledged ${write.kind} of ${write.type}/${write.id} has no audit record`);
  if (findings.length === mark) passed.push(`every acknowledged write audited (${acknowledged.length} of ${audited.size} successful records)`);

  const verify = await run(process.execPath, [CLI, 'audit', 'verify'], nodeEnv);
  if (verify.code !== 0 || verify.output === '') finding(`pontis audit verify failed (exit ${verify.code}): ${verify.output || 'no output'}`);
  else passed.push(`pontis audit verify: ${verify.output.split('\n').pop()}`);

  return passed;
}

// ---- main --------------------------------------------------------------------------------------

async function main() {
  const started = Date.now();
  const mongo = await startMongoTestServer();
  if (!mongo) throw new Error(NO_SERVER_HELP);
  const client = new MongoClient(mongo.uri);
  let node;
  let witness;
  try {
    const info = await client.db('admin').command({ buildInfo: 1 });
    const server = info.ferretdbVersion ? `FerretDB ${info.ferretdbVersion}` : `MongoDB ${info.version}`;
    const databaseName = `pontis_crash_${randomUUID().slice(0, 8)}`;
    const database = client.db(databaseName);
    const [port, witnessPort] = await Promise.all([freePort(), freePort()]);
    origin = `http://127.0.0.1:${port}`;
    baseUrl = `${origin}/fhir`;
    const witnessUrl = `http://127.0.0.1:${witnessPort}/fhir`;
    const nodeEnv = {
      PORT: String(port), HOST: '127.0.0.1', MONGODB_URI: mongo.uri, MONGODB_DATABASE: databaseName, PONTIS_BASE_URL: baseUrl,
      PONTIS_COUNTRY: 'AT', PONTIS_SEED: '0', LOG_LEVEL: 'error', PONTIS_LIMIT_PER_REQUESTER: '0', PONTIS_LIMIT_PER_PATIENT: '0',
      // The PT node witnesses AT's signed audit chain heads, often, so that kills fall between them.
      PONTIS_PEER_URLS: `PT=${witnessUrl}`, PONTIS_AUDIT_CHECKPOINT_RECORDS: '25', PONTIS_AUDIT_CHECKPOINT_MS: '500',
    };
    // The witness is not killed: it runs on its own embedded store for the whole run.
    witness = startNode({
      PORT: String(witnessPort), HOST: '127.0.0.1', MONGODB_URI: '', PONTIS_BASE_URL: witnessUrl, PONTIS_COUNTRY: 'PT', PONTIS_SEED: '0',
      LOG_LEVEL: 'error', PONTIS_PEER_URLS: `AT=${baseUrl}`,
    });
    await witness.ready;
    console.log(`crash test: ${CYCLES} SIGKILL cycles, ${WORKERS} clients, node up ${MIN_MS}-${MAX_MS} ms per cycle; ${server}; a PT node witnessing audit heads; ${cpus().length} cores`);

    let killedStarting = 0;
    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      node = startNode(nodeEnv);
      // One cycle in six dies while starting (indexes, upgrades, seed-free start-up).
      if (randomInt(6) === 0) {
        await sleep(randomInt(20, 400));
        node.child.kill('SIGKILL');
        await node.exited;
        killedStarting++;
        continue;
      }
      await node.ready;
      let alive = true;
      const clients = Array.from({ length: WORKERS }, async () => {
        while (alive) if (!(await operation())) break;
      });
      await sleep(randomInt(MIN_MS, MAX_MS));
      node.child.kill('SIGKILL');
      alive = false;
      await node.exited;
      await Promise.all(clients);
      process.stdout.write(`  cycle ${cycle}: killed; acknowledged so far ${acknowledged.length}, in doubt ${counts.inDoubt}\n`);
    }

    node = startNode(nodeEnv);
    await node.ready;
    const passed = await finalChecks(database, nodeEnv);
    const a = counts.acknowledged;
    console.log('\ncrash test summary');
    console.log(`  kill cycles: ${CYCLES} (${killedStarting} during start-up), ${((Date.now() - started) / 1000).toFixed(1)} s`);
    console.log(`  writes acknowledged: ${acknowledged.length} (pushes ${a.push}, Bundle updates ${a['bundle-update']}, Consent creates ${a['consent-create']}, Consent updates ${a['consent-update']})`);
    console.log(`  reads checked: ${counts.reads}; 412 conflicts: ${counts.conflicts}; writes left in doubt by a kill: ${counts.inDoubt}; unexpected statuses: ${counts.unexpected}`);
    console.log(`  resources: ${[...resources.values()].filter((r) => r.type === 'Bundle').length} Bundles, ${[...resources.values()].filter((r) => r.type === 'Consent').length} Consents, ${patients.length} patients`);
    for (const p of passed) console.log(`  passed: ${p}`);
    if (findings.length > 0) {
      console.log(`\nFINDINGS (${findings.length}):`);
      for (const f of findings) console.log(`  - ${f}`);
      process.exitCode = 1;
    } else {
      console.log('crash test passed: no acknowledged write lost, nothing half-written readable');
    }
  } finally {
    for (const running of [node, witness]) {
      if (running && running.child.exitCode === null && running.child.signalCode === null) {
        running.child.kill('SIGTERM');
        await running.exited;
      }
    }
    await client.close();
    await stopMongoTestServer(mongo);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
