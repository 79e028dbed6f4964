/**
 * Jest runs the TypeScript sources as ESM through ts-jest (transpile only: `npm run typecheck`
 * does the type check). Jest 29 and ts-jest, because the platform binaries that Jest 30 and SWC
 * pull in cannot all be locked from this project's registry, which `npm ci` needs.
 */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  globalSetup: '<rootDir>/test/support/global-setup.mjs',
  globalTeardown: '<rootDir>/test/support/global-teardown.mjs',
  testTimeout: 30000,
  // PONTIS_COVERAGE=1 (CI): coverage of the code that decides who sees what, what is recorded and
  // what is valid, with floors a change may not fall under (measured: see DEVELOPERS.md, Tests).
  collectCoverage: process.env['PONTIS_COVERAGE'] === '1',
  collectCoverageFrom: ['src/access/**/*.ts', 'src/consent/**/*.ts', 'src/audit/**/*.ts', 'src/validation/**/*.ts'],
  coverageReporters: ['text-summary', 'json-summary'],
  coverageThreshold: {
    './src/access/': { lines: 92, branches: 88, functions: 92 },
    './src/consent/': { lines: 92, branches: 80, functions: 95 },
    './src/audit/': { lines: 82, branches: 58, functions: 75 },
    './src/validation/': { lines: 88, branches: 78, functions: 88 },
  },
};
