import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { patientFacts } from '../../src/documents/patient-facts.js';
import type { DocumentDatabase } from '../../src/repositories/document-collection.js';
import { PatientRepository, searchKeysOf, type PatientCriteria, type PatientRecord } from '../../src/repositories/patient-repository.js';
import { backends } from '../support/stores.js';

// The demographic Patient search finds patients through equality keys (every prefix of their
// names, their birth date's year, month and day) so that an index answers it on every store; these
// tests pin that it still means what FHIR says: "starts with", case- and accent-insensitive.

interface Person {
  family: string;
  given: string;
  birthDate: string;
  gender: 'female' | 'male';
}

describe.each(backends)('Patient search by demographics on the $name', (backend) => {
  let database: DocumentDatabase;
  let cleanup: () => Promise<void>;
  let patients: PatientRepository;
  // Each test uses its own identifier value so that its patients can be told apart.
  const store = async (person: Person, value: string, timestamp = '2025-01-01T00:00:00Z'): Promise<string> => {
    const resource = { resourceType: 'Patient', identifier: [{ system: 'urn:test:national', value }], name: [{ family: person.family, given: [person.given] }], birthDate: person.birthDate, gender: person.gender };
    const facts = patientFacts(resource);
    const { patientId, created } = await patients.resolve(facts.identifierKeys);
    await patients.recordDocument(patientId, Date.parse(timestamp), facts, JSON.stringify(resource), created);
    return patientId;
  };
  const found = async (criteria: PatientCriteria): Promise<string[]> => {
    const { total, patients: page } = await patients.search(criteria, 0, 100);
    expect(page).toHaveLength(total);
    return page.map((p) => p._id).sort();
  };

  beforeAll(async () => {
    ({ database, cleanup } = await backend.open());
    patients = new PatientRepository(database);
    await patients.ensureIndexes();
  });
  afterAll(async () => {
    await cleanup?.();
  });

  it('finds by the start of a family or given name, whatever its case and accents', async () => {
    const ines = await store({ family: 'Gonçalves', given: 'Inês', birthDate: '1950-03-04', gender: 'female' }, 'S1-a');
    const gomes = await store({ family: 'Gomes', given: 'Inês', birthDate: '1950-03-04', gender: 'female' }, 'S1-b');
    expect(await found({ familyPrefix: 'go', identifierSystem: 'urn:test:national', birthDate: { op: 'eq', value: '1950-03-04' } })).toEqual([ines, gomes].sort());
    expect(await found({ familyPrefix: 'gon' })).toEqual([ines]);
    expect(await found({ familyPrefix: 'goncalves' })).toEqual([ines]);
    expect(await found({ familyPrefix: 'goncalvesa' })).toEqual([]);
    expect(await found({ familyPrefix: 'oncalves' })).toEqual([]);
    expect(await found({ givenPrefix: 'ines', familyPrefix: 'gome' })).toEqual([gomes]);
    expect(await found({ givenPrefix: 'inesa' })).toEqual([]);
  });

  it('finds by a birth year, month or day, and by a range', async () => {
    const march = await store({ family: 'Birthwaite', given: 'Ada', birthDate: '1961-03-04', gender: 'female' }, 'S2-a');
    const april = await store({ family: 'Birthwaite', given: 'Bea', birthDate: '1961-04-30', gender: 'female' }, 'S2-b');
    const year = await store({ family: 'Birthwaite', given: 'Cy', birthDate: '1962', gender: 'male' }, 'S2-c');
    const birth = (op: 'eq' | 'gt' | 'ge' | 'lt' | 'le', value: string) => found({ familyPrefix: 'birthwaite', birthDate: { op, value } });
    expect(await birth('eq', '1961')).toEqual([march, april].sort());
    expect(await birth('eq', '1961-03')).toEqual([march]);
    expect(await birth('eq', '1961-04-30')).toEqual([april]);
    expect(await birth('eq', '1961-04-29')).toEqual([]);
    expect(await birth('eq', '1962')).toEqual([year]);
    expect(await birth('eq', '1962-01')).toEqual([]);
    expect(await birth('ge', '1961-04')).toEqual([april, year].sort());
    expect(await birth('lt', '1961-04')).toEqual([march]);
    expect(await found({ familyPrefix: 'birthwaite', gender: 'male' })).toEqual([year]);
  });

  it('tells apart long names that share their first characters beyond the indexed prefixes', async () => {
    const common = 'abcdefghijklmnopqrstuvwxyz'; // longer than the prefixes kept as keys
    const first = await store({ family: `${common}-first`, given: 'Long', birthDate: '1970', gender: 'male' }, 'S3-a');
    const second = await store({ family: `${common}-second`, given: 'Long', birthDate: '1970', gender: 'male' }, 'S3-b');
    expect(await found({ familyPrefix: common })).toEqual([first, second].sort());
    expect(await found({ familyPrefix: `${common}-f` })).toEqual([first]);
    expect(await found({ familyPrefix: `${common}-second` })).toEqual([second]);
    expect(await found({ familyPrefix: `${common}-third` })).toEqual([]);
  });

  it('follows the newest document: a name the patient no longer has does not find them', async () => {
    const id = await store({ family: 'Oldname', given: 'Rita', birthDate: '1980-01-01', gender: 'female' }, 'S4', '2025-01-01T00:00:00Z');
    await store({ family: 'Newname', given: 'Rita', birthDate: '1980-01-02', gender: 'female' }, 'S4', '2025-02-01T00:00:00Z');
    // An older document pushed later changes nothing.
    await store({ family: 'Stalename', given: 'Rita', birthDate: '1979', gender: 'female' }, 'S4', '2024-12-01T00:00:00Z');
    expect(await found({ familyPrefix: 'newn', birthDate: { op: 'eq', value: '1980-01-02' } })).toEqual([id]);
    expect(await found({ familyPrefix: 'oldn' })).toEqual([]);
    expect(await found({ familyPrefix: 'stalen' })).toEqual([]);
    expect(await found({ familyPrefix: 'newn', birthDate: { op: 'eq', value: '1980-01-01' } })).toEqual([]);
  });

  it('treats what is typed as text, never as a pattern', async () => {
    await store({ family: 'Dot', given: 'Star', birthDate: '1990', gender: 'male' }, 'S5');
    expect(await found({ familyPrefix: '.*' })).toEqual([]);
    expect(await found({ familyPrefix: 'd.t' })).toEqual([]);
    expect(await found({ givenPrefix: '^s' })).toEqual([]);
  });

  it('finds the patients of a store written by an earlier release (no search keys) once it opens, and looks only once', async () => {
    // A store of an earlier release: its own database, without this release's upgrade marker.
    const earlier = await backend.open();
    try {
      const id = randomUUID();
      const legacy = { family: ['legacy-family'], given: ['olga'], birthDate: '1944-07-08' };
      // As an earlier release stored a patient: demographics, but none of the keys the search uses.
      await earlier.database.collection<PatientRecord>('patients').insertOne({
        _id: id, identifierKeys: ['urn:test:national|S6'], identifierSystems: ['urn:test:national'], identifierValues: ['S6'],
        ...legacy, gender: 'female', json: '{}', sourceTimestampMs: 0, hasSummary: true, lastUpdated: new Date(),
      });
      const reopened = new PatientRepository(earlier.database);
      await reopened.ensureIndexes();
      const { patients: page } = await reopened.search({ familyPrefix: 'legacy-f', givenPrefix: 'ol', birthDate: { op: 'eq', value: '1944-07' } }, 0, 10);
      expect(page.map((p) => p._id)).toEqual([id]);
      expect(await earlier.database.collection<PatientRecord>('patients').findOne({ _id: id })).toMatchObject(searchKeysOf(legacy));
      // The upgrade is recorded: a later start does not read the patients again (a scan on FerretDB).
      await earlier.database.collection<PatientRecord>('patients').updateOne({ _id: id }, { $set: { searchKeysVersion: 0 } });
      await new PatientRepository(earlier.database).ensureIndexes();
      expect(await earlier.database.collection<PatientRecord>('patients').findOne({ _id: id })).toMatchObject({ searchKeysVersion: 0 });
    } finally {
      await earlier.cleanup();
    }
  });
});

describe('search keys of a patient', () => {
  it('are every prefix of each name up to 24 characters, and the birth date at each precision', () => {
    const keys = searchKeysOf({ family: ['eder', 'ede'], given: ['ana'], birthDate: '2001-09-30' });
    expect(keys.familyPrefixes.sort()).toEqual(['e', 'ed', 'ede', 'eder']);
    expect(keys.givenPrefixes.sort()).toEqual(['a', 'an', 'ana']);
    expect(keys.birthDatePrefixes).toEqual(['2001', '2001-09', '2001-09-30']);
    expect(searchKeysOf({ family: ['x'.repeat(40)], given: [], birthDate: '2001' })).toMatchObject({ familyPrefixes: Array.from({ length: 24 }, (_, i) => 'x'.repeat(i + 1)), givenPrefixes: [], birthDatePrefixes: ['2001'] });
  });

  it('never split a character made of two UTF-16 units', () => {
    const keys = searchKeysOf({ family: ['𝒜b'], given: [], birthDate: null });
    expect(keys.familyPrefixes).toEqual(['𝒜', '𝒜b']);
    expect(keys.birthDatePrefixes).toEqual([]);
  });
});
