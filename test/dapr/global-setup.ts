import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Makes sure a daprd exists before the sidecar suites run: `DAPRD_BIN` or `~/.dapr/bin/daprd`
 * when present, else `test/dapr/build.sh` (the project's own minimal daprd, built from the Dapr Go
 * modules and cached in `test/dapr/.bin/`). Fails loudly — never skips — when it cannot.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.DAPRD_BIN) {
    if (!fs.existsSync(process.env.DAPRD_BIN)) throw new Error(`DAPRD_BIN=${process.env.DAPRD_BIN} does not exist`);
    return;
  }
  if (fs.existsSync(path.join(os.homedir(), '.dapr', 'bin', 'daprd'))) return;
  const script = path.join(__dirname, 'build.sh');
  try {
    execFileSync('bash', [script], { stdio: ['ignore', 'inherit', 'inherit'] });
  } catch (error) {
    throw new Error(
      `the test sidecar could not be built (${(error as Error).message}). The Dapr suites need Go (https://go.dev) ` +
        'to build test/dapr, or a daprd binary in DAPRD_BIN.',
      { cause: error },
    );
  }
}
