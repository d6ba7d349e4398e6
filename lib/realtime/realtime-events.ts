import { EventSource } from '../common/event';

/** Identifies a connection in every event. */
export interface RealtimeConnectionRef {
  /** The peer's service name. */
  service: string;
  /** `<service>#<n>`, unique in the process. */
  connection: string;
  /** The URL without secrets (sensitive query values are `***`). */
  url: string;
}

/** A connection opened (the first time, or again after a drop). */
export interface RealtimeOpenedEvent extends RealtimeConnectionRef {
  /** `true` when it had been open before. */
  reconnected: boolean;
  /** Attempts this opening took (1 when the first attempt worked). */
  attempts: number;
  /** Since the connection dropped (or since `connect()` for the first opening), in ms. */
  downtimeMs: number;
}

/** A connection closed or an attempt failed. */
export interface RealtimeClosedEvent extends RealtimeConnectionRef {
  /** WebSocket close code (1006 when the socket dropped without a close frame). */
  code: number;
  reason: string;
  /** Whether it had opened (false: an attempt that failed). */
  wasOpen: boolean;
  /** False when the app closed it (or shut down): no reconnect follows. */
  willReconnect: boolean;
  /** `RealtimeError` code of what caused it, if anything did (`ERR_HEARTBEAT_TIMEOUT`, `ECONNREFUSED`, ...). */
  error?: string;
}

/** An attempt to (re)connect is scheduled. */
export interface RealtimeReconnectEvent extends RealtimeConnectionRef {
  /** The backoff step: attempts since the connection was last stable (1 for the first). */
  attempt: number;
  delayMs: number;
  /** `closed` (the connection or attempt ended), `circuit-open` (the breaker refused the attempt) or `error` (the credentials could not be made). */
  reason: 'closed' | 'circuit-open' | 'error';
}

/** A message went out (written to the socket) or came in. */
export interface RealtimeMessageEvent extends RealtimeConnectionRef {
  direction: 'in' | 'out';
  bytes: number;
  binary: boolean;
}

/** A `send()` was rejected. */
export interface RealtimeSendFailedEvent extends RealtimeConnectionRef {
  /** `RealtimeError` code. */
  code: string;
  /** Whether the message had been written to a socket (the peer may have it). */
  written: boolean;
}

/**
 * App-wide events of every WebSocket connection, at `KugelCommsEvents.realtime`:
 * `events.realtime.opened.on((e) => ...)`. Each connection also has its own `onOpen`, `onClose`,
 * `onReconnect`, `onMessage` (with the data) and `onError`. Events are built only when someone
 * listens; a listener that throws never changes the connection's behaviour.
 */
export class RealtimeEvents {
  readonly opened = new EventSource<RealtimeOpenedEvent>();
  readonly closed = new EventSource<RealtimeClosedEvent>();
  readonly reconnectScheduled = new EventSource<RealtimeReconnectEvent>();
  readonly message = new EventSource<RealtimeMessageEvent>();
  readonly sendFailed = new EventSource<RealtimeSendFailedEvent>();
}
