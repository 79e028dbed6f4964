import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.js';
import { openStore } from '../repositories/store.js';
import { loadSeed } from '../seed/seed-loader.js';
import { SummaryService } from '../services/summary-service.js';
import { createValidator } from '../validation/index.js';

const USAGE = `usage: pontis <command> [options]

commands:
  seed [--country CC]   load the demo documents of seed/<CC>/ (default: PONTIS_COUNTRY) into the
                        configured store (MONGODB_URI, or the embedded store, which only makes
                        sense as a check of the seed data)
  help                  this text
`;

/** `pontis seed`: pushes the demo documents through the same rules as the API. */
async function seed(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { country: { type: 'string' } } });
  const config = loadConfig({ ...process.env, ...(values.country ? { PONTIS_COUNTRY: values.country } : {}) });
  const store = await openStore(config);
  try {
    const report = await loadSeed(new SummaryService(store.summaries, store.patients, createValidator(), config.documentProfile), config.country);
    process.stdout.write(
      `seeded ${await store.database.describe()} from ${report.directory}: ${report.created} new, ${report.unchanged} already stored\n`,
    );
    return report.created + report.unchanged > 0 ? 0 : 1;
  } finally {
    await store.close();
  }
}

/** Entry point of the `pontis` command. */
export async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'seed':
        return await seed(rest);
      case undefined:
      case 'help':
      case '--help':
        process.stdout.write(USAGE);
        return command === undefined ? 1 : 0;
      default:
        process.stderr.write(`pontis: unknown command ${JSON.stringify(command)}\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`pontis: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`pontis: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
