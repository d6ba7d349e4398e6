const HTTP_CLIENT_ERROR_MARKER = Symbol.for('kugel-comms.HttpClientError');

/** Fields of an `HttpClientError`. */
export interface HttpClientErrorInit {
  service?: string;
  method: string;
  /** The URL without secrets (sensitive query values are replaced by `***`). */
  url: string;
  statusCode?: number;
  response?: unknown;
  attempts: number;
  /** Stable code: the HTTP status class, or the Node/axios code (`ECONNREFUSED`, `ECONNABORTED`, `ERR_CANCELED`, `ERR_BAD_REQUEST_INPUT`, ...). */
  code?: string;
  cause?: Error;
}

/**
 * The one error every `ServiceClient` call rejects with: an HTTP status ≥ 400 (no redirect is
 * followed, so a 3xx is one too), a network error, a timeout, an abort, an open breaker, or bad
 * input caught before anything was sent (`attempts: 0`).
 *
 * It never holds a credential: `cause` is a plain `Error` with the original message and code, not
 * the axios error (whose config carries the request headers).
 */
export class HttpClientError extends Error {
  readonly [HTTP_CLIENT_ERROR_MARKER] = true;
  override readonly name = 'HttpClientError';
  readonly statusCode?: number;
  /** The parsed response body, when there was one. */
  readonly response?: unknown;
  readonly service?: string;
  readonly method: string;
  readonly url: string;
  /** Attempts made (0 when the call was refused before any I/O). */
  readonly attempts: number;
  readonly code?: string;

  constructor(message: string, init: HttpClientErrorInit) {
    super(message, init.cause ? { cause: init.cause } : undefined);
    this.statusCode = init.statusCode;
    this.response = init.response;
    this.service = init.service;
    this.method = init.method;
    this.url = init.url;
    this.attempts = init.attempts;
    this.code = init.code;
  }
}

export function isHttpClientError(error: unknown): error is HttpClientError {
  return typeof error === 'object' && error !== null && HTTP_CLIENT_ERROR_MARKER in error;
}
