import { writeCompactBaseDefinitions } from '../validation/base-definitions.js';
import { DEFAULT_PROFILE_PACKAGES } from '../validation/create-validator.js';
import { writeCompactPackages } from '../validation/package-definitions.js';

// Run after `tsc` by `npm run build`: see src/validation/base-definitions.ts and package-definitions.ts.
// The base first: the packages' differential-only profiles are derived against it.
for (const path of [writeCompactBaseDefinitions(), writeCompactPackages(DEFAULT_PROFILE_PACKAGES)]) process.stdout.write(`wrote ${path}\n`);
