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
};
