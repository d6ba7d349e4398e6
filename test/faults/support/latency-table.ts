import * as fs from 'node:fs';
import * as path from 'node:path';
import { runId } from '../../support/log-scan';
import { RESULTS_DIR } from './scenario';

/** One row of the latency-fault table: a slow or dying other side, and what came of it. */
export interface LatencyRow {
  scenario: string;
  /** The fault the proxy injected. */
  fault: string;
  /** What reached the other side (counted by the proxy or the peer). */
  reached: string;
  /** What the caller saw. */
  observed: string;
  /** Whether the promise held (the row is written before the test asserts it). */
  held: boolean;
}

function file(id = runId()): string {
  return path.join(RESULTS_DIR, `${id}.latency.jsonl`);
}

export function appendLatencyRow(row: LatencyRow): void {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  fs.appendFileSync(file(), `${JSON.stringify(row)}\n`);
}

export function readLatencyRows(id: string): LatencyRow[] {
  const f = file(id);
  if (!fs.existsSync(f)) return [];
  return fs
    .readFileSync(f, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LatencyRow);
}

export function latencyTable(rows: LatencyRow[]): string {
  const cell = (s: string) => s.replace(/\|/g, '/');
  return [
    '| scenario | fault | reached the other side | the caller saw | promise |',
    '|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${cell(r.scenario)} | ${cell(r.fault)} | ${cell(r.reached)} | ${cell(r.observed)} | ${r.held ? 'held' : 'BROKEN'} |`,
    ),
  ].join('\n');
}
