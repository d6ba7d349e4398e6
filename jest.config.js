/**
 * Jest projects:
 * - unit: specs next to the code (lib/**\/*.spec.ts), pure logic and small real-socket checks, and
 *   the sample app's own unit tests (sample-app/**\/*.spec.ts, with kugel-comms/testing).
 * - integration: test/**\/*.spec.ts, real local HTTP servers on port 0 (no mocked HTTP layer).
 * - dapr: test/dapr/**\/*.spec.ts, a real daprd built from the Dapr Go modules.
 * - e2e: test/**\/*.e2e-spec.ts, the sample app probed like the kubelet.
 * - faults: test/faults/**\/*.spec.ts, fault scenarios with figures.
 * - compat: test/compat/*.spec.ts, the packed package in a Nest 11 and a Nest 12 app
 *   (installed by test/compat/install.sh, which npm test's pretest runs).
 */
const ts = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
};
// Every project tees its log lines for the end-of-run credential scan (test/support/log-scan*.ts);
// the scan runs once, in the global teardown, after the last test of the invocation.
const common = {
  testEnvironment: 'node',
  transform: ts,
  moduleFileExtensions: ['ts', 'js', 'json'],
  setupFilesAfterEnv: ['<rootDir>/test/support/log-tee.ts'],
  globalSetup: '<rootDir>/test/support/log-scan-setup.ts',
  globalTeardown: '<rootDir>/test/support/log-scan-teardown.ts',
};
const withSidecar = '<rootDir>/test/support/global-setup-sidecar.ts';

module.exports = {
  testTimeout: 30000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/lib/**/*.spec.ts', '<rootDir>/sample-app/**/*.spec.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/**/*.spec.ts'],
      testPathIgnorePatterns: ['<rootDir>/test/dapr/', '<rootDir>/test/faults/', '<rootDir>/test/compat/'],
    },
    {
      ...common,
      displayName: 'dapr',
      testMatch: ['<rootDir>/test/dapr/**/*.spec.ts'],
      globalSetup: withSidecar,
    },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'], globalSetup: withSidecar },
    {
      ...common,
      displayName: 'faults',
      testMatch: ['<rootDir>/test/faults/**/*.spec.ts'],
      globalSetup: withSidecar,
      // Prints the scenario table, then runs the log scan.
      globalTeardown: '<rootDir>/test/faults/global-teardown.ts',
    },
    { ...common, displayName: 'compat', testMatch: ['<rootDir>/test/compat/*.spec.ts'], globalSetup: withSidecar },
  ],
};
