import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConsentRepository, type ConsentVersion } from '../../src/repositories/consent-repository.js';
import { DocumentCache } from '../../src/repositories/document-cache.js';
import { PatientChanges } from '../../src/repositories/patient-changes.js';
import { SummaryRepository, type SummaryRecord } from '../../src/repositories/summary-repository.js';
import { counting, type CountingDatabase } from '../support/counting-database.js';
import { backends } from '../support/stores.js';

/** Version `versionId` of Consent `id` of patient `patientId`, permitting or denying. */
function version(id: string, patientId: string, type: 'permit' | 'deny', versionId = 1, status = 'active'): ConsentVersion {
  return {
    _id: `${id}@${versionId}`,
    consentId: id,
    patientId,
    versionId,
    status,
    dateTimeMs: Date.parse('2025-01-01T00:00:00Z'),
    lastUpdated: new Date(),
    json: JSON.stringify({ resourceType: 'Consent', id, status, provision: { type } }),
  };
}

const typesOf = async (repository: ConsentRepository, patientId: string) => (await repository.rulesForPatient(patientId)).map((r) => `${r.id}:${r.provision.type}`).sort();

/**
 * The consent decision finds a patient's Consents by `_id` only (FerretDB 1.x scans for any other
 * filter): through the patient's change entries `<patientId>#<n>`, each instance probing the
 * position after the last it saw.
 */
