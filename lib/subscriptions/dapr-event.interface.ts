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
