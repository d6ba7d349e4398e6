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
   * Declares a POST or PATCH safe to repeat, so it is retried on timeouts and 429/502/503/504 like
   * a GET. Implied by an `Idempotency-Key` header.
   */
  idempotent?: boolean;
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
