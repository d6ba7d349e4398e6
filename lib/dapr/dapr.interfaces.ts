/**
 * The outcome of a sidecar operation, from `DaprClientHelper.detailed`: never thrown, always
 * returned. On success `value` is the operation's answer (`undefined` for writes; the value or
 * `null` for a state read) and `etag` the ETag the sidecar sent with it (state reads).
 *
 * On failure, `status` and `code` tell the cases apart:
 * - `status` 4xx: the sidecar refused the request (an unknown store, a missing token; a stale
 *   ETag on save or delete is 409 `ERR_STATE_SAVE` / `ERR_STATE_DELETE`);
 * - `status` 500 with `code` `ERR_STATE_TRANSACTION`: a transaction's stale ETag or a failed store;
 * - no `status`: the sidecar could not be reached (`ECONNREFUSED`, `ECONNABORTED` for a timeout,
 *   ...) or the component's breaker is open (`ERR_CIRCUIT_OPEN`, nothing was sent);
 * - `ERR_BAD_REQUEST_INPUT`: the arguments were refused before anything was sent.
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
    };

/** The failure case of `DaprResult`. */
export type DaprFailure = Extract<DaprResult<unknown>, { ok: false }>;

export type StateConsistency = 'eventual' | 'strong';
export type StateConcurrency = 'first-write' | 'last-write';

export interface PublishOptions {
  /** Sent as `metadata.<key>=<value>` query parameters (e.g. `{ ttlInSeconds: '60' }`). */
  metadata?: Record<string, string | number | boolean>;
  /** `metadata.rawPayload=true`: the sidecar does not wrap the event in a CloudEvent. */
  rawPayload?: boolean;
  /** The data is already a CloudEvent (`Content-Type: application/cloudevents+json`). */
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
    metadata?: Record<string, string>;
    options?: { consistency?: StateConsistency; concurrency?: StateConcurrency };
  };
}
