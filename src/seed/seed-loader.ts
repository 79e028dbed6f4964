import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { localSystemAccess } from '../access/system-access.js';
import { identifierKey } from '../documents/patient-facts.js';
import { isJsonObject, isResourceOf } from '../fhir/resources.js';
import { projectRoot } from '../project-root.js';
import type { PatientRepository } from '../repositories/patient-repository.js';
import type { ConsentService } from '../services/consent-service.js';
import type { SummaryService } from '../services/summary-service.js';

/** The folder of demo IPS documents for one Member State: `seed/<country>/`. */
export function seedDirectory(country: string): string {
  return join(projectRoot(), 'seed', country.toUpperCase());
}

/** How a seed run went. */
export interface SeedReport {
  directory: string;
  created: number;
  unchanged: number;
  consents: number;
}

/** What seeding writes through: the same services as the API. */
export interface SeedTargets {
  summaries: SummaryService;
  consents: ConsentService;
  patients: PatientRepository;
}

/**
 * Pushes every `*.json` document of the country's seed folder through the same path as the API,
 * so seed data meets the same rules; then the demo Consents of `consents/`, which name their
 * patient by identifier (ids are assigned here). Safe to repeat: stored documents are
 * recognised as retries, and a patient who has Consents gets no more.
 */
export async function loadSeed(targets: SeedTargets, country: string): Promise<SeedReport> {
  const directory = seedDirectory(country);
  const report: SeedReport = { directory, created: 0, unchanged: 0, consents: 0 };
  if (!existsSync(directory)) return report;
  const files = (await readdir(directory)).filter((f) => f.endsWith('.json')).sort();
  for (const file of files) {
    const bundle: unknown = JSON.parse(await readFile(join(directory, file), 'utf8'));
    if (!isJsonObject(bundle) || !isResourceOf(bundle, 'Bundle')) throw new Error(`seed document ${file} must be a FHIR Bundle`);
    const result = await targets.summaries.push(bundle, localSystemAccess(country, 'pontis-seed'));
    if (result.created) report.created++;
    else report.unchanged++;
  }
  const consentDir = join(directory, 'consents');
  if (!existsSync(consentDir)) return report;
  for (const file of (await readdir(consentDir)).filter((f) => f.endsWith('.json')).sort()) {
    const consent: unknown = JSON.parse(await readFile(join(consentDir, file), 'utf8'));
    if (!isResourceOf(consent, 'Consent')) throw new Error(`seed consent ${file} must be a FHIR Consent`);
    const identifier = consent.patient?.identifier;
    if (identifier?.system === undefined || identifier.value === undefined) throw new Error(`seed consent ${file} must name its patient by identifier`);
    const patientId = await targets.patients.patientIdByIdentifier(identifierKey(identifier.system, identifier.value));
    if (!patientId) throw new Error(`seed consent ${file} names a patient without a seed document`);
    const access = localSystemAccess(country, 'pontis-seed');
    if ((await targets.consents.forPatient(patientId, access)).length > 0) continue;
    await targets.consents.create({ ...consent, patient: { reference: `Patient/${patientId}` } }, access);
    report.consents++;
  }
  return report;
}
