import { QueryParams } from '../input/query';

export type { QueryValue } from '../input/query';

/** Per-call options of `ServiceClient`. */
export interface RequestOptions {
  /** Query parameters; arrays become repeated keys (`a=1&a=2`), `null`/`undefined` are left out. */
  params?: QueryParams;
  /** Extra headers (values must not contain CR, LF or NUL). */
  headers?: Record<string, string>;
  /** Timeout of each attempt, overriding the service's `timeoutMs`. */
  timeoutMs?: number;
  /** Retries after the first attempt, overriding the service's `retries`. */
  retries?: number;
  /** Aborts the call (including pending retries). */
  signal?: AbortSignal;
  /**
   * Declares a POST or PATCH safe to repeat, so it is retried after a timeout, a reset or a
   * 429/502/503/504 like a GET. Without it (or `idempotencyKey`), a POST or PATCH is sent again
   * only when the attempt provably never left (connection refused, DNS, a deadline spent
   * connecting): a reset or a timeout after the request was sent may mean the peer acted on it.
   */
  idempotent?: boolean;
  /**
   * Sends an `Idempotency-Key` header (IETF httpapi draft: a quoted string), the same value on
   * every attempt of this call, and makes the call repeatable: `true` for a random UUID, or the
   * caller's own key (1-255 printable ASCII characters; keep it to repeat the call later, e.g.
   * after an unknown outcome). The peer must honour the header for the repeat to be safe. An
   * `Idempotency-Key` given in `headers` has the same effect.
   */
  idempotencyKey?: boolean | string;
  /** Route template for events and metrics (e.g. `/tenants/:tenant/items/:code`); defaults to the path. */
  route?: string;
}

/** What `ServiceClient.request()` takes. */
export interface RequestConfig extends RequestOptions {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS';
  path: string;
  /** JSON-serialised unless it is a Buffer / Uint8Array. */
  body?: unknown;
}

/** What `ServiceClient.request()` resolves to. */
export interface HttpResponse<T> {
  data: T;
  status: number;
  /** Response headers, names in lower case, repeated values joined with `, `. */
  headers: Record<string, string>;
}
