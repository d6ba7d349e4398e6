import { Injectable, Logger } from '@nestjs/common';
// In an application: `from 'kugel-comms'`.
import { DaprEvent, DaprSubscribe, DropEvent } from '../../lib';
import { TRANLOG_PUBSUB, TRANLOG_TOPIC } from '../cart/cart.service';

/** What the cart publishes when a cart is billed (see `CartService.bill`). */
export interface TranlogEvent {
  eventId: string;
  tenantId: string;
  storeCode: string;
  terminalNo: number;
  totalAmount: number;
}

/** Sales of one store, as the report service of the original keeps them. */
export interface StoreSales {
  tenantId: string;
  storeCode: string;
  transactions: number;
  totalAmount: number;
  eventIds: string[];
}

export const TRANLOG_DLQ = `${TRANLOG_TOPIC}-dlq`;

/**
 * The receiving half of the cart → report loop: one handler per topic, and nothing else to write.
 * - `dedupe` keys on the cart's own `eventId` (the original's `event_id`): a republished
 *   transaction is counted once, whichever replica gets it;
 * - a transaction without a tenant cannot be reported: `DropEvent` sends it to the dead-letter
 *   topic instead of having daprd retry it forever;
 * - any other error (the report store being down, say) answers RETRY and daprd delivers it again.
 * Sales are kept in memory to keep the sample small; a real report service writes them to its
 * database.
 */
@Injectable()
export class ReportConsumer {
  private readonly logger = new Logger(ReportConsumer.name);
  private readonly sales = new Map<string, StoreSales>();
  readonly deadLetters: Array<{ id: string; data: unknown }> = [];

  @DaprSubscribe<TranlogEvent>(TRANLOG_PUBSUB, TRANLOG_TOPIC, {
    deadLetterTopic: TRANLOG_DLQ,
    dedupe: { key: (event) => event.data?.eventId },
  })
  onTranlog(event: DaprEvent<TranlogEvent>): void {
    const t = event.data;
    if (!t?.tenantId || !t.storeCode)
      throw new DropEvent(`transaction ${t?.eventId ?? event.id} has no tenant or store`);
    const key = `${t.tenantId}/${t.storeCode}`;
    const sales = this.sales.get(key) ?? {
      tenantId: t.tenantId,
      storeCode: t.storeCode,
      transactions: 0,
      totalAmount: 0,
      eventIds: [],
    };
    sales.transactions += 1;
    sales.totalAmount += Number(t.totalAmount) || 0;
    sales.eventIds.push(t.eventId);
    this.sales.set(key, sales);
  }

  /** What could not be reported lands here, for someone to look at. */
  @DaprSubscribe(TRANLOG_PUBSUB, TRANLOG_DLQ)
  onDeadLetter(event: DaprEvent): void {
    this.logger.warn(`dead-lettered transaction ${event.id}`);
    this.deadLetters.push({ id: event.id, data: event.data });
  }

  salesOf(tenantId: string, storeCode: string): StoreSales {
    return (
      this.sales.get(`${tenantId}/${storeCode}`) ?? {
        tenantId,
        storeCode,
        transactions: 0,
        totalAmount: 0,
        eventIds: [],
      }
    );
  }
}
