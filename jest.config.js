/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  // Without verbose, output captured from oclif commands comes back empty (NOTES.md, trap 4).
  verbose: true,
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // @noble/hashes 2.x and canonicalize 5 are ESM-only: jest on Node 20 must transpile it to CommonJS (NOTES.md, trap 1).
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: { allowJs: true, isolatedModules: true }, diagnostics: false }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(@noble|canonicalize)/)'],
  testTimeout: 120000,
};
