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
  UnprocessableEntityException,
  UseGuards,
} from '@nestjs/common';
import { camelCased, Tranlog } from '../shared/tranlog';
import { NotifyAuthGuard } from './notify-auth.guard';
import { deliveryDocument, TranlogOutbox } from './tranlog.outbox';

/** The original's envelope. */
function envelope(data: unknown, message: string, operation: string, metadata?: Record<string, unknown>) {
  return { success: true, code: 200, message, data, ...(metadata ? { metadata } : {}), operation };
}

/**
 * The cart's transactions and their delivery status, on the original's paths:
 * - `GET .../transactions`: the terminal's transaction logs (camelCase, as the original's REST
 *   bodies; `TranlogWebRepository` reads this);
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
  ) {
    const data = this.outbox.ofTerminal(tenantId, storeCode, terminalNo).map((r) => camelCased(r.event.data));
    return envelope(data, `${data.length} transactions`, 'get_transactions', { total: data.length, page: 1, limit: 0 });
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
   * A consumer's callback. Unlike the original (which keyed the update by `event_id` alone and
   * accepted any status and service name), the event must be this transaction's, the status
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
