import { Injectable, Logger } from '@nestjs/common';
// In an application: `from 'kugel-comms'`.
import { DaprEvent, DaprSubscribe, DeliveryStatusWebRepository, DropEvent } from '../../lib';
import { Tranlog, TRANLOG_DLQ, TRANLOG_PUBSUB, TRANLOG_TOPIC } from '../shared/tranlog';
import { ReportStore } from './report.store';

/** The consumer's name in the cart's delivery records. */
export const REPORT_SERVICE = 'report';

/**
 * The receiving half of the cart → report loop, as the Kugelpos report service, with no event lost:
 * - `dedupe` keys on the cart's own `event_id` (daprd gives every republish a new CloudEvent id
 *   unless the publisher sets it): a transaction republished by the cart is handled once;
 * - the log is stored (once per natural key), then the cart is told `received` through
 *   `DeliveryStatusWebRepository` (service token, API-key fallback). If that callback fails the
 *   handler throws: RETRY, daprd delivers it again, the store skips it and the callback is made
 *   again;
 * - a log without tenant, store or event id cannot be reported: `DropEvent` sends it to the
 *   dead-letter topic instead of having it retried forever;
 * - a log the report fails to store is reported `failed` to the cart (which keeps republishing
 *   it), then retried.
 */
@Injectable()
export class ReportConsumer {
  private readonly logger = new Logger(ReportConsumer.name);

  constructor(
    private readonly store: ReportStore,
    private readonly deliveryStatus: DeliveryStatusWebRepository,
  ) {}

  @DaprSubscribe<Tranlog>(TRANLOG_PUBSUB, TRANLOG_TOPIC, {
    deadLetterTopic: TRANLOG_DLQ,
    dedupe: { key: (event) => event.data?.event_id },
  })
  async onTranlog(event: DaprEvent<Tranlog>): Promise<void> {
    const t = event.data;
    if (!t?.tenant_id || !t.store_code || !t.event_id) {
      throw new DropEvent(`transaction log ${t?.event_id ?? event.id} has no tenant, store or event id`);
    }
    const origin = {
      tenantId: t.tenant_id,
      storeCode: t.store_code,
      terminalNo: t.terminal_no,
      transactionNo: t.transaction_no,
    };
    try {
      this.store.add(t);
    } catch (error) {
      const message = `storing failed: ${(error as Error).message}`;
      await this.deliveryStatus
        .notifyTranlogDelivery(origin, { eventId: t.event_id, service: REPORT_SERVICE, status: 'failed', message })
        .catch((e: Error) => this.logger.warn(`"failed" callback for ${t.event_id} not sent: ${e.message}`));
      throw error;
    }
    await this.deliveryStatus.notifyTranlogDelivery(origin, {
      eventId: t.event_id,
      service: REPORT_SERVICE,
      status: 'received',
    });
  }

  /** What could not be reported lands here, for someone to look at. */
  @DaprSubscribe(TRANLOG_PUBSUB, TRANLOG_DLQ)
  onDeadLetter(event: DaprEvent): void {
    this.logger.warn(`dead-lettered transaction log ${event.id}`);
    this.store.deadLetters.push({ id: event.id, data: event.data });
  }
}
