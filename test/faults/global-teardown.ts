import * as fs from 'node:fs';
import * as path from 'node:path';
import logScanTeardown from '../support/log-scan-teardown';
import { deliveryTable, readDeliveryRows } from './support/delivery-table';
import { latencyTable, readLatencyRows } from './support/latency-table';
import { RESULTS_DIR, resultsFile, ScenarioRow, table } from './support/scenario';

/**
 * Global teardown of the faults project: prints the scenario table of this run (and keeps it in
 * `.tmp/faults/latest.md` and `latest.json`), then runs the end-of-run log scan.
 */
export default async function faultsTeardown(): Promise<void> {
  const id = process.env.KUGEL_TEST_RUN_ID;
  const file = id ? resultsFile(id) : undefined;
  if (file && fs.existsSync(file)) {
    const rows = fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as ScenarioRow);
    const text = table(rows);
    fs.writeFileSync(path.join(RESULTS_DIR, 'latest.md'), `${text}\n`);
    fs.writeFileSync(path.join(RESULTS_DIR, 'latest.json'), `${JSON.stringify(rows, null, 2)}\n`);
    console.log(`\nfault scenarios (${rows.length}):\n${text}\n`);
  }
  const deliveries = id ? readDeliveryRows(id) : [];
  if (deliveries.length > 0) {
    const text = deliveryTable(deliveries);
    fs.mkdirSync(RESULTS_DIR, { recursive: true });
    fs.writeFileSync(path.join(RESULTS_DIR, 'deliveries-latest.md'), `${text}\n`);
    console.log(`\ntwo replicas, one consumer group (${deliveries.length} runs):\n${text}\n`);
  }
  const latency = id ? readLatencyRows(id) : [];
  if (latency.length > 0) {
    const text = latencyTable(latency);
    fs.mkdirSync(RESULTS_DIR, { recursive: true });
    fs.writeFileSync(path.join(RESULTS_DIR, 'latency-latest.md'), `${text}\n`);
    console.log(`\nlatency faults (${latency.length} scenarios):\n${text}\n`);
  }
  await logScanTeardown();
}
