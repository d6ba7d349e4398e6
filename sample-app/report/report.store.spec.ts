import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tranlog } from '../shared/tranlog';
import { ReportStore } from './report.store';

const log = (transactionNo: number) =>
  ({
    tenant_id: 'T1',
    store_code: 'S1',
    terminal_no: 1,
    transaction_no: transactionNo,
    event_id: `e${transactionNo}`,
    sales: { total_amount_with_tax: 300 },
  }) as unknown as Tranlog;

describe('ReportStore', () => {
  const saved = process.env.REPORT_STORE_FILE;
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'report-store-'));
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.REPORT_STORE_FILE;
    else process.env.REPORT_STORE_FILE = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the logs in memory only without REPORT_STORE_FILE', () => {
    delete process.env.REPORT_STORE_FILE;
    const store = new ReportStore();
    expect(store.add(log(1))).toBe(true);
    expect(new ReportStore().logsOf('T1', 'S1')).toEqual([]);
  });

  it('with REPORT_STORE_FILE, a new store (a restarted report) has the logs, each once', () => {
    process.env.REPORT_STORE_FILE = join(dir, 'report-tranlogs.jsonl');
    const first = new ReportStore();
    expect(first.add(log(1))).toBe(true);
    expect(first.add(log(2))).toBe(true);
    expect(first.add(log(1))).toBe(false);
    expect(readFileSync(process.env.REPORT_STORE_FILE, 'utf8').trim().split('\n')).toHaveLength(2);

    const restarted = new ReportStore();
    expect(restarted.salesOf('T1', 'S1')).toMatchObject({ transactions: 2, totalAmount: 600, eventIds: ['e1', 'e2'] });
    expect(restarted.add(log(2))).toBe(false);
    expect(restarted.repeats).toBe(1);
  });
});
