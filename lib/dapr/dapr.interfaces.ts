/**
 * The outcome of a sidecar operation, from `DaprClientHelper.detailed`: never thrown, always
 * returned. On success `value` is the operation's answer (`undefined` for writes; the value or
 * `null` for a state read) and `etag` the ETag the sidecar sent with it (state reads).
 *
 * On failure, `status` and `code` tell the cases apart:
 * - `status` 4xx: the sidecar refused the request (an unknown store, a missing token; a stale
 *   ETag on save or delete is 409 `ERR_STATE_SAVE` / `ERR_STATE_DELETE`);
 * - `status` 500 with `code` `ERR_STATE_TRANSACTION`: a transaction's stale ETag or a failed store;
 * - `conflict: true`: the write's ETag (or `first-write`) condition did not hold, whatever status
 *   the store answered it with — 409 for a save or delete, 500 `ERR_STATE_TRANSACTION` for a
 *   transaction (the outbox's included), 500 `ERR_STATE_SAVE` for a `first-write` save on Redis
 *   and PostgreSQL. Read the key again before writing again. On stores whose transactions roll
 *   back (in-memory, PostgreSQL) nothing of a conflicting transaction was written or published;
 *   on Redis its other operations and its outbox event were (docs/components.md);
 * - no `status`: the sidecar could not be reached (`ECONNREFUSED`, `ECONNABORTED` for a timeout,
 *   ...) or the component's breaker is open (`ERR_CIRCUIT_OPEN`, nothing was sent);
 * - `ERR_UNKNOWN_OUTCOME` (no `status`): a write that is not safe to repeat — a save with an ETag
 *   or `first-write`, a delete with an ETag, a state transaction (the outbox's included), a raw
 *   payload publish — timed out or lost its connection after it may have reached the sidecar. It
 *   may have happened: it is not sent again, and it is neither a conflict nor a success. Read the
 *   key back (its value and ETag) to learn which, before writing again;
 * - `ERR_BAD_REQUEST_INPUT`: the arguments were refused before anything was sent;
 * - `ERR_CLIENT_CLOSED`: made after the application shut down, nothing was sent; `ERR_CANCELED`:
 *   in flight when it shut down (it may have reached the sidecar).
 */
export type DaprResult<T> =
  | { ok: true; value: T; etag?: string }
  | {
      ok: false;
      /** What went wrong, without secrets (e.g. `save state statestore/k: sidecar answered HTTP 500 ERR_STATE_SAVE ...`). */
      error: string;
      /** Dapr's `errorCode`, else the Node/axios code, or `ERR_CIRCUIT_OPEN` / `ERR_BAD_REQUEST_INPUT`. */
      code: string;
      /** HTTP status when the sidecar answered. */
      status?: number;
      /** Set when the write's ETag or `first-write` condition did not hold (one result for every store's answer). */
      conflict?: true;
    };

/** The failure case of `DaprResult`. */
export type DaprFailure = Extract<DaprResult<unknown>, { ok: false }>;

export type StateConsistency = 'eventual' | 'strong';
export type StateConcurrency = 'first-write' | 'last-write';

export interface PublishOptions {
  /**
   * The event's own stable id, sent as the CloudEvent `id` (`metadata.cloudevent.id`; the body's
   * `id` for the caller's own CloudEvent). Without it the client makes a random UUID for the call,
   * the same on each of its attempts, so a retried publish is a copy a consumer's dedupe
   * recognises; give your own id when the event may be published again later (a republish of what
   * failed), so that it is the same event to every consumer. Not with `rawPayload` (daprd makes no
   * CloudEvent).
   */
  eventId?: string;
  /**
   * Sent as `metadata.<key>=<value>` query parameters (e.g. `{ ttlInSeconds: 60 }`). `ttlInSeconds`
   * must be a whole number of seconds ≥ 1 or a duration such as `'90s'` (daprd publishes an event
   * that never expires for anything else, without a word): refused before sending otherwise.
   */
  metadata?: Record<string, string | number | boolean>;
  /** `metadata.rawPayload=true`: the sidecar does not wrap the event in a CloudEvent. */
  rawPayload?: boolean;
  /**
   * The data is already a CloudEvent (`Content-Type: application/cloudevents+json`): a JSON object;
   * its `id` is kept, or set to `eventId` (or a random UUID) when it has none.
   */
  cloudEvent?: boolean;
  /** Content type of the data (default `application/json`). */
  contentType?: string;
  /**
   * W3C trace context of the event, sent untouched as the `traceparent` header (e.g. the one of the
   * request being handled). Without it, the active OpenTelemetry span's context is sent when there
   * is one (option `tracing.propagate`). daprd puts the trace id in the CloudEvent it delivers.
   */
  traceparent?: string;
  /** Sent as the `tracestate` header along with `traceparent`. */
  tracestate?: string;
}

