const REALTIME_ERROR_MARKER = Symbol.for('kugel-comms.RealtimeError');

/** Fields of a `RealtimeError`. */
export interface RealtimeErrorInit {
  /** Stable code (see `RealtimeError.code`). */
  code: string;
  service?: string;
  /** The URL without secrets (sensitive query values are replaced by `***`). */
  url?: string;
  /** HTTP status of a refused opening handshake. */
  statusCode?: number;
  /** WebSocket close code, when a close caused it. */
  closeCode?: number;
  /** For a failed `send()`: whether the message had been written to a socket (the peer may have it). */
  written?: boolean;
  cause?: Error;
}

/**
 * The one error of the WebSocket client: what `connect()` throws, what `send()` rejects with, and
 * what a connection's `onError` reports. It never holds a credential: the URL has its sensitive
 * query values replaced by `***` and `cause` is a plain `Error` (message and code).
 *
 * `code`:
 * - `connect()`: `ERR_UNKNOWN_SERVICE`, `ERR_BAD_REQUEST_INPUT` (path, options), `ERR_CLIENT_CLOSED`;
 * - `send()`: `ERR_BAD_REQUEST_INPUT` (not serialisable), `ERR_MESSAGE_TOO_LARGE`,
 *   `ERR_SEND_BUFFER_FULL`, `ERR_SEND_TIMEOUT`, `ERR_NOT_CONFIRMED` (the connection died before the
 *   peer confirmed it and `resendUnconfirmed` is off), `ERR_CONNECTION_CLOSED` (closed by the app);
 *   `written` tells whether the peer may have received it;
 * - `onError`: `ERR_HANDSHAKE` (the peer answered the upgrade with `statusCode`, or not as a
 *   WebSocket), `ERR_HANDSHAKE_TIMEOUT` (the credentials or the handshake answer took longer than
 *   `handshakeTimeoutMs`), `ERR_HEARTBEAT_TIMEOUT`, `ERR_CIRCUIT_OPEN`,
 *   `ERR_MESSAGE_TOO_LARGE` (the peer sent more than `maxMessageBytes`: closed with 1009),
 *   `ERR_PROTOCOL` (invalid frames from the peer), `ERR_AUTH` (the credentials could not be made),
 *   or a Node network code (`ECONNREFUSED`, `ECONNRESET`, `ENOTFOUND`, ...).
 */
export class RealtimeError extends Error {
  readonly [REALTIME_ERROR_MARKER] = true;
  override readonly name = 'RealtimeError';
  readonly code: string;
  readonly service?: string;
  readonly url?: string;
  readonly statusCode?: number;
  readonly closeCode?: number;
  readonly written?: boolean;

  constructor(message: string, init: RealtimeErrorInit) {
    super(message, init.cause ? { cause: init.cause } : undefined);
    this.code = init.code;
    this.service = init.service;
    this.url = init.url;
    this.statusCode = init.statusCode;
    this.closeCode = init.closeCode;
    this.written = init.written;
  }
}

export function isRealtimeError(error: unknown): error is RealtimeError {
  return typeof error === 'object' && error !== null && REALTIME_ERROR_MARKER in error;
}
