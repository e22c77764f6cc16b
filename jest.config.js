import os from 'node:os';

// ESM TypeScript through @swc/jest: the fastest transform measured here (docs/design.md).
export default {
  testEnvironment: '<rootDir>/tests/helpers/environment.js',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', {
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
      module: { type: 'es6' },
    }],
  },
  // Jest's default (cores - 1) is one worker on a 2-core machine, which ran every file
  // in a row while the lab test (~2 minutes, mostly waiting on timers) kept its worker
  // idle. One worker per core plus one for the waiting files.
  maxWorkers: Math.max(2, os.availableParallelism()) + 1,
  testSequencer: '<rootDir>/tests/helpers/sequencer.js',
  // The tests' temp folders on tmpfs when there is one (global-setup.js says why).
  globalSetup: '<rootDir>/tests/helpers/global-setup.js',
  globalTeardown: '<rootDir>/tests/helpers/global-teardown.js',
  // Generous for a loaded machine (beside another run): a hang still fails, a slow box does not.
  testTimeout: 300_000,
};
