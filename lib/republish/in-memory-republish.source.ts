import {
  applyDeliveryCallback,
  CallbackRefusal,
  ConsumerDelivery,
  DeliveryCallback,
  DeliveryStatus,
  pendingConsumers,
  PublishOutcome,
  rollUpDeliveryStatus,
} from '../delivery/delivery-status';
import { RepublishSource, UndeliveredEvent, UndeliveredQuery, UndeliveredStats } from './republish-source.interface';

/** One event as the in-memory source keeps it (a delivery-status record). */
export interface DeliveryRecord {
  event: UndeliveredEvent;
  /** Rolled up from `publish` and `consumers` (`rollUpDeliveryStatus`). */
  status: DeliveryStatus;
  /** The last publish attempt's outcome (`published` until an attempt says otherwise). */
  publish: PublishOutcome;
  consumers: ConsumerDelivery[];
  /** Publish attempts reported through `markPublished` / `markFailed`. */
  attempts: number;
  /** Epoch ms of the last publish attempt (the creation time before any). */
  lastAttemptAt: number;
  lastError?: string;
}

/**
 * A `RepublishSource` in process memory, for tests and the sample: it keeps each event with the
 * consumers that must acknowledge it, takes their callbacks (`recordDelivery`), and rolls the
 * overall status up as `rollUpDeliveryStatus` says. Nothing survives a restart: a service keeps
 * these records in its own database, written in the same transaction as the data they describe.
 *
 * At most `maxRecords` are kept; past that, the oldest delivered ones are forgotten first, and an
 * `add` when every record is undelivered throws (nothing is dropped silently).
 */
export class InMemoryRepublishSource implements RepublishSource {
  private readonly records = new Map<string, DeliveryRecord>();

  constructor(
    private readonly maxRecords = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Records an event that `consumers` must acknowledge (none: delivered once published). Throws
   * when the event id is taken or the store is full of undelivered events.
   */
  add(event: UndeliveredEvent, consumers: readonly string[] = []): DeliveryRecord {
    if (typeof event?.eventId !== 'string' || event.eventId.length === 0)
      throw new TypeError('event.eventId must be a non-empty string');
    if (this.records.has(event.eventId)) throw new Error(`event ${event.eventId} is already recorded`);
    this.makeRoom();
    const list = pendingConsumers(consumers);
    const createdAt = event.createdAt instanceof Date ? event.createdAt.getTime() : Number(event.createdAt);
    const record: DeliveryRecord = {
      event,
      publish: 'published',
      consumers: list,
      status: rollUpDeliveryStatus('published', list),
      attempts: 0,
      lastAttemptAt: Number.isFinite(createdAt) ? createdAt : this.now(),
    };
    // Not delivered before a first publish attempt, even with nobody to wait for.
    if (list.length === 0) record.status = 'published';
    this.records.set(event.eventId, record);
    return clone(record);
  }

  /** A copy of the record of `eventId`, or `undefined`. */
  get(eventId: string): DeliveryRecord | undefined {
    const record = this.records.get(eventId);
    return record && clone(record);
  }

  /** Copies of every record, oldest first. */
  list(): DeliveryRecord[] {
    return [...this.records.values()].map(clone);
  }

  /**
   * A consumer's callback. `unknown-event` when no such event is recorded; the other refusals as
   * `applyDeliveryCallback` says.
   */
  recordDelivery(
    eventId: string,
    callback: DeliveryCallback,
  ): { ok: true; record: DeliveryRecord } | { ok: false; refusal: CallbackRefusal | 'unknown-event' } {
    const record = this.records.get(eventId);
    if (!record) return { ok: false, refusal: 'unknown-event' };
    const applied = applyDeliveryCallback(record.consumers, callback, new Date(this.now()));
    if (!applied.ok) return applied;
    record.consumers = applied.consumers;
    record.status = rollUpDeliveryStatus(record.publish, record.consumers);
    return { ok: true, record: clone(record) };
  }

  async findUndelivered(query: UndeliveredQuery): Promise<UndeliveredEvent[]> {
    const before = query.olderThan.getTime();
    const out: UndeliveredEvent[] = [];
    for (const record of this.records.values()) {
      if (out.length >= query.limit) break;
      if (record.status !== 'delivered' && record.lastAttemptAt < before) out.push(record.event);
    }
    return out;
  }

  async markPublished(event: UndeliveredEvent): Promise<void> {
    this.attempted(event.eventId, 'published');
  }

  async markFailed(event: UndeliveredEvent, error: string): Promise<void> {
    this.attempted(event.eventId, 'failed', error);
  }

  async stats(): Promise<UndeliveredStats> {
    let undelivered = 0;
    let oldest: number | null = null;
    for (const record of this.records.values()) {
      if (record.status === 'delivered') continue;
      undelivered += 1;
      const created = createdAtOf(record);
      if (oldest === null || created < oldest) oldest = created;
    }
    return { undelivered, oldestCreatedAt: oldest };
  }

  private attempted(eventId: string, outcome: PublishOutcome, error?: string): void {
    const record = this.records.get(eventId);
    if (!record) return;
    record.publish = outcome;
    record.attempts += 1;
    record.lastAttemptAt = this.now();
    if (error !== undefined) record.lastError = error;
    record.status = rollUpDeliveryStatus(outcome, record.consumers);
  }

  private makeRoom(): void {
    if (this.records.size < this.maxRecords) return;
    for (const [id, record] of this.records) {
      if (record.status === 'delivered') {
        this.records.delete(id);
        return;
      }
    }
    throw new Error(`the in-memory republish source holds ${this.maxRecords} undelivered events; refusing more`);
  }
}

function createdAtOf(record: DeliveryRecord): number {
  const c = record.event.createdAt;
  const ms = c instanceof Date ? c.getTime() : Number(c);
  return Number.isFinite(ms) ? ms : record.lastAttemptAt;
}

function clone(record: DeliveryRecord): DeliveryRecord {
  return { ...record, consumers: record.consumers.map((c) => ({ ...c })) };
}
