import { describe, expect, it } from '@jest/globals';
import { visitReferences } from '../../src/documents/reference-resolver.js';

describe('visitReferences: the one walk of references (document rules, section withholding)', () => {
  const resource = {
    resourceType: 'Observation',
    subject: { reference: 'urn:uuid:p' },
    performer: [{ reference: 'Practitioner/1' }, { display: 'no reference' }, { reference: 'urn:uuid:o' }],
    extension: [{ url: 'x', valueReference: { reference: '#c1' } }],
    code: { text: 'reference' },
    note: [{ text: 'a note', reference: 42 }],
  };

  it('visits every reference string in document order, with its FHIRPath', () => {
    const seen: Array<[string, string]> = [];
    visitReferences(resource, (reference, path) => seen.push([reference, path]), 'Bundle.entry[1].resource');
    expect(seen).toEqual([
      ['urn:uuid:p', 'Bundle.entry[1].resource.subject.reference'],
      ['Practitioner/1', 'Bundle.entry[1].resource.performer[0].reference'],
      ['urn:uuid:o', 'Bundle.entry[1].resource.performer[2].reference'],
      ['#c1', 'Bundle.entry[1].resource.extension[0].valueReference.reference'],
    ]);
  });

  it('without a starting path, visits the same references', () => {
    const seen: string[] = [];
    visitReferences(resource, (reference) => seen.push(reference));
    expect(seen).toEqual(['urn:uuid:p', 'Practitioner/1', 'urn:uuid:o', '#c1']);
  });
});
