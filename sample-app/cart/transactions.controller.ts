import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  ParseIntPipe,
  Post,
  Query,
  UnprocessableEntityException,
  UseGuards,
} from '@nestjs/common';
import { Tranlog } from '../shared/tranlog';
import { NotifyAuthGuard } from './notify-auth.guard';
import { transactionDocument } from './transaction-document';
import { deliveryDocument, TranlogOutbox } from './tranlog.outbox';

/** The Kugelpos services' envelope: every key, `userError` and (outside lists) `metadata` `null`. */
function envelope(data: unknown, message: string, operation: string, metadata: Record<string, unknown> | null = null) {
  return { success: true, code: 200, message, userError: null, data, metadata, operation };
}

/** The query of the transaction list, as the Kugelpos cart's route takes it. */
interface TransactionsQuery {
  business_date?: string;
  open_counter?: string;
  transaction_type?: string | string[];
  receipt_no?: string;
  include_cancelled?: string;
  limit?: string;
  page?: string;
  sort?: string;
}

/**
 * The cart's transactions and their delivery status, on the Kugelpos cart's paths:
 * - `GET .../transactions`: the terminal's transactions in its `Tran` shape, filtered
 *   and paged by its query (`business_date`, `open_counter`, `transaction_type`,
 *   `receipt_no`, `include_cancelled`, `limit` (100; 0 = all), `page`, `sort` (`transaction_no:-1`));
 *   `TranlogWebRepository` reads this;
 * - `GET .../transactions/{no}/delivery-status`: the delivery record (who received it);
 * - `POST .../transactions/{no}/delivery-status`: a consumer's callback
 *   (`DeliveryStatusWebRepository` sends it), `{ event_id, service, status, message }`.
 */
@Controller('api/v1/tenants/:tenantId/stores/:storeCode/terminals/:terminalNo/transactions')
export class TransactionsController {
  constructor(private readonly outbox: TranlogOutbox) {}

  @Get()
  list(
    @Param('tenantId') tenantId: string,
    @Param('storeCode') storeCode: string,
    @Param('terminalNo', ParseIntPipe) terminalNo: number,
    @Query() q: TransactionsQuery,
  ) {
    const int = (name: keyof TransactionsQuery, fallback?: number): number | undefined => {
      const raw = q[name];
      if (raw === undefined) return fallback;
      const n = Number(raw);
      if (typeof raw !== 'string' || !Number.isSafeInteger(n))
        throw new BadRequestException(`${name} must be an integer`);
      return n;
    };
    const openCounter = int('open_counter');
    const receiptNo = int('receipt_no');
    const limit = int('limit', 100)!;
    const page = int('page', 1)!;
    const types = [q.transaction_type ?? []].flat().map(Number);
    const includeCancelled = q.include_cancelled === 'true';
    const sort = (q.sort ?? 'transaction_no:-1').split(',').map((part) => {
      const [field, order] = part.split(':');
      if (!/^[a-z_]+$/.test(field ?? '') || (order !== '1' && order !== '-1'))
        throw new BadRequestException('sort must be "field:1,field:-1"');
      return [field, Number(order)] as const;
    });
    const matching = this.outbox
      .ofTerminal(tenantId, storeCode, terminalNo)
      .map((r) => r.event.data as Tranlog)
      .filter(
        (t) =>
          (q.business_date === undefined || t.business_date === q.business_date) &&
          (openCounter === undefined || t.open_counter === openCounter) &&
          (receiptNo === undefined || t.receipt_no === receiptNo) &&
          (types.length === 0 || types.includes(t.transaction_type)) &&
          (includeCancelled || !t.sales.is_cancelled),
      )
      .sort((a, b) => {
        for (const [field, order] of sort) {
          const x = (a as unknown as Record<string, string | number>)[field];
          const y = (b as unknown as Record<string, string | number>)[field];
          if (x !== y) return (x < y ? -1 : 1) * order;
        }
        return 0;
      });
    const data = (limit > 0 ? matching.slice((page - 1) * limit, page * limit) : matching).map(transactionDocument);
    // The Kugelpos cart's metadata: the sort applied and its database query as the filter.
    const filter: Record<string, unknown> = { tenant_id: tenantId, store_code: storeCode, terminal_no: terminalNo };
    if (q.business_date) filter.business_date = q.business_date;
    if (openCounter) filter.open_counter = openCounter;
    if (types.length) filter.transaction_type = { $in: types };
    if (receiptNo) filter.receipt_no = receiptNo;
    if (!includeCancelled) filter['sales.is_cancelled'] = false;
    return envelope(data, 'Success to get transactions by query', 'get_transactions_by_query', {
      total: matching.length,
      page,
      limit,
      sort: sort.map(([field, order]) => `${field}:${order}`).join(', '),
      filter,
    });
  }

  @Get(':transactionNo/delivery-status')
  status(
    @Param('tenantId') tenantId: string,
    @Param('storeCode') storeCode: string,
    @Param('terminalNo', ParseIntPipe) terminalNo: number,
    @Param('transactionNo', ParseIntPipe) transactionNo: number,
  ) {
    const record = this.outbox.find(tenantId, storeCode, terminalNo, transactionNo);
    if (!record) throw new NotFoundException(`transaction ${transactionNo} not found`);
    return envelope(deliveryDocument(record), 'delivery status', 'get_delivery_status');
  }

  /**
   * A consumer's callback. The event must be this transaction's, the status
   * `received` or `failed`, the service one of the consumers the cart waits for.
   */
  @Post(':transactionNo/delivery-status')
  @HttpCode(200)
  @UseGuards(NotifyAuthGuard)
  notify(
    @Param('tenantId') tenantId: string,
    @Param('storeCode') storeCode: string,
    @Param('terminalNo', ParseIntPipe) terminalNo: number,
    @Param('transactionNo', ParseIntPipe) transactionNo: number,
    @Body() body: { event_id?: unknown; service?: unknown; status?: unknown; message?: unknown },
  ) {
    if (typeof body?.event_id !== 'string' || typeof body.service !== 'string' || typeof body.status !== 'string') {
      throw new BadRequestException('event_id, service and status are required strings');
    }
    const record = this.outbox.get(body.event_id);
    const tranlog = record?.event.data as Tranlog | undefined;
    if (
      !tranlog ||
      tranlog.tenant_id !== tenantId ||
      tranlog.store_code !== storeCode ||
      tranlog.terminal_no !== terminalNo ||
      tranlog.transaction_no !== transactionNo
    ) {
      throw new NotFoundException(`event ${body.event_id} is not transaction ${transactionNo} of this terminal`);
    }
    const applied = this.outbox.recordDelivery(body.event_id, {
      service: body.service,
      status: body.status as 'received' | 'failed',
      message: typeof body.message === 'string' ? body.message : undefined,
    });
    if (!applied.ok) throw new UnprocessableEntityException(`delivery status not recorded: ${applied.refusal}`);
    return envelope(
      { event_id: body.event_id, service: body.service, status: body.status, success: true },
      'Success to update delivery status',
      'notify_delivery_status',
    );
  }
}