describe.each(backends)('Consent changes per patient on the $name', (backend) => {
  let database: CountingDatabase;
  let cleanup: () => Promise<void>;
  /** Two instances of the node on one database. */
  let one: ConsentRepository;
  let two: ConsentRepository;

  beforeAll(async () => {
    const counted = counting(backend);
    ({ cleanup } = await counted.open());
    database = counted.last!;
    one = new ConsentRepository(database);
    two = new ConsentRepository(database);
    await one.ensureIndexes();
    await two.ensureIndexes();
  });
  afterAll(() => cleanup());

  it('create a Consent in three round trips: record and change entry together, the version (the claim), the hint', async () => {
    database.reset();
    await one.create(version('c-new', 'p-new', 'permit'));
    expect(database.waits).toEqual([['consents.insertOne', 'patient_changes.insertOne'], ['consent_versions.insertOne'], ['consents.updateOne']]);
    expect((await two.current('c-new'))?.versionId).toBe(1);
    expect((await two.history('c-new')).map((v) => v.versionId)).toEqual([1]);
  });

  it("let the decision right after a patient's id is minted probe nothing, in that turn of the event loop only", async () => {
    const changes = new PatientChanges(database);
    const consents = new ConsentRepository(database, changes);
    database.reset();
    changes.minted('p-minted');
    expect(await consents.rulesForPatient('p-minted')).toEqual([]);
    expect(database.operations).toEqual([]);
    // Once: the next read probes, as every read does.
    expect(await consents.rulesForPatient('p-minted')).toEqual([]);
    expect(database.operations).toEqual(['patient_changes.findOne']);
    // And only within the turn: a mark not used then is forgotten, so a Consent stored later is seen.
    changes.minted('p-later');
    await new Promise((resolve) => setImmediate(resolve));
    await one.create(version('c-later', 'p-later', 'deny'));
    expect((await consents.rulesForPatient('p-later')).map((r) => r.id)).toEqual(['c-later']);
  });

  it('cost a decision one look-up by _id once the instance has read the patient', async () => {
    await one.create(version('c1', 'p1', 'permit'));
    expect(await typesOf(one, 'p1')).toEqual(['c1:permit']);
    database.operations = [];
    expect(await typesOf(one, 'p1')).toEqual(['c1:permit']);
    expect(database.operations).toEqual(['patient_changes.findOne']);
    // A patient without Consents, or nobody: the same one look-up.
    database.operations = [];
    expect(await typesOf(one, 'nobody')).toEqual([]);
    expect(database.operations).toEqual(['patient_changes.findOne']);
  });

  it("let every instance see another instance's write at its next decision", async () => {
    await one.create(version('c2', 'p2', 'permit'));
    expect(await typesOf(two, 'p2')).toEqual(['c2:permit']);
    expect(await one.appendVersion(version('c2', 'p2', 'deny', 2))).toBe(true);
    expect(await typesOf(two, 'p2')).toEqual(['c2:deny']);
    await one.create(version('c3', 'p2', 'permit'));
    expect(await one.appendVersion(version('c3', 'p2', 'permit', 2, 'inactive'))).toBe(true);
    expect(await typesOf(two, 'p2')).toEqual(['c2:deny']);
    expect(await typesOf(one, 'p2')).toEqual(['c2:deny']);
  });

  it('give each of racing writers at two instances its own position, and the decision every version', async () => {
    await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? one : two).create(version(`r${i}`, 'p3', i % 3 === 0 ? 'deny' : 'permit'))));
    const expected = Array.from({ length: 6 }, (_, i) => `r${i}:${i % 3 === 0 ? 'deny' : 'permit'}`).sort();
    expect(await typesOf(one, 'p3')).toEqual(expected);
    expect(await typesOf(two, 'p3')).toEqual(expected);
    const entries = await database.collection<{ _id: string }>('patient_changes').find({ patientId: 'p3' }, { sort: { _id: 1 } });
    expect(entries.map((e) => e._id)).toEqual(Array.from({ length: 6 }, (_, i) => `p3#${i + 1}`));
  });

  it('ignore a change whose version is not stored (writer stopped between the inserts) until it is', async () => {
    await one.create(version('c4', 'p4', 'permit'));
    expect(await typesOf(two, 'p4')).toEqual(['c4:permit']);
    // The entry of version 2, written; its writer stopped before the version itself.
    await database.collection<{ _id: string; kind: string }>('patient_changes').insertOne({ _id: 'p4#2', patientId: 'p4', kind: 'consent', consentId: 'c4', versionId: 2 } as { _id: string; kind: string });
    expect(await typesOf(two, 'p4')).toEqual(['c4:permit']);
    expect((await two.current('c4'))?.versionId).toBe(1);
    // The next writer of version 2 completes it (its own entry after the stopped one's).
    expect(await one.appendVersion(version('c4', 'p4', 'deny', 2))).toBe(true);
    expect(await typesOf(two, 'p4')).toEqual(['c4:deny']);
    expect(await typesOf(one, 'p4')).toEqual(['c4:deny']);
  });

  it('give versions stored before change entries existed their entries when the store opens', async () => {
    const versions = database.collection<ConsentVersion>('consent_versions');
    await versions.insertOne(version('c5', 'p5', 'permit'));
    await versions.insertOne(version('c5', 'p5', 'deny', 2));
    await versions.insertOne(version('c6', 'p5', 'permit'));
    const document: SummaryRecord = { _id: 's5', identifierKey: 'urn:test|s5', patientId: 'p5', timestampMs: 1, versionId: 2, lastUpdated: new Date(), contentHash: 'h' };
    await database.collection<SummaryRecord>('summaries').insertOne(document);
    // As the store of an earlier release: no entries, no marker; but p6's first change was entered.
    await database.collection('patient_changes').deleteMany({});
    await database.collection<{ _id: string; kind: string }>('patient_changes').insertOne({ _id: 'p6#1', patientId: 'p6', kind: 'consent', consentId: 'c7', versionId: 1 } as { _id: string; kind: string });
    await versions.insertOne(version('c7', 'p6', 'permit'));
    await versions.insertOne(version('c7', 'p6', 'deny', 2));
    const upgraded = new ConsentRepository(database);
    await upgraded.ensureIndexes();
    expect(await typesOf(upgraded, 'p5')).toEqual(['c5:deny', 'c6:permit']);
    expect(await typesOf(upgraded, 'p6')).toEqual(['c7:deny']);
    expect(await database.collection('patient_changes').findOne({ _id: 'p6#2' })).toMatchObject({ consentId: 'c7', versionId: 2 });
    expect(await new SummaryRepository(database, new DocumentCache(1024), 0).currentForPatient('p5')).toMatchObject({ summaryId: 's5', versionId: 2 });
    // Patients stored by this release before are complete too, and opening again adds nothing.
    expect(await typesOf(upgraded, 'p2')).toEqual(['c2:deny']);
    const entries = await database.collection('patient_changes').count({});
    await new ConsentRepository(database).ensureIndexes();
    expect(await database.collection('patient_changes').count({})).toBe(entries);
  });
});
