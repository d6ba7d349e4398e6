import * as fs from 'node:fs';
import * as path from 'node:path';
import { runId } from '../../support/log-scan';
import { RESULTS_DIR } from './scenario';

/** One row of the two-replica table: what was published, and what the replicas made of it. */
export interface DeliveryRow {
  scenario: string;
  published: number;
  /** Distinct events whose handler effect happened at least once. */
  handled: number;
  /** Copies answered SUCCESS by dedupe without the handler. */
  duplicatesSuppressed: number;
  /** Events handled more than once (their effect happened twice or more). */
  handledTwice: number;
  /** Published, never handled. */
  lost: number;
  notes: string;
}

export function deliveriesFile(id = runId()): string {
  return path.join(RESULTS_DIR, `${id}.deliveries.jsonl`);
}

export function appendDeliveryRow(row: DeliveryRow): void {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  fs.appendFileSync(deliveriesFile(), `${JSON.stringify(row)}\n`);
}

export function readDeliveryRows(id: string): DeliveryRow[] {
  const file = deliveriesFile(id);
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as DeliveryRow);
}

export function deliveryTable(rows: DeliveryRow[]): string {
  return [
    '| scenario | published | handled | duplicates suppressed | handled twice | lost | notes |',
    '|---|---:|---:|---:|---:|---:|---|',
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${r.published} | ${r.handled} | ${r.duplicatesSuppressed} | ${r.handledTwice} | ${r.lost} | ${r.notes.replace(/\|/g, '/')} |`,
    ),
  ].join('\n');
}
