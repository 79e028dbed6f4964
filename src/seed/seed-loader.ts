import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { projectRoot } from '../project-root.js';
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
}

/**
 * Pushes every `*.json` document of the country's seed folder through the same path as the API,
 * so seed data meets the same rules. Safe to repeat: stored documents are recognised as retries.
 */
export async function loadSeed(summaries: SummaryService, country: string): Promise<SeedReport> {
  const directory = seedDirectory(country);
  const report: SeedReport = { directory, created: 0, unchanged: 0 };
  if (!existsSync(directory)) return report;
  const files = (await readdir(directory)).filter((f) => f.endsWith('.json')).sort();
  for (const file of files) {
    const bundle = JSON.parse(await readFile(join(directory, file), 'utf8')) as Record<string, unknown>;
    const result = await summaries.push(bundle);
    if (result.created) report.created++;
    else report.unchanged++;
  }
  return report;
}
