import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DocumentDatabase } from '../../src/repositories/document-collection.js';
import { counting, type CountingDatabase } from '../support/counting-database.js';
import { InterceptingDatabase } from '../support/intercepting-database.js';
import { backends, type Backend } from '../support/stores.js';
import { bodyOf, buildTestNode, documentFor, hospitalToken, send, type Json, type TestNode } from '../support/test-node.js';

/**
 * A store whose first claim of a push answers only once the push's second claim has been sent
 * (or after 1 s): a push that awaited its token claim first would take the second and show the
 * claim in a wait of its own.
 */
class ClaimsAnsweredTogether extends InterceptingDatabase {
  private identifierClaimSent!: () => void;
  private identifierClaim = new Promise<void>((resolve) => (this.identifierClaimSent = resolve));
  private claimsSent = 0;
  constructor(inner: DocumentDatabase) {
    super(inner, (operation, call) => {
      if (operation !== 'claims.insertOne') return call();
      if (++this.claimsSent > 1) {
        this.identifierClaimSent();
        return call();
      }
      const answer = call() as Promise<unknown>;
      // A replay's claim is refused: settled below, not left unhandled meanwhile.
      answer.catch(() => undefined);
      return Promise.race([this.identifierClaim, new Promise((resolve) => setTimeout(resolve, 1000))]).then(() => answer);
    });
  }
  /** The next push's claims are answered together again. */
  rearm(): void {
    this.identifierClaim = new Promise<void>((resolve) => (this.identifierClaimSent = resolve));
    this.claimsSent = 0;
  }
}

/**
 * `POST /fhir/Bundle` claims its write token itself (`claimsTokenItself`): the claim is sent in
 * the same turn as the identifier's claim (one insert into `claims` on a MongoDB-wire server), so
 * a new patient's push costs 4 round trips; a replay is still a 401 that stores nothing.
 */
describe.each(backends)('the token claim of a push on the $name', (backend) => {
  let node: TestNode;
  let database: CountingDatabase;
  let latched: ClaimsAnsweredTogether;

  beforeAll(async () => {
    const latching: Backend = {
      name: backend.name,
      async open() {
        const opened = await backend.open();
        latched = new ClaimsAnsweredTogether(opened.database);
        return { database: latched, cleanup: opened.cleanup };
      },
    };
    const counted = counting(latching);
    node = await buildTestNode(counted);
    database = counted.last!;
  });
  afterAll(async () => {
    await node.cleanup();
  });

  it("shares its round trip with the identifier's claim: a new patient's document in 4 round trips", async () => {
    await node.store.requestCounts.reconcile();
    latched.rearm();
    database.reset();
    const started = Date.now();
    expect((await send(node.server, 'POST', '/fhir/Bundle', documentFor('TC-1', '2026-01-02T00:00:00Z'))).statusCode).toBe(201);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(database.waits).toEqual([
      ['claims.insertOne', 'claims.insertOne'],
      ['summaries.insertOne'],
      ['patients.insertOne'],
      ['audit_events.insertMany'],
    ]);
  });

  it('refuses a replayed token with 401 and stores nothing of its document', async () => {
    const token = await hospitalToken(node.config.baseUrl);
    const headers = { authorization: `Bearer ${token}` };
    latched.rearm();
    expect((await send(node.server, 'POST', '/fhir/Bundle', documentFor('TC-2', '2026-01-02T00:00:00Z'), headers)).statusCode).toBe(201);
    const documents = await node.store.database.collection('summaries').count({});
    for (const replayed of [documentFor('TC-3', '2026-01-02T00:00:00Z'), { ...documentFor('TC-2', '2026-01-03T00:00:00Z'), language: 'de' }, 'not json']) {
      latched.rearm();
      const refused = await send(node.server, 'POST', '/fhir/Bundle', replayed, headers);
      expect(refused.statusCode).toBe(401);
      expect(refused.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
      expect(bodyOf<Json>(refused)['issue'][0].diagnostics).toMatch(/already used \(jti\)/);
    }
    expect(await node.store.database.collection('summaries').count({})).toBe(documents);
    expect(await node.store.database.collection('patients').count({ hasSummary: true })).toBe(await node.store.database.collection('patients').count({}));
  });

  it('claims the token before linking several identifiers to one patient', async () => {
    const token = await hospitalToken(node.config.baseUrl);
    const headers = { authorization: `Bearer ${token}` };
    latched.rearm();
    expect((await send(node.server, 'POST', '/fhir/Bundle', documentFor('TC-4', '2026-01-02T00:00:00Z'), headers)).statusCode).toBe(201);
    const linking = documentFor('TC-5', '2026-01-02T00:00:00Z');
    const patient = (linking['entry'] as Json[]).find((e) => e['resource']['resourceType'] === 'Patient')!['resource'];
    patient['identifier'] = [...patient['identifier'], { system: 'urn:test:national', value: 'TC-4' }];
    latched.rearm();
    database.reset();
    expect((await send(node.server, 'POST', '/fhir/Bundle', linking, headers)).statusCode).toBe(401);
    // The token's claim alone: no identifier is claimed for a replay.
    expect(database.operations.filter((o) => o === 'claims.insertOne')).toHaveLength(1);
    expect(await node.store.database.collection('claims').count({ _id: 'urn:test:national|TC-4' })).toBe(1);
    expect(await node.store.database.collection('claims').count({ _id: 'urn:test:national|TC-5' })).toBe(0);
  });
});
