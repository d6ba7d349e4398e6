import { Injectable } from '@nestjs/common';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { Tranlog } from '../shared/tranlog';

/** Sales of one store, from the transaction logs the report received. */
export interface StoreSales {
  tenantId: string;
  storeCode: string;
  transactions: number;
  totalAmount: number;
  /** The `event_id` of each transaction, in the order received. */
  eventIds: string[];
}

/**
 * What the report service received, kept small for the sample (a real report service writes to
 * its database): the logs in memory and, when `REPORT_STORE_FILE` is set (`run.sh` sets it), also
 * appended to that file, one JSON line each, and read back at start, so a restarted report still
 * has them. `repeats` and the dead letters are in memory only. As a second layer of
 * de-duplication, a log is stored once per natural key (tenant, store, terminal, transaction
 * number), whatever reaches it.
 */
@Injectable()
export class ReportStore {
  private readonly logs = new Map<string, Tranlog>();
  /** Logs that reached `add` again after they were stored (0 while dedupe does its job). */
  repeats = 0;
  readonly deadLetters: Array<{ id: string; data: unknown }> = [];
  private readonly file = process.env.REPORT_STORE_FILE || undefined;

  constructor() {
    if (!this.file || !existsSync(this.file)) return;
    for (const line of readFileSync(this.file, 'utf8').split('\n')) {
      if (!line) continue;
      const tranlog = JSON.parse(line) as Tranlog;
      this.logs.set(keyOf(tranlog), tranlog);
    }
  }

  /** Stores `tranlog`; `false` when it is stored already. */
  add(tranlog: Tranlog): boolean {
    const key = keyOf(tranlog);
    if (this.logs.has(key)) {
      this.repeats += 1;
      return false;
    }
    // Written before it counts as stored: a failed write throws, and the consumer reports "failed".
    if (this.file) appendFileSync(this.file, `${JSON.stringify(tranlog)}\n`);
    this.logs.set(key, tranlog);
    return true;
  }

  /** The store's logs, in the order received. */
  logsOf(tenantId: string, storeCode: string): Tranlog[] {
    return [...this.logs.values()].filter((t) => t.tenant_id === tenantId && t.store_code === storeCode);
  }

  salesOf(tenantId: string, storeCode: string): StoreSales {
    const logs = this.logsOf(tenantId, storeCode);
    return {
      tenantId,
      storeCode,
      transactions: logs.length,
      totalAmount: logs.reduce((sum, t) => sum + t.sales.total_amount_with_tax, 0),
      eventIds: logs.map((t) => t.event_id),
    };
  }
}

function keyOf(tranlog: Tranlog): string {
  return [tranlog.tenant_id, tranlog.store_code, tranlog.terminal_no, tranlog.transaction_no].join('/');
}
