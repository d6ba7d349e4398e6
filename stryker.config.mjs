// Mutation testing with Stryker: `npm run test:mutation` (slow; not part of CI).
// One file at a time: `npm run test:mutation -- --mutate lib/common/redact.ts`.
// Results: the clear-text table on stdout, reports/mutation/index.html and mutation.json.
// docs/reliability.md ("Mutation testing") has the scores and the surviving mutants explained.

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'jest',
  jest: {
    // The unit and integration projects only (no daprd, no fault scenarios, no compat apps).
    projectType: 'custom',
    configFile: 'test/mutation/jest.config.js',
  },
  // Each mutant runs only the tests that reached its code in the first (coverage) run.
  coverageAnalysis: 'perTest',
  // Mutants that do not compile (about half of them in this strict code) are set aside as
  // CompileError before any test runs, instead of counting as killed by ts-jest's transpile-only run.
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  // The core: the rules the library's reliability depends on.
  mutate: [
    'lib/circuit-breaker/circuit-breaker.ts',
    'lib/transport/retry-policy.ts',
    'lib/transport/retry-budget.ts',
    'lib/transport/call-runner.ts',
    'lib/transport/repeat-safety.ts',
    'lib/subscriptions/dedupe/idempotent-consumer.ts',
    'lib/subscriptions/dedupe/claim-attempt.ts',
    'lib/claims/held-claim.ts',
    'lib/claims/claim-writes.ts',
    'lib/subscriptions/cloud-event.ts',
    'lib/common/redact.ts',
    'lib/input/path.ts',
  ],
  // The machine has 2 cores shared with other work.
  concurrency: 1,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  // The table and every surviving mutant; not the list of all 500-odd tests.
  clearTextReporter: { allowColor: false, reportTests: false, logTests: false },
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  // Not copied to the sandbox: build output, old logs, benchmark results.
  ignorePatterns: ['/dist', '/coverage', '/.tmp', '/bench/results', '/test/dapr/.bin'],
  thresholds: { high: 90, low: 80, break: null },
};
