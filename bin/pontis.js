#!/usr/bin/env node
// The `pontis` command (npx pontis ...). Runs the compiled CLI; `npm run build` makes it.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/src/cli/pontis.js', import.meta.url);
if (!existsSync(compiled)) {
  process.stderr.write('pontis: not built yet; run `npm run build` (npm start does it too)\n');
  process.exit(1);
}
const { run } = await import(compiled.href);
process.exitCode = await run(process.argv.slice(2));
