import { describe, expect, it } from '@jest/globals';
import { isJsonObject, isResource, isResourceOf } from '../../src/fhir/resources.js';

describe('parsed JSON becoming a FHIR type', () => {
  it('is a resource of the named types when it is a JSON object whose resourceType is one of them', () => {
    expect(isResourceOf({ resourceType: 'Consent', status: 'active' }, 'Consent')).toBe(true);
    expect(isResourceOf({ resourceType: 'Parameters' }, 'Bundle', 'Parameters')).toBe(true);
    expect(isResourceOf({ resourceType: 'Patient' }, 'Consent')).toBe(false);
  });

  it('is no resource when it is not an object with a string resourceType', () => {
    for (const value of [null, undefined, 'Consent', 42, [{ resourceType: 'Consent' }], {}, { resourceType: 7 }, { resourceType: null }]) {
      expect(isResourceOf(value, 'Consent')).toBe(false);
      expect(isResource(value)).toBe(false);
    }
  });

  it('is some resource, of a type to narrow later, whatever its resourceType names', () => {
    expect(isResource({ resourceType: 'OperationOutcome', issue: [] })).toBe(true);
    expect(isResource({ resourceType: 'Bundle' })).toBe(true);
  });

  it('is a JSON object when it is an object, neither null nor an array', () => {
    expect(isJsonObject({})).toBe(true);
    expect(isJsonObject({ resourceType: 'Bundle' })).toBe(true);
    for (const value of [null, undefined, [], 'x', 1, true]) expect(isJsonObject(value)).toBe(false);
  });
});