export interface SaveStateOptions {
  /** Optimistic concurrency: save only if the stored ETag matches (409 → `false`, or `status: 409` from `detailed`). */
  etag?: string;
  /**
   * The item's metadata. `ttlInSeconds`: a whole number of seconds from -1 to 2147483647; 0 and -1
   * mean "never expires" (-1 also past a component-wide default TTL). Anything else (`1.5`, `'abc'`)
   * is refused before sending: the store would fail the write (500, counted by its breaker).
   */
  metadata?: Record<string, string | number | boolean>;
  consistency?: StateConsistency;
  concurrency?: StateConcurrency;
}

export interface GetStateOptions {
  consistency?: StateConsistency;
  metadata?: Record<string, string | number | boolean>;
}

export interface DeleteStateOptions {
  /** Sent as `If-Match`. */
  etag?: string;
  consistency?: StateConsistency;
  concurrency?: StateConcurrency;
  metadata?: Record<string, string | number | boolean>;
}

export interface BulkStateOptions {
  parallelism?: number;
  metadata?: Record<string, string | number | boolean>;
}

/** One operation of `executeStateTransaction`. */
export interface StateTransactionOperation {
  operation: 'upsert' | 'delete';
  request: {
    key: string;
    value?: unknown;
    etag?: string;
    /**
     * Content type of `value` (`application/json` stores and publishes it as JSON). On state.redis
     * set it here rather than as `metadata.contentType`, which makes state.redis use RedisJSON.
     */
    contentType?: string;
    metadata?: Record<string, string>;
    options?: { consistency?: StateConsistency; concurrency?: StateConcurrency };
  };
}

/** One event of `publishBulk`. */
export interface BulkPublishEntry<T = unknown> {
  /** The event data. A `Buffer` is sent base64-encoded as `application/octet-stream` unless `contentType` says otherwise. */
  event: T;
  /**
   * The entry's id in the request and in the answer's failures; unique within one call.
   * @default the entry's index in the array, as text
   */
  entryId?: string;
  /**
   * The event's stable CloudEvent `id` (`cloudevent.id`), as `PublishOptions.eventId`; a random UUID
   * when left out (reported back on a failed entry, so that its republish is the same event).
   */
  eventId?: string;
  /**
   * Content type of `event`: `application/json` (any JSON), `application/cloudevents+json` (the
   * event is a CloudEvent), `text/*` or `application/xml` (a string), `application/octet-stream`
   * (a `Buffer` or a base64 string). Always sent: daprd refuses an entry without one.
   * @default 'application/json' ('application/octet-stream' for a Buffer)
   */
  contentType?: string;
  /** Entry metadata (e.g. `{ ttlInSeconds: 60 }`); merged over the call's `metadata`. */
  metadata?: Record<string, string | number | boolean>;
}

/** Options of `publishBulk` for the whole call. */
export interface BulkPublishOptions {
  /** Metadata applied to every entry (an entry's own keys win). */
  metadata?: Record<string, string | number | boolean>;
  /** `rawPayload=true` for every entry: daprd does not wrap the events in CloudEvents. */
  rawPayload?: boolean;
}

/** An entry of `publishBulk` that was not published. */
export interface BulkPublishFailedEntry<T = unknown> {
  entryId: string;
  /** The entry as sent, with the `eventId` it went under (keep it for a republish: the same event). */
  entry: BulkPublishEntry<T>;
  /** Why, as daprd said it for this entry, or the call's failure when the whole call failed. */
  error: string;
}

/**
 * The outcome of `publishBulk`, entry by entry; never thrown. An entry is reported published only
 * when the sidecar said so: every entry on 204; on daprd's 500 with `failedEntries`, all but those
 * listed; on any other failure (no answer, a timeout, an open breaker, a 4xx, an answer that is
 * not as documented) none.
 *
 * `ok: false` carries the call's failure like `DaprFailure` (`error`, `code`, `status`).
 */
export type BulkPublishResult<T = unknown> =
  | { ok: true; published: string[]; failed: [] }
  | {
      ok: false;
      /** Entry ids the sidecar published. */
      published: string[];
      failed: BulkPublishFailedEntry<T>[];
      error: string;
      code: string;
      status?: number;
    };

/** Options of `saveStateAndPublish`. */
export interface OutboxOptions {
  /**
   * Optimistic concurrency: commit only if the stored ETag matches. Not on state.redis for keys
   * that several writers share: daprd v1.18 applies a Redis transaction without rollback, so a
   * stale ETag skips the write but still publishes the event (a SQL store rolls both back).
   */
  etag?: string;
  /**
   * The message to publish when it differs from the stored state (Dapr's projection: an upsert of
   * the same key with `outbox.projection: "true"`, never stored). Default: the stored value.
   */
  event?: unknown;
  /**
   * Content type of the value and of `event`. `application/json` publishes JSON data; without it,
   * daprd publishes a Go rendering of the value as text.
   * @default 'application/json'
   */
  contentType?: string;
  /**
   * Metadata of the state operation. daprd copies every key to the published CloudEvent as a
   * top-level attribute (`type` overrides the event type); `ttlInSeconds` is the state's TTL.
   */
  metadata?: Record<string, string | number | boolean>;
}
