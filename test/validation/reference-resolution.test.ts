import { describe, expect, it } from '@jest/globals';
import { BundleReferenceResolver } from '../../src/documents/reference-resolver.js';

/** Entries as a document carries them: a fullUrl (or none) and a resource of a type and id. */
const entries = [
  { fullUrl: 'https://a.example/fhir/Composition/c1', resource: { resourceType: 'Composition', id: 'c1' } },
  { fullUrl: 'https://a.example/fhir/Patient/p1', resource: { resourceType: 'Patient', id: 'p1' } },
  { fullUrl: 'https://b.example/other/Patient/p1', resource: { resourceType: 'Patient', id: 'p1' } },
  { fullUrl: 'urn:uuid:7d2c3f4e-1a2b-4c3d-8e9f-0a1b2c3d4e5f', resource: { resourceType: 'Organization', id: 'o1' } },
  { fullUrl: 'https://a.example/fhir/Patient/p1', resource: { resourceType: 'Patient', id: 'dup' } },
  { resource: { resourceType: 'Practitioner', id: 'd1' } },
  { fullUrl: 'https://b.example/other/Organization/o2', resource: { resourceType: 'Organization', id: 'o2' } },
];

describe('references inside a Bundle (R4 "Resolving references in Bundles")', () => {
  const resolver = new BundleReferenceResolver(entries);

  it.each([
    ['an absolute reference names a fullUrl', 'https://a.example/fhir/Patient/p1', 0, 1],
    ['an absolute reference with a version drops it', 'https://b.example/other/Patient/p1/_history/3', 0, 2],
    ['a URN names a fullUrl', 'urn:uuid:7d2c3f4e-1a2b-4c3d-8e9f-0a1b2c3d4e5f', 2, 3],
    ['a relative reference resolves against the base of the referring entry', 'Patient/p1', 0, 1],
    ['the same relative reference from another base', 'Patient/p1', 2, 2],
    ['a relative reference with a version', 'Patient/p1/_history/2', 2, 2],
    ['a relative reference the base of the referring entry lacks', 'Organization/o2', 0, undefined],
    ['a relative reference from another base that has it', 'Organization/o2', 2, 6],
    ['a relative reference from a URN entry resolves to nothing', 'Patient/p1', 3, undefined],
    ['a relative reference from an entry without fullUrl: by type and id', 'Organization/o1', 5, 3],
    ['a malformed relative reference', 'patient/p1', 0, undefined],
    ['an unknown absolute reference', 'https://a.example/fhir/Patient/p9', 0, undefined],
  ])('%s', (_what, reference, from, expected) => {
    expect(resolver.resolve(reference, from)).toBe(expected);
  });

  it('takes the first of two entries with one fullUrl', () => {
    expect(resolver.resolve('Patient/p1', 4)).toBe(1);
  });
});
