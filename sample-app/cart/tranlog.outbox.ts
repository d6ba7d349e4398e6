import { Injectable } from '@nestjs/common';
// In an application: `from 'kugel-comms/testing'` (the in-memory stand-in; a real service keeps
// these records in its database).
import { DeliveryRecord, InMemoryRepublishSource } from '../../lib/testing';
import { Tranlog, TRANLOG_PUBSUB, TRANLOG_TOPIC } from '../shared/tranlog';

/** The services that consume the cart's transaction logs and call back (in Kugelpos: report, journal, stock). */
export const TRANLOG_CONSUMERS = ['report'];

/**
 * The cart's own record of its transaction logs and of who received each (the Kugelpos
 * cart's `status_tran_delivery` collection): the library's in-memory republish source, so the cart's
 * republisher finds here what is still undelivered. In memory to keep the sample small; a real
 * cart writes the record in its database in the same transaction as the log.
 */
@Injectable()
export class TranlogOutbox extends InMemoryRepublishSource {
  /** Records a transaction log to be delivered to every consumer. */
  record(tranlog: Tranlog): DeliveryRecord {
    return this.add(
      { eventId: tranlog.event_id, pubsub: TRANLOG_PUBSUB, topic: TRANLOG_TOPIC, data: tranlog, createdAt: Date.now() },
      TRANLOG_CONSUMERS,
    );
  }

  /** The record of one transaction of a terminal, or `undefined`. */
  find(tenantId: string, storeCode: string, terminalNo: number, transactionNo: number): DeliveryRecord | undefined {
    return this.ofTerminal(tenantId, storeCode, terminalNo).find(
      (r) => (r.event.data as Tranlog).transaction_no === transactionNo,
    );
  }

  /** Every record of a terminal, in transaction order. */
  ofTerminal(tenantId: string, storeCode: string, terminalNo: number): DeliveryRecord[] {
    return this.list().filter((r) => {
      const t = r.event.data as Tranlog;
      return t.tenant_id === tenantId && t.store_code === storeCode && t.terminal_no === terminalNo;
    });
  }
}

/** A record in the shape of the Kugelpos cart's delivery-status document, for the status endpoint. */
export function deliveryDocument(record: DeliveryRecord): Record<string, unknown> {
  const t = record.event.data as Tranlog;
  return {
    event_id: record.event.eventId,
    published_at: new Date(Number(record.event.createdAt)).toISOString(),
    status: record.status,
    tenant_id: t.tenant_id,
    store_code: t.store_code,
    terminal_no: t.terminal_no,
    transaction_no: t.transaction_no,
    business_date: t.business_date,
    open_counter: t.open_counter,
    services: record.consumers.map((c) => ({
      service_name: c.service,
      status: c.status,
      message: c.message ?? null,
      received_at: c.updatedAt ?? null,
    })),
    publish_attempts: record.attempts,
    last_error: record.lastError ?? null,
  };
}
