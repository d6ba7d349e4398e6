import { describeFindings, runDir, scanLogDir } from './log-scan';

/**
 * Jest global teardown (every project; it runs after every test of the whole invocation): scans
 * the run's teed log lines and recorded errors for the test credentials and fails the run naming
 * the file and the line count, never the value. Runs the scan once per invocation.
 */
export default async function logScanTeardown(): Promise<void> {
  const id = process.env.KUGEL_TEST_RUN_ID;
  if (!id || process.env.KUGEL_LOG_SCAN_DONE === id) return;
  process.env.KUGEL_LOG_SCAN_DONE = id;
  const findings = scanLogDir(runDir(id));
  if (findings.length > 0) throw new Error(describeFindings(findings));
  console.log(`log scan: no test credential in the teed log lines and errors of ${runDir(id)}`);
}
