import { describe, expect, it } from '@jest/globals';
import { ipsExample } from '../support/test-node.js';
import { allIpsExamples, validator } from './support.js';

describe('validation of the official IPS 2.0.0 examples', () => {
  it('covers all 44 examples', () => {
    expect(allIpsExamples()).toHaveLength(44);
  });

  it.each(allIpsExamples())('%s has no errors against the profile it declares', (file) => {
    const errors = validator()
      .validate(ipsExample(file))
      .filter((i) => i.severity === 'error');
    expect(errors).toEqual([]);
  });

  it('validates a resource without a declared profile against the IPS profile asked for', () => {
    const patient = ipsExample('Patient-66033.json');
    delete patient['meta'];
    expect(validator().validate(patient, 'http://hl7.org/fhir/uv/ips/StructureDefinition/Patient-uv-ips').filter((i) => i.severity === 'error')).toEqual([]);
  });
});
