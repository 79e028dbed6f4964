import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { freePort, startNode, type NodeProcess } from '../support/node-process.js';
import { backends } from '../support/stores.js';
import { buildTestNode, documentFor, hospitalToken, privacyConsent, type Json, type TestNode } from '../support/test-node.js';

/**
 * Racing If-Match writers on one Bundle and on one Consent: each round, several clients update
 * from the same version at once. Exactly one may win per version, the others get a 412
 * OperationOutcome, and the history is gapless with each version holding its winner's content.
 * On one instance (both stores) and on two node processes sharing one FerretDB database.
 */

const ROUNDS = 5;
const WRITERS = 6;
const NO_BUDGET = { PONTIS_LIMIT_PER_PATIENT: '0', PONTIS_LIMIT_PER_REQUESTER: '0' };

interface Answer {
  status: number;
  body: Json;
}

/** Sends FHIR JSON to "the node", whichever instance `writer` goes to. */
type Send = (writer: number, method: string, path: string, body?: Json, headers?: Record<string, string>) => Promise<Answer>;

/** A resource type's way of making a distinct new version from the current one. */
interface Subject {
  type: 'Bundle' | 'Consent';
  /** The content writer `writer` sends in round `round`, and the mark that tells it apart. */
  next(current: Json, round: number, writer: number): { body: Json; mark: string };
  markOf(resource: Json): string;
}

const bundleSubject: Subject = {
  type: 'Bundle',
  next(current, round, writer) {
    const mark = `round ${round} writer ${writer}`;
    const body = structuredClone(current);
    body['entry'][0].resource.title = mark;
    return { body, mark };
  },
  markOf: (bundle) => String(bundle['entry'][0].resource.title),
};

const consentSubject: Subject = {
  type: 'Consent',
  next(current, round, writer) {
    const mark = `2026-01-01T${String(round).padStart(2, '0')}:${String(writer).padStart(2, '0')}:00Z`;
    return { body: { ...current, dateTime: mark, provision: { type: writer % 2 ? 'deny' : 'permit' } }, mark };
  },
  markOf: (consent) => String(consent['dateTime']).replace('.000', ''),
};

/** Creates a Bundle or a Consent of a fresh patient and returns it as stored. */
async function created(send: Send, subject: Subject): Promise<Json> {
  const national = `CW-${randomUUID().slice(0, 8)}`;
  const pushed = await send(0, 'POST', '/fhir/Bundle', documentFor(national, '2024-01-01T10:00:00Z'), { prefer: 'return=representation' });
  expect(pushed.status).toBe(201);
  if (subject.type === 'Bundle') return pushed.body;
  const search = await send(0, 'GET', `/fhir/Patient?identifier=${encodeURIComponent(`urn:test:national|${national}`)}`);
  const patientId = search.body['entry'][0].resource.id as string;
  const consent = await send(0, 'POST', '/fhir/Consent', privacyConsent(patientId, { type: 'permit' }), { prefer: 'return=representation' });
  expect(consent.status).toBe(201);
  return consent.body;
}

/** Runs the rounds of racing writers and checks the outcome; spreads writers over instances by index. */
async function race(send: Send, subject: Subject): Promise<void> {
  let current = await created(send, subject);
  const id = current['id'] as string;
  const winners: string[] = [subject.markOf(current)];
  for (let round = 1; round <= ROUNDS; round++) {
    const attempts = Array.from({ length: WRITERS }, (_, writer) => subject.next(current, round, writer));
    const answers = await Promise.all(
      attempts.map(({ body }, writer) => send(writer, 'PUT', `/fhir/${subject.type}/${id}`, body, { 'if-match': `W/"${round}"` })),
    );
    const won = answers.flatMap((a, writer) => (a.status === 200 ? [writer] : []));
    expect(won).toHaveLength(1);
    for (const loser of answers.filter((a) => a.status !== 200)) {
      expect(loser.status).toBe(412);
      expect(loser.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'conflict' }] });
    }
    winners.unshift(attempts[won[0]!]!.mark);
    const read = await send(round, 'GET', `/fhir/${subject.type}/${id}`);
    expect(read.body['meta'].versionId).toBe(String(round + 1));
    expect(subject.markOf(read.body)).toBe(winners[0]);
    current = read.body;
  }
  const history = await send(1, 'GET', `/fhir/${subject.type}/${id}/_history`);
  expect(history.status).toBe(200);
  const versions = (history.body['entry'] as Json[]).map((e) => e['resource'] as Json);
  expect(versions.map((v) => v['meta'].versionId)).toEqual(Array.from({ length: ROUNDS + 1 }, (_, i) => String(ROUNDS + 1 - i)));
  expect(versions.map((v) => subject.markOf(v))).toEqual(winners);
}

describe.each(backends)('concurrent If-Match writers on one instance ($name)', (backend) => {
  let node: TestNode;
  let send: Send;
  beforeAll(async () => {
    node = await buildTestNode(backend, NO_BUDGET);
    send = async (_writer, method, url, body, headers = {}) => {
      const response = await node.server.inject({
        method,
        url,
        ...(body ? { payload: JSON.stringify(body) } : {}),
        headers: { 'content-type': 'application/fhir+json', ...headers },
      });
      return { status: response.statusCode, body: JSON.parse(response.payload || '{}') as Json };
    };
  });
  afterAll(() => node?.cleanup());

  it('on one Bundle: one winner per version, the others 412, history gapless', () => race(send, bundleSubject));
  it('on one Consent: one winner per version, the others 412, history gapless', () => race(send, consentSubject));
});

describe('concurrent If-Match writers on two node processes sharing one FerretDB database', () => {
  const baseUrl = 'http://pontis.test/fhir';
  let nodes: NodeProcess[] = [];
  let urls: string[] = [];
  let send: Send;
  beforeAll(async () => {
    const uri = process.env['PONTIS_TEST_MONGODB_URI'];
    if (!uri) throw new Error(process.env['PONTIS_TEST_MONGODB_MISSING'] ?? 'no MongoDB test server');
    const ports = await Promise.all([freePort(), freePort()]);
    const database = `pontis_race_${randomUUID().slice(0, 8)}`;
    // Two instances of one node, as behind a load balancer: one base URL, one database.
    const env = { ...NO_BUDGET, MONGODB_URI: uri, MONGODB_DATABASE: database, PONTIS_BASE_URL: baseUrl, PONTIS_SEED: '0', HOST: '127.0.0.1', PONTIS_COUNTRY: 'AT' };
    nodes = await Promise.all(ports.map((port) => startNode({ ...env, PORT: String(port) })));
    urls = ports.map((port) => `http://127.0.0.1:${port}`);
    send = async (writer, method, path, body, headers = {}) => {
      const response = await fetch(`${urls[writer % urls.length]}${path}`, {
        method,
        headers: { 'content-type': 'application/fhir+json', authorization: `Bearer ${await hospitalToken(baseUrl)}`, ...headers },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      const text = await response.text();
      return { status: response.status, body: JSON.parse(text || '{}') as Json };
    };
  }, 60_000);
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  });

  it('on one Bundle: one winner per version across both, the others 412, history gapless', () => race(send, bundleSubject), 60_000);
  it('on one Consent: one winner per version across both, the others 412, history gapless', () => race(send, consentSubject), 60_000);
});
