import { BackoffOptions } from './backoff-options.interface';
import { CircuitBreakerOptions } from './circuit-breaker-options.interface';

/**
 * The backoff between reconnect attempts (`BackoffOptions`: attempt n waits
 * `min(maxDelayMs, initialDelayMs × multiplier^(n−1))`, minus up to `jitter` of it), and when it
 * starts over. Steps are at least 1 ms. An open breaker may hold attempts back longer than `maxDelayMs`.
 * @default { initialDelayMs: 100, maxDelayMs: 30000, multiplier: 2, jitter: 0.2, resetAfterMs: 2000 }
 */
export interface ReconnectOptions extends BackoffOptions {
  /**
   * A connection that stayed open this long counts as stable: the next drop starts again from
   * `initialDelayMs`. A peer that accepts and then closes at once (a refused token) is backed off.
   * @default 2000
   */
  resetAfterMs?: number;
}

/** Settings of the WebSocket client (`realtime.*`); each one can be overridden per connection. */
export interface RealtimeSettings {
  /**
   * Largest message in either direction, in bytes. A bigger outgoing message is refused before it
   * is sent; a bigger incoming one makes `ws` close the connection with 1009.
   * @default 1048576 (1 MiB)
   */
  maxMessageBytes?: number;
  /**
   * Messages a connection holds at most: those waiting for a connection plus those written and
   * not yet confirmed. A `send()` beyond it is rejected with `ERR_SEND_BUFFER_FULL`.
   * @default 1000
   */
  sendBufferSize?: number;
  /**
   * A `send()` not confirmed within this time is rejected with `ERR_SEND_TIMEOUT` (and taken out of
   * the buffer if it was still waiting).
   * @default 30000
   */
  sendTimeoutMs?: number;
  /**
   * Re-send, after reconnecting, the messages written to a connection that died before the peer
   * confirmed them (at-least-once: the peer may see a message twice). `false`: reject them with
   * `ERR_NOT_CONFIRMED` instead (at-most-once).
   * @default true
   */
  resendUnconfirmed?: boolean;
  /**
   * Time allowed for one attempt: making its credentials (the `auth.bearer`, `headers` and `query`
   * functions, a service token) and the opening handshake. An attempt past it fails with
   * `ERR_HANDSHAKE_TIMEOUT` and the next one is backed off. @default 10000
   */
  handshakeTimeoutMs?: number;
  /** A ping is sent after this long without one (an idle connection is still checked). @default 15000 */
  heartbeatIntervalMs?: number;
  /** A ping not answered by a pong within this time marks the peer dead: the socket is dropped. @default 10000 */
  heartbeatTimeoutMs?: number;
  /** Reconnect backoff (`ReconnectOptions`: the `BackoffOptions` and `resetAfterMs`). */
  reconnect?: ReconnectOptions;
}

/** `realtime` option of `KugelCommsModule.forRoot()`: the service-to-service WebSocket client. */
export interface RealtimeOptions extends RealtimeSettings {
  /**
   * The breaker of each WebSocket peer (`ws:<service>`), shared by every connection to it: a
   * connection attempt that fails (refused, timed out, 5xx answer) counts as a failure; while it is
   * open no attempt is made. `false` turns it off.
   * @default { failureThreshold: 5, resetTimeoutMs: 30000, halfOpenMaxCalls: 1 }
   */
  breaker?: false | CircuitBreakerOptions;
}
