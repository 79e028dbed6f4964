import { describe, expect, it } from '@jest/globals';
import { checkDocumentRules } from '../../src/documents/document-rules.js';
import { allSections, ipsExample, ipsExampleBundles, minimal, type Json } from '../support/test-node.js';


function problemsOf(bundle: Json): { expression: string | undefined; code: string }[] {
  const check = checkDocumentRules(bundle);
  if (check.ok) return [];
  return check.problems.map((p) => ({ expression: p.expression, code: p.code }));
}

function expressionsOf(bundle: Json): (string | undefined)[] {
  return problemsOf(bundle).map((p) => p.expression);
}

describe('document rules', () => {
  it.each(ipsExampleBundles())('accept the official IPS example %s', (file) => {
    const check = checkDocumentRules(ipsExample(file));
    expect(check.ok ? [] : check.problems).toEqual([]);
  });

  it('return the facts storage needs', () => {
    const check = checkDocumentRules(minimal());
    expect(check.ok).toBe(true);
    if (!check.ok) return;
    expect(check.facts.identifier).toEqual({ system: 'urn:oid:2.16.724.4.8.10.200.10', value: '28b95815-76ce-457b-b7ae-a972e527db40' });
    expect(check.facts.timestampMs).toBe(Date.parse('2020-12-11T14:30:00+01:00'));
    expect(check.facts.patient['resourceType']).toBe('Patient');
  });

  it('return the Patient as written: the entry\'s own object, members unknown to R4 included', () => {
    const bundle = minimal();
    const index = bundle['entry'].findIndex((e: Json) => e.resource.resourceType === 'Patient');
    bundle['entry'][index].resource.favouriteColour = 'blue';
    const check = checkDocumentRules(bundle);
    expect(check.ok).toBe(true);
    if (!check.ok) return;
    expect(check.facts.patientIndex).toBe(index);
    expect(check.facts.patient).toBe(bundle['entry'][index].resource);
    expect(check.facts.patient['favouriteColour']).toBe('blue');
  });

  const cases: [string, (b: Json) => void, string][] = [
    ['a Bundle of another type', (b) => (b['type'] = 'collection'), 'Bundle.type'],
    ['no identifier', (b) => delete b['identifier'], 'Bundle.identifier'],
    ['an identifier without value', (b) => delete b['identifier'].value, 'Bundle.identifier.value'],
    ['an identifier whose system is an object', (b) => (b['identifier'].system = { $ne: null }), 'Bundle.identifier.system'],
    ['no timestamp', (b) => delete b['timestamp'], 'Bundle.timestamp'],
    ['a timestamp without time zone', (b) => (b['timestamp'] = '2020-12-11T14:30:00'), 'Bundle.timestamp'],
    ['a timestamp on 30 February', (b) => (b['timestamp'] = '2020-02-30T14:30:00Z'), 'Bundle.timestamp'],
    ['no entries', (b) => (b['entry'] = []), 'Bundle.entry'],
    ['a first entry that is not a Composition', (b) => b['entry'].reverse(), 'Bundle.entry[0].resource'],
    ['an entry without fullUrl', (b) => delete b['entry'][2].fullUrl, 'Bundle.entry[2].fullUrl'],
    ['an entry without resource', (b) => delete b['entry'][3].resource, 'Bundle.entry[3].resource'],
    ['two entries with one fullUrl', (b) => (b['entry'][3].fullUrl = b['entry'][2].fullUrl), 'Bundle.entry[3].fullUrl'],
    ['no Patient', (b) => (b['entry'] = b['entry'].filter((e: Json) => e.resource.resourceType !== 'Patient')), 'Bundle.entry'],
    ['a Composition without subject', (b) => delete b['entry'][0].resource.subject, 'Bundle.entry[0].resource.subject'],
  ];
  it.each(cases)('refuse %s at the element at fault', (_name, mutate, expression) => {
    const bundle = minimal();
    mutate(bundle);
    expect(expressionsOf(bundle)).toContain(expression);
  });

  it('refuse a second Patient, naming the extra entry', () => {
    const bundle = minimal();
    const patient = bundle['entry'].findIndex((e: Json) => e.resource.resourceType === 'Patient');
    const copy = structuredClone(bundle['entry'][patient]);
    copy.fullUrl = 'urn:uuid:00000000-0000-4000-8000-000000000001';
    bundle['entry'].push(copy);
    expect(expressionsOf(bundle)).toEqual([`Bundle.entry[${bundle['entry'].length - 1}].resource`]);
  });

  it('refuse a Composition whose subject is another resource of the document', () => {
    const bundle = minimal();
    const practitioner = bundle['entry'].find((e: Json) => e.resource.resourceType === 'Practitioner');
    bundle['entry'][0].resource.subject = { reference: practitioner.fullUrl };
    expect(expressionsOf(bundle)).toEqual(['Bundle.entry[0].resource.subject.reference']);
  });

  it('refuse a reference that leaves the document, with the index path of the reference', () => {
    const bundle = allSections();
    bundle['entry'][0].resource.section[1].entry[0].reference = 'Condition/not-in-this-document';
    expect(expressionsOf(bundle)).toEqual(['Bundle.entry[0].resource.section[1].entry[0].reference']);
  });

  it('refuse an absolute reference to a server elsewhere', () => {
    const bundle = minimal();
    const index = bundle['entry'].findIndex((e: Json) => e.resource.resourceType === 'AllergyIntolerance');
    bundle['entry'][index].resource.patient.reference = 'https://elsewhere.example/Patient/1';
    expect(expressionsOf(bundle)).toEqual([`Bundle.entry[${index}].resource.patient.reference`]);
  });

  it('resolve relative references against a RESTful fullUrl base', () => {
    const bundle = allSections();
    // all-sections uses https://fhir.example.com/Type/id fullUrls with Type/id references
    expect(expressionsOf(bundle)).toEqual([]);
    const index = bundle['entry'].findIndex((e: Json) => e.resource.resourceType === 'Patient');
    bundle['entry'][index].fullUrl = 'https://other.example.com/Patient/' + bundle['entry'][index].resource.id;
    bundle['entry'][index].resource.id = 'renamed';
    expect(expressionsOf(bundle)).toContain('Bundle.entry[0].resource.subject.reference');
  });

  it('resolve contained references and refuse dangling ones', () => {
    const bundle = minimal();
    const index = bundle['entry'].findIndex((e: Json) => e.resource.resourceType === 'MedicationStatement');
    const statement = bundle['entry'][index].resource;
    statement.contained = [{ resourceType: 'Medication', id: 'med1' }];
    statement.medicationReference = { reference: '#med1' };
    expect(expressionsOf(bundle)).toEqual([]);
    statement.medicationReference = { reference: '#med2' };
    expect(expressionsOf(bundle)).toEqual([`Bundle.entry[${index}].resource.medicationReference.reference`]);
  });

  it('list every problem in document order', () => {
    const bundle = minimal();
    bundle['type'] = 'collection';
    delete bundle['timestamp'];
    delete bundle['identifier'].value;
    bundle['entry'][3].fullUrl = bundle['entry'][2].fullUrl;
    // entry[3] lost its own fullUrl, so references to it dangle too
    expect(expressionsOf(bundle)).toEqual([
      'Bundle.type',
      'Bundle.identifier.value',
      'Bundle.timestamp',
      'Bundle.entry[3].fullUrl',
      'Bundle.entry[0].resource.attester[1].party.reference',
      'Bundle.entry[0].resource.custodian.reference',
    ]);
  });
});
