import * as fs from 'node:fs';
import * as path from 'node:path';
import * as jwt from 'jsonwebtoken';
import { secretEntries, SECRETS } from './secrets';

/**
 * Where the test run's log lines are teed (one file per process) and how they are scanned for
 * credentials. The folder is per run (`KUGEL_TEST_RUN_ID`, set by the global setup) so that two
 * runs in one checkout do not read each other's files.
 */
export const LOG_SCAN_ROOT = path.resolve(__dirname, '..', '..', '.tmp', 'log-scan');

/** The run id the global setup chose, or `adhoc` when a file runs without it. */
export function runId(): string {
  return process.env.KUGEL_TEST_RUN_ID || 'adhoc';
}

export function runDir(id = runId()): string {
  return path.join(LOG_SCAN_ROOT, id);
}

let fd: number | undefined;
let fdPid = -1;

/** Appends text (one or more lines) to this process's log-scan file. Never throws. */
export function teeToScan(text: string): void {
  try {
    if (fd === undefined || fdPid !== process.pid) {
      fs.mkdirSync(runDir(), { recursive: true });
      fd = fs.openSync(path.join(runDir(), `${process.pid}.log`), 'a');
      fdPid = process.pid;
    }
    fs.writeSync(fd, text.endsWith('\n') ? text : `${text}\n`);
  } catch {
    // the tee must never change a test's outcome; the scan notices a missing file
  }
}

export interface ScanFinding {
  /** Name of the secret in `SECRETS`, or `service-jwt` for a token signed with the test secret. */
  secret: string;
  file: string;
  lines: number;
}

const JWT_SHAPE = /eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{10,}/g;

/**
 * Scans every file of `dir` for the fixed secret values and for any JWT signed with the
 * service-token test secret (a minted token that leaked). Findings name the secret, the file and
 * the number of lines; they never contain the value.
 */
export function scanLogDir(dir: string, secrets: Array<[string, string]> = secretEntries()): ScanFinding[] {
  const findings: ScanFinding[] = [];
  if (!fs.existsSync(dir)) return findings;
  for (const name of fs.readdirSync(dir).sort()) {
    const file = path.join(dir, name);
    if (!fs.statSync(file).isFile()) continue;
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    const counts = new Map<string, number>();
    for (const line of lines) {
      for (const [secret, value] of secrets) {
        if (line.includes(value)) counts.set(secret, (counts.get(secret) ?? 0) + 1);
      }
      for (const token of line.match(JWT_SHAPE) ?? []) {
        if (signedWithTestSecret(token)) counts.set('service-jwt', (counts.get('service-jwt') ?? 0) + 1);
      }
    }
    for (const [secret, count] of counts) findings.push({ secret, file, lines: count });
  }
  return findings;
}

function signedWithTestSecret(token: string): boolean {
  try {
    jwt.verify(token, SECRETS.serviceTokenSecret, { algorithms: ['HS256', 'HS384', 'HS512'], ignoreExpiration: true });
    return true;
  } catch {
    return false;
  }
}

/** The failure message for findings (names only, never a value). */
export function describeFindings(findings: ScanFinding[]): string {
  return [
    `log scan: ${findings.length} leak(s) of test credentials in log lines or errors:`,
    ...findings.map(
      (f) =>
        `  - secret "${f.secret}" in ${path.relative(process.cwd(), f.file)} (${f.lines} line${f.lines === 1 ? '' : 's'})`,
    ),
  ].join('\n');
}
