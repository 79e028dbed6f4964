import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { loadBaseDefinitions, readFull } from '../../src/validation/base-definitions.js';
import { DefinitionRegistry } from '../../src/validation/definitions.js';
import { DEFAULT_PROFILE_PACKAGES, EU_BUNDLE_PROFILE, IPS_BUNDLE_PROFILE } from '../../src/validation/index.js';
import { loadPackages, readPackages } from '../../src/validation/package-definitions.js';
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

describe('compact profile packages (dist/profile-packages.json, written by npm run build)', () => {
  type Loader = typeof loadPackages;
  const build = (load: Loader): { validator: ProfileValidator; fingerprint: string; trimmed: boolean } => {
    const base = loadBaseDefinitions();
    const registry = DefinitionRegistry.fhirR4(base);
    const terminology = Terminology.fhirR4(base);
    const fingerprint = createHash('sha256');
    const contents = load(DEFAULT_PROFILE_PACKAGES, registry, fingerprint);
    for (const content of contents) terminology.add(content.terminology);
    // The package files carry differentials and texts; the compact file only what the validator reads.
    const trimmed = contents.every((c) => c.structureDefinitions.every((sd) => sd.differential === undefined));
    return { validator: new ProfileValidator(registry, terminology), fingerprint: fingerprint.digest('hex'), trimmed };
  };

  it('are used when built from the same package bytes, with the same fingerprint and verdicts as the package files', () => {
    expect(existsSync('dist/profile-packages.json')).toBe(true);
    const compact = build(loadPackages);
    const files = build(readPackages);
    expect(compact.trimmed).toBe(true);
    expect(files.trimmed).toBe(false);
    expect(compact.fingerprint).toBe(files.fingerprint);
    const broken = allSections();
    broken['entry'][0].resource.status = 'nonsense';
    delete broken['entry'][1].resource.name;
    broken['entry'][3].resource.extension = [{ url: 'x' }];
    for (const bundle of [allSections(), broken]) {
      expect(compact.validator.validate(bundle, EU_BUNDLE_PROFILE)).toEqual(files.validator.validate(bundle, EU_BUNDLE_PROFILE));
      expect(compact.validator.validate(bundle, IPS_BUNDLE_PROFILE)).toEqual(files.validator.validate(bundle, IPS_BUNDLE_PROFILE));
    }
  });

  it('are not used for another list of packages', () => {
    expect(build((folders, registry, hash) => loadPackages(folders.slice(0, 1), registry, hash)).trimmed).toBe(false);
  });
});
