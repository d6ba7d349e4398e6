import { DaprEvent } from './dapr-event.interface';

/** Reflect-metadata key of the `@DaprSubscribe` declarations of a method (an array: one method may subscribe twice). */
export const DAPR_SUBSCRIBE_METADATA = 'kugel-comms:dapr-subscribe';

/** Bulk delivery: the handler receives an array of events and answers per entry. */
export interface BulkSubscribeOptions {
  /** Most events per delivery (daprd's `maxMessagesCount`). @default 100 */
  maxMessages?: number;
  /** Longest wait for a batch to fill, in milliseconds (daprd's `maxAwaitDurationMs`). @default 1000 */
  maxAwaitMs?: number;
}

/**
 * The idempotent consumer: every event key reaches the handler at most once while it is
 * remembered, across every replica of the app. A replica claims the key in the state store before
 * the handler runs and marks it done after; a claim left by a crashed replica expires after
 * `leaseSec`, and an outage of the store is answered `RETRY`.
 */
export interface DedupeOptions<T = unknown> {
  /** Dapr state store that keeps the keys. @default 'statestore' */
  store?: string;
  /**
   * How long a processed key is remembered, in seconds: it goes to daprd as the record's
   * `ttlInSeconds` (Dapr's TTLs are the only seconds among the options; every other duration is in
   * milliseconds). @default 86400
   */
  ttlSec?: number;
  /**
   * How long a claim holds before another replica may take the event over (a claim by a crashed
   * replica expires after it), in seconds: daprd's `ttlInSeconds` of the claim. Must be longer than
   * the handler timeout. @default 60
   */
  leaseSec?: number;
  /**
   * The event's key. Default: the CloudEvent `id`. Key on the publisher's own id when it has one
   * (`(e) => e.data.event_id`): daprd gives every (re)publish a new CloudEvent id.
   * Returning an empty value drops the event (it cannot be de-duplicated).
   */
  key?: (event: DaprEvent<T>) => string | undefined | null;
  /**
   * Exactly-once effects: the handler writes its state through `event.transaction` instead of the
   * sidecar client, and those writes commit with the event's done mark in one state transaction on
   * `store`. All-or-nothing only on a store that rolls a transaction back (PostgreSQL and the other
   * SQL stores); state.redis applies the writes that hold even when another fails. Not with `bulk`.
   * @default false
   */
  transactional?: boolean;
}

/** Options of `@DaprSubscribe`. */
export interface DaprSubscribeOptions<T = unknown> {
  /** Topic daprd forwards dropped and exhausted events to. */
  deadLetterTopic?: string;
  /** The publisher sent raw bytes, not a CloudEvent: `event.data` is a `Buffer`. @default false */
  rawPayload?: boolean;
  /** Subscription metadata for the pub/sub component (values are sent as strings). */
  metadata?: Record<string, string | number | boolean>;
  /**
   * A Dapr routing rule (CEL over the CloudEvent, e.g. `event.type == "order.created"`): the handler
   * gets only matching events. Several handlers may share a topic, each with its own rule, plus at
   * most one without (the default route).
   */
  match?: string;
  /** Order of this handler's rule among the topic's rules (lower first; ties keep discovery order). @default 0 */
  priority?: number;
  /** Bulk delivery (`true` for the defaults). The handler then takes `DaprEvent<T>[]`. */
  bulk?: boolean | BulkSubscribeOptions;
  /** The idempotent consumer (`true` for the defaults). Off by default. */
  dedupe?: boolean | DedupeOptions<T>;
  /** Handler timeout for this subscription, in milliseconds (0: none). @default subscriptions.handlerTimeoutMs */
  handlerTimeoutMs?: number;
  /**
   * After this many failed deliveries of one event (the handler threw, or outlived its timeout),
   * counted by event id in this replica, the event is answered `DROP` instead of `RETRY`, with an
   * ERROR log: daprd forwards it to `deadLetterTopic` (without one, it is gone). `false`: never.
   * `'broker'`: 10 on a broker that redelivers a `RETRY` in place and holds every event behind it
   * (Kafka) when a `deadLetterTopic` is set, so one poison event cannot block its partition for
   * ever; no limit elsewhere.
   * @default 'broker'
   */
  maxDeliveries?: number | false | 'broker';
}

/** One `@DaprSubscribe` declaration as stored on the method. */
export interface DaprSubscribeDeclaration {
  pubsub: string;
  topic: string;
  options: DaprSubscribeOptions;
}

/**
 * Makes the method handle the events of `topic` on the pub/sub component `pubsub`. Works on any
 * provider or controller (singletons); the module finds it at boot and serves
 * `GET /dapr/subscribe` and the event route on the app's own HTTP server.
 *
 * Outcome: returning → `SUCCESS`; throwing `DropEvent` → `DROP`; throwing anything else (or taking
 * longer than the handler timeout) → `RETRY`.
 *
 * ```ts
 * @DaprSubscribe('pubsub', 'topic-tranlog', { deadLetterTopic: 'topic-tranlog-dlq', dedupe: true })
 * async onTranlog(event: DaprEvent<Tranlog>) { ... }
 * ```
 */
export function DaprSubscribe<T = unknown>(
  pubsub: string,
  topic: string,
  options: DaprSubscribeOptions<T> = {},
): MethodDecorator {
  return (target, propertyKey, descriptor) => {
    const method = descriptor.value as unknown as object;
    const list: DaprSubscribeDeclaration[] = Reflect.getMetadata(DAPR_SUBSCRIBE_METADATA, method) ?? [];
    Reflect.defineMetadata(
      DAPR_SUBSCRIBE_METADATA,
      [...list, { pubsub, topic, options: options as DaprSubscribeOptions }],
      method,
    );
    return descriptor;
  };
}
