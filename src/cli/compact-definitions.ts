import { writeCompactBaseDefinitions } from '../validation/base-definitions.js';

// Run after `tsc` by `npm run build`: see src/validation/base-definitions.ts.
const path = writeCompactBaseDefinitions();
process.stdout.write(`wrote ${path}\n`);
