/**
 * What a `@DaprSubscribe` handler receives: the CloudEvent daprd delivered, unwrapped.
 *
 * - `data` is the event's `data` (parsed JSON when the publisher sent JSON, else a string), or the
 *   bytes of `data_base64` as a `Buffer`. With `rawPayload: true` it is always the raw message
 *   bytes as a `Buffer` (parse them yourself: `JSON.parse(event.data.toString('utf8'))`).
 * - `raw` is the whole envelope as delivered, for the attributes not copied here.
 */
export interface DaprEvent<T = unknown> {
  /** CloudEvent `id`. daprd gives every publish (and republish) a new one unless the publisher sets it. */
  id: string;
  data: T;
  topic: string;
  pubsub: string;
  /** CloudEvent `source`: the publisher's app id for events daprd wrapped. */
  source: string;
  /** CloudEvent `type` (`com.dapr.event.sent` unless the publisher set one). */
  type: string;
  /** CloudEvent `datacontenttype`, when present. */
  dataContentType?: string;
  /** CloudEvent `time`, when present. */
  time?: string;
  /** CloudEvent `subject`, when present. */
  subject?: string;
  /** W3C trace context of the delivery (header, else the CloudEvent attribute); the handler runs in it. */
  traceparent?: string;
  tracestate?: string;
  /** The bulk entry's id (bulk subscriptions only). */
  entryId?: string;
  /** The CloudEvent as delivered (for a raw bulk entry, the entry itself). */
  raw: Record<string, unknown>;
  /**
   * Aborted when the handler runs past its `handlerTimeoutMs` (reason: a `TimeoutError`
   * `DOMException`), after the delivery was answered `RETRY`. Pass it to what the handler awaits
   * (`signal` of an `HttpClientHelper` call, `fetch`, `timers/promises`) so that work stops instead
   * of racing the redelivery. The events of one bulk call share one signal. Not enumerable: it is
   * not in `JSON.stringify(event)`. Always set on the events the library delivers; optional so an
   * event built by hand (in a unit test) needs none.
   */
  readonly signal?: AbortSignal;
  /**
   * The handler's state changes, committed with the event's dedupe done mark in one Dapr state
   * transaction on the dedupe store (`dedupe: { transactional: true }` only; see
   * `EventTransaction`). Not enumerable, like `signal`.
   */
  readonly transaction?: EventTransaction;
}

/**
 * The state changes of one event's handler (`dedupe: { transactional: true }`). Nothing is written
 * while the handler runs: when it returns, its changes and the event's done mark are sent as one
 * state transaction to the dedupe store, so they land together or not at all (on a store that
 * rolls a transaction back: PostgreSQL and the other SQL stores; state.redis applies the writes
 * that hold even when another fails). The event is answered
 * `SUCCESS` only once that transaction committed; if it did not (a stale ETag of the handler's, the
 * store down), the answer is `RETRY` and a redelivery runs the handler again from scratch.
 */
export interface EventTransaction {
  /** Upserts `key` (of the dedupe store) to `value`; with `etag`, only while the key still has it. */
  save(key: string, value: unknown, options?: { etag?: string; metadata?: Record<string, string> }): void;
  /** Deletes `key` (of the dedupe store); with `etag`, only while the key still has it. */
  delete(key: string, options?: { etag?: string }): void;
  /** The changes so far, in order. */
  readonly size: number;
}

/** The three answers daprd understands, in its own spelling. */
export type DaprEventStatus = 'SUCCESS' | 'RETRY' | 'DROP';

/**
 * What a bulk handler may return, one item per event received, in the same order: `undefined` or
 * `'SUCCESS'` acknowledges the entry, `'DROP'` or a `DropEvent` drops it (dead-letter topic when
 * set), `'RETRY'` or any other `Error` has daprd deliver it again. Returning nothing acknowledges
 * every entry; throwing answers every entry (`DropEvent` → `DROP`, anything else → `RETRY`).
 */
export type BulkHandlerResult = void | ReadonlyArray<DaprEventStatus | Error | undefined | void>;
