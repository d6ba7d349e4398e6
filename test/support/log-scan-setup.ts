import * as fs from 'node:fs';
import * as path from 'node:path';
import { LOG_SCAN_ROOT, runDir } from './log-scan';

/**
 * Jest global setup (every project): picks one run id for the whole `jest` invocation (the
 * first project's setup sets it; the workers inherit it), creates its log-scan folder and removes
 * folders of runs older than a day.
 */
export default async function logScanSetup(): Promise<void> {
  if (!process.env.KUGEL_TEST_RUN_ID) {
    process.env.KUGEL_TEST_RUN_ID = `run-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`;
  }
  fs.mkdirSync(runDir(), { recursive: true });
  const dayAgo = Date.now() - 24 * 3600 * 1000;
  for (const name of fs.readdirSync(LOG_SCAN_ROOT)) {
    const dir = path.join(LOG_SCAN_ROOT, name);
    try {
      if (fs.statSync(dir).mtimeMs < dayAgo) fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // another run removed it
    }
  }
}
