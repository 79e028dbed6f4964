import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { DocumentDatabase } from '../../src/repositories/document-collection.js';
import { storeOn, type Store } from '../../src/repositories/store.js';
import { SummaryRepository, type SummaryRecord } from '../../src/repositories/summary-repository.js';
import type { PatientFacts } from '../../src/documents/patient-facts.js';
import { backends } from '../support/stores.js';

const OPTIONS = { currentSummaryTtlMs: 0, documentCacheBytes: 0 };

const facts = (value: string): PatientFacts => ({
  family: ['doe'],
  given: ['jane'],
  birthDate: '1980-01-01',
  gender: 'female',
  identifierKeys: [`urn:test|${value}`],
  identifierSystems: ['urn:test'],
  identifierValues: [value],
});

const record = (id: string, patientId: string, timestampMs: number): SummaryRecord => ({
  _id: id,
  identifierKey: `urn:doc|${id}`,
  patientId,
  timestampMs,
  versionId: 1,
  lastUpdated: new Date(timestampMs),
  contentHash: id,
});

/**
 * A new patient's first document is listed in the patient's record, stored by the one insert
 * that stores the patient, not by a change entry of its own: every instance finds it there.
 */
describe.each(backends)("a new patient's first document on the $name", (backend) => {
  let database: DocumentDatabase;
  let cleanup: () => Promise<void>;
  let writer: Store;

  beforeEach(async () => {
    ({ database, cleanup } = await backend.open());
    writer = await storeOn(database, OPTIONS);
  });
  afterEach(async () => {
    await cleanup();
  });

  /** A push's storage steps after the patient's claim: the document, then the patient's record listing it (or, when not new, the change entry). */
  async function pushed(store: Store, document: SummaryRecord, created: boolean): Promise<boolean> {
    await store.summaries.create(document, '{}', 'test');
    const listed = await store.patients.recordDocument(document.patientId, document.timestampMs, facts('F-1'), '{}', created, SummaryRepository.firstDocumentOf(document));
    if (listed) store.summaries.listedWithPatient(document);
    else await store.summaries.list(document);
    return listed;
  }

  it('is found by another instance from the patient record, with the documents entered since', async () => {
    const { patientId, created } = await writer.patients.resolve(['urn:test|F-1']);
    expect(created).toBe(true);
    expect(await pushed(writer, record('d1', patientId, 1), true)).toBe(true);
    expect(await database.collection('patient_changes').count({ patientId })).toBe(0);
    expect((await writer.summaries.currentForPatient(patientId))?.summaryId).toBe('d1');
    const reader = await storeOn(database, OPTIONS);
    expect((await reader.summaries.currentForPatient(patientId))?.summaryId).toBe('d1');
    // A newer document of the known patient is a change entry; an older one does not replace it.
    expect(await pushed(writer, record('d2', patientId, 2), false)).toBe(false);
    expect((await reader.summaries.currentForPatient(patientId))?.summaryId).toBe('d2');
    expect(await pushed(writer, record('d0', patientId, 0), false)).toBe(false);
    expect((await reader.summaries.currentForPatient(patientId))?.summaryId).toBe('d2');
    // A retry of the first push finds it listed: nothing is entered twice.
    const entries = await database.collection('patient_changes').count({ patientId });
    await reader.summaries.ensureListed(record('d1', patientId, 1));
    expect(await database.collection('patient_changes').count({ patientId })).toBe(entries);
  });

  it('is entered among the changes when a racing push of the patient stored the record first', async () => {
    const { patientId } = await writer.patients.resolve(['urn:test|F-1']);
    const racing = await storeOn(database, OPTIONS);
    // The other push joined the patient (its claim refused) and stored its record first.
    expect((await racing.patients.resolve(['urn:test|F-1'])).created).toBe(false);
    expect(await pushed(racing, record('r1', patientId, 5), false)).toBe(false);
    expect(await pushed(writer, record('d1', patientId, 9), true)).toBe(false);
    const entries = await database.collection<{ _id: string; summaryId?: string }>('patient_changes').find({ patientId }, { sort: { _id: 1 } });
    expect(entries.map((e) => e.summaryId)).toEqual(['r1', 'd1']);
    const reader = await storeOn(database, OPTIONS);
    expect((await reader.summaries.currentForPatient(patientId))?.summaryId).toBe('d1');
  });

  it('is not entered again by the upgrade that gives documents of earlier releases their entries', async () => {
    const { patientId } = await writer.patients.resolve(['urn:test|F-1']);
    await pushed(writer, record('d1', patientId, 1), true);
    // A store whose upgrade marker is missing runs the upgrade again at its next opening.
    await database.collection('patient_changes').deleteMany({ _id: 'changes-complete' });
    await storeOn(database, OPTIONS);
    expect(await database.collection('patient_changes').count({ patientId })).toBe(0);
    expect((await (await storeOn(database, OPTIONS)).summaries.currentForPatient(patientId))?.summaryId).toBe('d1');
  });
});
