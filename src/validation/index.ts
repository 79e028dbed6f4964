import { join } from 'node:path';
import { projectRoot } from '../project-root.js';
import { DefinitionRegistry } from './definitions.js';
import { ProfileValidator } from './profile-validator.js';
import { Terminology } from './terminology.js';

/** Packages under `profiles/` loaded by default: the official IPS 2.0.0 definitions. */
export const DEFAULT_PROFILE_PACKAGES = ['hl7.fhir.uv.ips-2.0.0/package'];

/** The IPS Bundle profile: what every stored document is validated against. */
export const IPS_BUNDLE_PROFILE = 'http://hl7.org/fhir/uv/ips/StructureDefinition/Bundle-uv-ips';

/** A validator over the FHIR R4 base and the given packages (folders under `profiles/`). */
export function createValidator(packages: readonly string[] = DEFAULT_PROFILE_PACKAGES): ProfileValidator {
  const registry = DefinitionRegistry.fhirR4();
  const terminology = Terminology.fhirR4();
  for (const folder of packages) {
    registry.addPackage(join(projectRoot(), 'profiles', folder));
    terminology.addPackage(join(projectRoot(), 'profiles', folder));
  }
  return new ProfileValidator(registry, terminology);
}

export { ProfileValidator, type ValidationIssue } from './profile-validator.js';
