import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { tokenUseId } from '../../src/auth/token-verifier.js';
import { CLAIMS } from '../../src/repositories/claims.js';
import type { DocumentDatabase } from '../../src/repositories/document-collection.js';
import { storeOn } from '../../src/repositories/store.js';
import { TokenUseRepository } from '../../src/repositories/token-use-repository.js';
import { backends } from '../support/stores.js';

const OPTIONS = { currentSummaryTtlMs: 0, documentCacheBytes: 0 };
const HOUR = 3_600_000;

/** Patient identifiers' holders and write tokens' uses share one collection of claims. */
describe.each(backends)('claims on the $name', (backend) => {
  let database: DocumentDatabase;
  let cleanup: () => Promise<void>;

  beforeEach(async () => {
    ({ database, cleanup } = await backend.open());
  });
  afterEach(async () => {
    await cleanup();
  });

  it("keeps the claims of a store of an earlier release: identifiers keep their holders, tokens used stay used; moved once", async () => {
    await database.collection<{ _id: string; patientId: string }>('patient_identifiers').insertOne({ _id: 'urn:test|OLD-1', patientId: 'patient-old' });
    const uses = database.collection<{ _id: string; expiresAt: Date }>('token_uses');
    await uses.insertOne({ _id: tokenUseId('iss', 'used'), expiresAt: new Date(Date.now() + HOUR) });
    await uses.insertOne({ _id: tokenUseId('iss', 'expired'), expiresAt: new Date(Date.now() - HOUR) });
    const store = await storeOn(database, OPTIONS);
    expect(await store.patients.resolve(['urn:test|OLD-1'])).toEqual({ patientId: 'patient-old', created: false });
    expect(await store.tokenUses.firstUse('iss', 'used', new Date(Date.now() + HOUR))).toBe(false);
    expect(await store.tokenUses.firstUse('iss', 'fresh', new Date(Date.now() + HOUR))).toBe(true);
    // Expired uses are not moved (the verifier refuses an expired token before its claim).
    expect(await database.collection(CLAIMS).count({ _id: tokenUseId('iss', 'expired') })).toBe(0);
    // A later start does not move them again.
    await database.collection<{ _id: string; patientId: string }>('patient_identifiers').insertOne({ _id: 'urn:test|OLD-2', patientId: 'patient-late' });
    await storeOn(database, OPTIONS);
    expect(await database.collection(CLAIMS).count({ _id: 'urn:test|OLD-2' })).toBe(0);
  });

  it("sweeps expired token uses and leaves identifier claims, which never expire", async () => {
    const store = await storeOn(database, OPTIONS);
    const { patientId } = await store.patients.resolve(['urn:test|KEPT-1']);
    const claims = database.collection<{ _id: string; expiresAt: Date }>(CLAIMS);
    await claims.insertOne({ _id: tokenUseId('iss', 'expired'), expiresAt: new Date(Date.now() - HOUR) });
    const uses = new TokenUseRepository(database);
    expect(await uses.firstUse('iss', 'new', new Date(Date.now() + HOUR))).toBe(true);
    // What the repository's timer does once a minute.
    await uses.sweep();
    uses.close();
    expect(await claims.count({ _id: tokenUseId('iss', 'expired') })).toBe(0);
    expect(await database.collection<{ _id: string; patientId: string }>(CLAIMS).findOne({ _id: 'urn:test|KEPT-1' })).toEqual({ _id: 'urn:test|KEPT-1', patientId });
    expect(await claims.count({ _id: tokenUseId('iss', 'new') })).toBe(1);
  });
});
