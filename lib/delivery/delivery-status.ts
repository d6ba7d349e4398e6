/**
 * The publisher's record of who received an event (its delivery-status document) as
 * pure functions: a consumer's callback applied to the per-consumer entries, and the overall
 * status rolled up from them.
 */

/** Overall status of a published event, as the Kugelpos services name them. */
export type DeliveryStatus = 'published' | 'partially_delivered' | 'delivered' | 'failed';

/** One consumer's status: `pending` until it calls back `received` or `failed`. */
export type ConsumerStatus = 'pending' | 'received' | 'failed';

/** What a consumer reports in its callback. */
export type DeliveryCallbackStatus = 'received' | 'failed';

/** The outcome of the publisher's last publish attempt of the event. */
export type PublishOutcome = 'published' | 'failed';

/** One consumer's entry (an element of the document's `services[]`). */
export interface ConsumerDelivery {
  service: string;
  status: ConsumerStatus;
  message?: string;
  /** ISO time of the consumer's last callback. */
  updatedAt?: string;
}

/**
 * A consumer's callback, as the delivery-status endpoints read it. On the wire the body is
 * snake_case, `{ event_id, service, status, message? }` (the callback schemas have no camelCase
 * aliases); the event id picks the record, the rest is this.
 */
export interface DeliveryCallback {
  service: string;
  status: DeliveryCallbackStatus;
  message?: string;
}

/**
 * The overall status, from the last publish outcome and every consumer's entry. It depends on
 * nothing else (not on the order the writes came in):
 *
 * | consumers | overall |
 * |---|---|
 * | every one received | `delivered` |
 * | some received | `partially_delivered` |
 * | none received, one or more failed | `failed` |
 * | all pending | the publish outcome (`published` or `failed`) |
 * | none listed | `delivered` once published (nobody to wait for), else `failed` |
 *
 * A consumer's word wins over the publish outcome, so a republish never sets a received event back
 * to `published`; with none received and one failed, the event is `failed` until a consumer
 * receives it.
 */
export function rollUpDeliveryStatus(publish: PublishOutcome, consumers: readonly ConsumerDelivery[]): DeliveryStatus {
  if (consumers.length === 0) return publish === 'published' ? 'delivered' : 'failed';
  const received = consumers.filter((c) => c.status === 'received').length;
  if (received === consumers.length) return 'delivered';
  if (received > 0) return 'partially_delivered';
  if (consumers.some((c) => c.status === 'failed')) return 'failed';
  return publish;
}

/** Why a callback was not applied. */
export type CallbackRefusal = 'unknown-service' | 'bad-status' | 'bad-service';

/**
 * The consumer entries after `callback`: its service's entry takes the status, message and time.
 * `received` is final: a `failed` that arrives after it (the callback of an earlier, failed
 * delivery overtaken by a redelivery that succeeded) changes nothing. A status other than
 * `received`/`failed`, or a service with no entry, is refused and changes nothing. Pure: returns
 * new entries, never changes `consumers`.
 */
export function applyDeliveryCallback(
  consumers: readonly ConsumerDelivery[],
  callback: DeliveryCallback,
  at: Date = new Date(),
): { ok: true; consumers: ConsumerDelivery[]; changed: boolean } | { ok: false; refusal: CallbackRefusal } {
  if (typeof callback?.service !== 'string' || callback.service.length === 0)
    return { ok: false, refusal: 'bad-service' };
  if (callback.status !== 'received' && callback.status !== 'failed') return { ok: false, refusal: 'bad-status' };
  const index = consumers.findIndex((c) => c.service === callback.service);
  if (index < 0) return { ok: false, refusal: 'unknown-service' };
  const current = consumers[index];
  if (current.status === 'received' && callback.status === 'failed') {
    return { ok: true, consumers: [...consumers], changed: false };
  }
  const entry: ConsumerDelivery = {
    service: current.service,
    status: callback.status,
    ...(typeof callback.message === 'string' && callback.message.length > 0 ? { message: callback.message } : {}),
    updatedAt: at.toISOString(),
  };
  const next = [...consumers];
  next[index] = entry;
  return { ok: true, consumers: next, changed: current.status !== entry.status || current.message !== entry.message };
}

/** Entries for `services`, each `pending`. */
export function pendingConsumers(services: readonly string[]): ConsumerDelivery[] {
  return [...new Set(services)].map((service) => ({ service, status: 'pending' as const }));
}
