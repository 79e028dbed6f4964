import { createHash, type Hash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FhirResource } from 'fhir/r4.js';
import { isResourceOf } from '../fhir/resources.js';
import { projectRoot } from '../project-root.js';
import { compactStructureDefinition, loadBaseDefinitions, trimTerminology } from './base-definitions.js';
import type { CompactStructureDefinition, PackageResource } from './definition-shapes.js';
import { DefinitionRegistry } from './definitions.js';

/**
 * The profile packages under `profiles/` (IPS 2.0.0, the EU rules): 6.5 MB of JSON, most of it
 * text the validator never reads (definitions, comments, mappings, examples' narratives).
 * `npm run build` writes what the validator reads of the default packages to
 * `dist/profile-packages.json`: elements trimmed as the base definitions are, snapshots of
 * differential-only profiles already derived. Start-up still reads every package file, since
 * their bytes make the profile-set fingerprint; the compact file is used only when it was built
 * from exactly those bytes, and otherwise the packages are parsed as they are.
 */

/** What one package folder gives the validator. */
export interface PackageContent {
  folder: string;
  /** In the order the registry is to receive them, each with a snapshot. */
  structureDefinitions: CompactStructureDefinition[];
  /** ValueSets and CodeSystems (other resources may be among them: the terminology ignores them). */
  terminology: PackageResource[];
}

interface CompactPackages {
  format: number;
  /** sha256 of the package bytes the file was built from (as {@link PackageBytes.digest}). */
  digest: string;
  packages: PackageContent[];
}

const FORMAT = 1;
const COMPACT = (): string => join(projectRoot(), 'dist', 'profile-packages.json');

/** The bytes of the package folders, in the order they are read, and their digest. */
interface PackageBytes {
  files: { folder: string; name: string; bytes: Buffer }[];
  digest: string;
}

/** Reads every `.json` file of the folders (sorted by name), feeding each to `fingerprint` as named bytes. */
function readPackageBytes(folders: readonly string[], fingerprint?: Hash): PackageBytes {
  const own = createHash('sha256');
  const files: PackageBytes['files'] = [];
  for (const folder of folders) {
    const path = join(projectRoot(), 'profiles', folder);
    for (const name of readdirSync(path)
      .filter((f) => f.endsWith('.json'))
      .sort()) {
      const bytes = readFileSync(join(path, name));
      const label = `${folder}/${name}\u0000`;
      fingerprint?.update(label).update(bytes);
      own.update(label).update(bytes);
      files.push({ folder, name, bytes });
    }
  }
  return { files, digest: own.digest('base64url') };
}

/** Parses the package files; `registry` (holding the base) derives the snapshots of differential-only profiles. */
function parsePackages(folders: readonly string[], bytes: PackageBytes, registry: DefinitionRegistry): PackageContent[] {
  return folders.map((folder) => {
    // Package files are FHIR resources; a StructureDefinition is read for what the validator reads of it.
    const resources = bytes.files.filter((f) => f.folder === folder).map((f) => JSON.parse(f.bytes.toString('utf8')) as FhirResource);
    const definitions = resources.filter((r): r is CompactStructureDefinition & FhirResource => isResourceOf(r, 'StructureDefinition'));
    registry.add(definitions);
    // What the registry now holds for each of them: derived snapshots included, later files winning.
    const urls = [...new Set(definitions.map((sd) => sd.url))];
    return { folder, structureDefinitions: urls.map((url) => registry.get(url)!).filter(Boolean), terminology: resources };
  });
}

/** The package folders parsed as they are, without the compact file (its fallback, and what tests compare it with). */
export function readPackages(folders: readonly string[], registry: DefinitionRegistry, fingerprint: Hash): PackageContent[] {
  return parsePackages(folders, readPackageBytes(folders, fingerprint), registry);
}

/**
 * The content of the package folders for a registry that holds the base definitions (packages
 * are added to it, in order) and the fingerprint fed with every package file's bytes.
 */
export function loadPackages(folders: readonly string[], registry: DefinitionRegistry, fingerprint: Hash): PackageContent[] {
  const bytes = readPackageBytes(folders, fingerprint);
  const compact = COMPACT();
  if (existsSync(compact)) {
    const cached = JSON.parse(readFileSync(compact, 'utf8')) as CompactPackages;
    if (cached.format === FORMAT && cached.digest === bytes.digest && cached.packages.map((p) => p.folder).join('\u0000') === folders.join('\u0000')) {
      for (const p of cached.packages) registry.add(p.structureDefinitions);
      return cached.packages;
    }
  }
  return parsePackages(folders, bytes, registry);
}

/** Writes `dist/profile-packages.json` for the given folders (run by `npm run build`). */
export function writeCompactPackages(folders: readonly string[]): string {
  const bytes = readPackageBytes(folders);
  const registry = DefinitionRegistry.fhirR4(loadBaseDefinitions());
  const packages = parsePackages(folders, bytes, registry).map((p) => ({
    folder: p.folder,
    structureDefinitions: p.structureDefinitions.map(compactStructureDefinition),
    terminology: p.terminology.filter((r) => isResourceOf(r, 'ValueSet', 'CodeSystem')).map(trimTerminology),
  }));
  const path = COMPACT();
  writeFileSync(path, JSON.stringify({ format: FORMAT, digest: bytes.digest, packages } satisfies CompactPackages));
  return path;
}
