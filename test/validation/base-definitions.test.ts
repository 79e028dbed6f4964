import { describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { loadBaseDefinitions, readFull } from '../../src/validation/base-definitions.js';
import { DefinitionRegistry } from '../../src/validation/definitions.js';
import { ProfileValidator } from '../../src/validation/profile-validator.js';
import { Terminology } from '../../src/validation/terminology.js';
import { allSections } from '../support/test-node.js';

describe('compact base definitions (dist/fhir-r4-base.json, written by npm run build)', () => {
  it('exist after the build and hold every definition of the package', () => {
    expect(existsSync('dist/fhir-r4-base.json')).toBe(true);
    const compact = loadBaseDefinitions();
    const full = readFull();
    expect(compact.version).toBe(full.version);
    expect(compact.structureDefinitions.map((sd) => sd.url)).toEqual(full.structureDefinitions.map((sd) => sd.url));
    expect(compact.terminology).toHaveLength(full.terminology.length);
  });

  it('give the same verdicts as the full package', () => {
    const validatorOf = (base: ReturnType<typeof readFull>): ProfileValidator => {
      const registry = DefinitionRegistry.fhirR4(base).addPackage('profiles/hl7.fhir.uv.ips-2.0.0/package');
      return new ProfileValidator(registry, Terminology.fhirR4(base).addPackage('profiles/hl7.fhir.uv.ips-2.0.0/package'));
    };
    const bundle = allSections();
    bundle['entry'][0].resource.status = 'nonsense';
    delete bundle['entry'][1].resource.name;
    bundle['entry'][3].resource.extension = [{ url: 'x' }];
    expect(validatorOf(loadBaseDefinitions()).validate(bundle)).toEqual(validatorOf(readFull()).validate(bundle));
  });
});
