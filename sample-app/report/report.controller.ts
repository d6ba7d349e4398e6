import { BadGatewayException, Controller, Get, Param, ParseIntPipe } from '@nestjs/common';
// In an application: `from 'kugel-comms'`.
import { TerminalInfoWebRepository, TranlogWebRepository } from '../../lib';
import { ReportStore, StoreSales } from './report.store';

/** What the report received, and a check against what the cart published. */
@Controller('api/v1/tenants/:tenantId/stores/:storeCode')
export class ReportController {
  constructor(
    private readonly store: ReportStore,
    private readonly tranlogs: TranlogWebRepository,
    private readonly terminals: TerminalInfoWebRepository,
  ) {}

  /** Sales of the store: transactions received, their total, their event ids. */
  @Get('reports/sales')
  sales(@Param('tenantId') tenantId: string, @Param('storeCode') storeCode: string): StoreSales {
    return this.store.salesOf(tenantId, storeCode);
  }

  /** The logs received, one line each, and how many copies reached the store after the first (0). */
  @Get('reports/tranlogs')
  received(@Param('tenantId') tenantId: string, @Param('storeCode') storeCode: string) {
    const logs = this.store.logsOf(tenantId, storeCode);
    return {
      count: logs.length,
      repeats: this.store.repeats,
      transactions: logs.map((t) => ({
        terminal_no: t.terminal_no,
        transaction_no: t.transaction_no,
        event_id: t.event_id,
        total_amount_with_tax: t.sales.total_amount_with_tax,
      })),
    };
  }

  @Get('reports/dead-letters')
  deadLetters() {
    return this.store.deadLetters;
  }

  /**
   * The terminal's transactions of its current business date and opening, as the cart lists them
   * (`TranlogWebRepository`, the terminal → cart call; the business date and open
   * counter are the terminal's, from `TerminalInfoWebRepository`), against what the report
   * received: `missing` should be empty once every event is delivered.
   */
  @Get('terminals/:terminalNo/reports/reconcile')
  async reconcile(
    @Param('tenantId') tenantId: string,
    @Param('storeCode') storeCode: string,
    @Param('terminalNo', ParseIntPipe) terminalNo: number,
  ) {
    const context = {
      tenantId,
      storeCode,
      terminalNo,
      apiKey: process.env.SAMPLE_API_KEY ?? 'demo-terminal-key',
    };
    let terminal;
    let page;
    try {
      terminal = await this.terminals.getTerminalInfo(context, terminalNo);
      if (terminal.businessDate === null) return { published: 0, received: 0, missing: [] };
      page = await this.tranlogs.getTranlogList(context, {
        businessDate: terminal.businessDate,
        openCounter: terminal.openCounter,
        limit: 0,
        page: 1,
      });
    } catch (error) {
      throw new BadGatewayException(`terminal ${terminalNo}'s transactions: ${(error as Error).message}`);
    }
    const received = new Set(
      this.store
        .logsOf(tenantId, storeCode)
        .filter(
          (t) =>
            t.terminal_no === terminalNo &&
            t.business_date === terminal.businessDate &&
            t.open_counter === terminal.openCounter,
        )
        .map((t) => t.transaction_no),
    );
    const published = page.data.map((t) => t.transactionNo);
    return { published: published.length, received: received.size, missing: published.filter((n) => !received.has(n)) };
  }
}
