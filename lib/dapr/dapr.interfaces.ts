/** Result of a sidecar operation: never thrown, always returned. */
export type DaprResult<T> =
  | { ok: true; value: T; etag?: string }
  | {
      ok: false;
      /** What went wrong, without secrets (e.g. `state store "s" answered HTTP 500 ERR_STATE_SAVE`). */
      error: string;
      /** HTTP status when the sidecar answered. */
      status?: number;
      /** Dapr `errorCode`, or the Node/axios code, or `ERR_CIRCUIT_OPEN` / `ERR_BAD_REQUEST_INPUT`. */
      code?: string;
    };

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
  /** Optimistic concurrency: save only if the stored ETag matches (409 → `false`). */
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

/** A stored value and its ETag. */
export interface StateEntry<T> {
  value: T;
  etag?: string;
}
