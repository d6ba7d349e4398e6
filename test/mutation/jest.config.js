/**
 * Jest config for mutation testing (stryker.config.mjs): the unit and integration projects of
 * ../../jest.config.js as one flat config, because Stryker's jest runner puts its own test
 * environment (per-test coverage) on the top-level config only, not on each project.
 *
 * Left out on purpose: the log-scan global setup/teardown and the log-tee setup file. Stryker runs
 * Jest many times in one process, so the scan's once-per-invocation run id would scan only the
 * first run; the scan is `npm test`'s job. No daprd, no fault scenarios, no compat apps.
 *
 * KUGEL_MUTATION_PROJECTS=unit runs the unit project alone: a quick loop while writing a spec
 * (a static mutant, one in a module-level constant, reruns every test). The scores in
 * docs/reliability.md are from both projects.
 */
const path = require('node:path');
const base = require('../../jest.config.js');

const project = (name) => base.projects.find((p) => p.displayName === name);
const unit = project('unit');
const integration = project('integration');
const unitOnly = process.env.KUGEL_MUTATION_PROJECTS === 'unit';

module.exports = {
  rootDir: path.resolve(__dirname, '../..'),
  testTimeout: base.testTimeout,
  testEnvironment: unit.testEnvironment,
  transform: unit.transform,
  moduleFileExtensions: unit.moduleFileExtensions,
  testMatch: unitOnly ? unit.testMatch : [...unit.testMatch, ...integration.testMatch],
  testPathIgnorePatterns: ['/node_modules/', ...integration.testPathIgnorePatterns],
};
