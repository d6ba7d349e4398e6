import { EventSource } from '../common/event';
import { RealtimeError } from '../errors/realtime.error';
import { redactUrl } from '../common/redact';
import {
  ConnectionSetup,
  RealtimeConnectionSnapshot,
  RealtimeMessage,
  RealtimeState,
} from './realtime-connection.interface';
import {
  RealtimeClosedEvent,
  RealtimeConnectionRef,
  RealtimeOpenedEvent,
  RealtimeReconnectEvent,
} from './realtime-events';
import { ReconnectingSocket } from './reconnecting-socket';
import { ErrorDetails } from './socket-hooks.interface';
import { PendingMessage, SendBuffer } from './send-buffer';
import { plainCause } from './socket-errors';

/** What `send()` accepts: text, binary, or a value sent as JSON text. */
export type RealtimePayload = string | Uint8Array | object | number | boolean | null;

/**
 * One managed WebSocket connection to a peer service, from `RealtimeClient.connect()`. It starts
 * connecting at once, reconnects with backoff after every drop until `close()`, checks the peer
 * with pings, and holds what is sent while it is down.
 *
 * `send()` resolves once the peer's WebSocket endpoint has the message, and rejects with
 * `RealtimeError` otherwise — never silently.
 */
export class RealtimeConnection {
  /** The connection opened (the first time or again). */
  readonly onOpen = new EventSource<RealtimeOpenedEvent>();
  /** The connection closed, or an attempt failed. */
  readonly onClose = new EventSource<RealtimeClosedEvent>();
  /** A (re)connect attempt is scheduled. */
  readonly onReconnect = new EventSource<RealtimeReconnectEvent>();
  /** A message came in: text as a string, binary as a Buffer. */
  readonly onMessage = new EventSource<RealtimeMessage>();
  /** Something failed: a handshake, the heartbeat, an invalid or oversized frame from the peer. */
  readonly onError = new EventSource<RealtimeError>();

  /** `<service>#<n>`, unique in the process. */
  readonly id: string;
  /** The peer's service name. */
  readonly service: string;

  private current: RealtimeState = 'connecting';
  private since: number;
  private displayUrl: string;
  private lastError?: { error: RealtimeError; at: number };
  /** Since when it has not been open (from `connect()` before the first opening); `undefined` while open. */
  private downSince?: number;
  private closing?: Promise<void>;
  private closeRequested = false;
  private endWaiters: Array<() => void> = [];
  private readonly buffer: SendBuffer;
  private readonly socket: ReconnectingSocket;
  private readonly now: () => number;

  /** @internal Built by `RealtimeClient.connect()`. */
  constructor(private readonly setup: ConnectionSetup) {
    this.id = setup.id;
    this.service = setup.target.service;
    this.now = setup.now ?? Date.now;
    this.since = this.now();
    this.downSince = this.since;
    this.displayUrl = redactUrl(setup.target.url);
    const s = setup.settings;
    this.buffer = new SendBuffer(
      { size: s.sendBufferSize, timeoutMs: s.sendTimeoutMs },
      (code, why, written) => this.sendError(code, why, written),
      this.now,
    );
    this.socket = new ReconnectingSocket(setup, {
      state: (state) => this.setState(state),
      url: (url) => (this.displayUrl = url),
      opened: (info) => this.opened(info),
      closed: (info) => {
        if (info.wasOpen) this.downSince = this.now();
        this.emit(this.onClose, this.setup.events.closed, { ...this.ref(), ...info });
      },
      reconnecting: (info) =>
        this.emit(this.onReconnect, this.setup.events.reconnectScheduled, { ...this.ref(), ...info }),
      message: (data, binary) => this.received(data, binary),
      failed: (error, level) => this.report(error, level),
      ended: () => this.ended(),
      lastWritten: () => this.buffer.lastWritten,
      confirmed: (seq) => this.buffer.confirm(seq),
      lost: () => this.buffer.connectionLost(s.resendUnconfirmed),
      error: (code, why, details) => this.error(code, why, details),
    });
  }

  /** `connecting`, `open`, `reconnecting` (waiting for the next attempt), `closing` or `closed`. */
  get state(): RealtimeState {
    return this.current;
  }

  /** The URL of the last attempt, without secrets (sensitive query values are `***`). */
  get url(): string {
    return this.displayUrl;
  }

  /**
   * Sends one message: a string as text, a `Buffer`/`Uint8Array` as binary, anything else as JSON
   * text. Resolves when the peer confirmed it. Rejects with `RealtimeError`: `ERR_MESSAGE_TOO_LARGE`
   * or `ERR_BAD_REQUEST_INPUT` (nothing sent), `ERR_SEND_BUFFER_FULL`, `ERR_SEND_TIMEOUT`,
   * `ERR_NOT_CONFIRMED`, `ERR_CONNECTION_CLOSED`; its `written` says whether the peer may have it.
   */
  send(message: RealtimePayload): Promise<void> {
    if (this.closeRequested) {
      return Promise.reject(this.sendError('ERR_CONNECTION_CLOSED', 'the connection is closed', false));
    }
    let data: string | Buffer;
    if (typeof message === 'string' || Buffer.isBuffer(message)) data = message;
    else if (message instanceof Uint8Array) data = Buffer.from(message.buffer, message.byteOffset, message.byteLength);
    else {
      let json: string | undefined;
      try {
        json = JSON.stringify(message);
      } catch (error) {
        const why = `message is not JSON-serialisable: ${(error as Error).message.split('\n')[0]} (nothing was sent)`;
        return Promise.reject(this.sendError('ERR_BAD_REQUEST_INPUT', why, false));
      }
      if (json === undefined) {
        const why = `a ${typeof message} message is not JSON-serialisable (nothing was sent)`;
        return Promise.reject(this.sendError('ERR_BAD_REQUEST_INPUT', why, false));
      }
      data = json;
    }
    const max = this.setup.settings.maxMessageBytes;
    // A UTF-16 unit is 1 to 3 UTF-8 bytes: count the bytes only when the length leaves it open.
    const tooLarge =
      typeof data === 'string'
        ? data.length > max || (data.length * 3 > max && Buffer.byteLength(data) > max)
        : data.length > max;
    if (tooLarge) {
      const bytes = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
      const why = `message of ${bytes} bytes is over maxMessageBytes (${max}) (nothing was sent)`;
      return Promise.reject(this.sendError('ERR_MESSAGE_TOO_LARGE', why, false));
    }
    return this.buffer.push(data, this.socket.writable ? this.writer : undefined);
  }

  /** Resolves once the connection is open (at once when it is); rejects after `timeoutMs` or on `close()`. */
  waitForOpen(timeoutMs = 30_000): Promise<void> {
    if (this.current === 'open') return Promise.resolve();
    if (this.closeRequested) return Promise.reject(this.error('ERR_CONNECTION_CLOSED', 'the connection is closed'));
    return new Promise<void>((resolve, reject) => {
      const done = (error?: RealtimeError) => {
        clearTimeout(timer);
        offOpen();
        this.endWaiters = this.endWaiters.filter((w) => w !== onEnd);
        if (error) reject(error);
        else resolve();
      };
      const onEnd = () => done(this.error('ERR_CONNECTION_CLOSED', 'the connection was closed before it opened'));
      const offOpen = this.onOpen.on(() => done());
      this.endWaiters.push(onEnd);
      const timer = setTimeout(() => {
        const last = this.lastError ? ` (last error: ${this.lastError.error.code})` : '';
        done(this.error('ERR_OPEN_TIMEOUT', `not open after ${timeoutMs} ms${last}`));
      }, timeoutMs);
    });
  }

  /**
   * Closes for good: no more reconnects. Messages waiting for a connection are rejected
   * (`ERR_CONNECTION_CLOSED`); messages already written get up to `heartbeatTimeoutMs` for the
   * peer's confirmation before the closing handshake. Resolves when the socket is closed and every
   * timer is cleared. `code`: 1000 (default), 1001 or 3000–4999; `reason`: at most 123 bytes.
   */
  close(code = 1000, reason = ''): Promise<void> {
    if (this.closing) return this.closing;
    const validCode = code === 1000 || code === 1001 || (Number.isInteger(code) && code >= 3000 && code <= 4999);
    if (!validCode || typeof reason !== 'string' || Buffer.byteLength(reason) > 123) {
      const why = 'close code must be 1000, 1001 or 3000–4999 and the reason at most 123 bytes';
      return Promise.reject(this.error('ERR_BAD_REQUEST_INPUT', why));
    }
    this.closeRequested = true;
    this.setState('closing');
    this.closing = this.socket.close(code, reason, () => this.buffer.whenConfirmed());
    return this.closing;
  }

  /** A point-in-time view, for health reports and metrics. */
  snapshot(): RealtimeConnectionSnapshot {
    const e = this.lastError;
    return {
      connection: this.id,
      service: this.service,
      url: this.displayUrl,
      state: this.current,
      since: this.since,
      ...(this.downSince !== undefined && this.current !== 'open' ? { downSince: this.downSince } : {}),
      failedAttempts: this.socket.failedAttempts,
      waiting: this.buffer.waitingCount,
      unconfirmed: this.buffer.unconfirmedCount,
      ...(e ? { lastError: { code: e.error.code, message: e.error.message, at: e.at } } : {}),
    };
  }

  /** @internal Starts the first attempt. */
  start(): void {
    this.socket.start();
  }

  private readonly writer = (m: PendingMessage): void => {
    this.socket.write(m.data);
    const events = this.setup.events.message;
    if (events.hasListeners) {
      const bytes = typeof m.data === 'string' ? Buffer.byteLength(m.data) : m.data.length;
      events.emit({ ...this.ref(), direction: 'out', bytes, binary: typeof m.data !== 'string' });
    }
  };

  private opened(info: { reconnected: boolean; attempts: number }): void {
    const { reconnected, attempts } = info;
    const downtimeMs = this.now() - this.downSince!;
    this.downSince = undefined;
    this.setup.logger.log(
      `${reconnected ? 'reconnected' : 'connected'} to ${this.displayUrl}` +
        (reconnected ? ` after ${downtimeMs} ms (${attempts} attempt${attempts === 1 ? '' : 's'})` : ''),
    );
    // What waited for the connection goes first, in order.
    this.buffer.flush(this.writer);
    this.emit(this.onOpen, this.setup.events.opened, { ...this.ref(), ...info, downtimeMs });
  }

  private received(data: Buffer, binary: boolean): void {
    const app = this.setup.events.message;
    if (app.hasListeners) app.emit({ ...this.ref(), direction: 'in', bytes: data.length, binary });
    if (this.onMessage.hasListeners) {
      this.onMessage.emit({ data: binary ? data : data.toString('utf8'), binary, bytes: data.length });
    }
  }

  private ended(): void {
    this.buffer.rejectAll('ERR_CONNECTION_CLOSED', 'the connection was closed before the peer confirmed the message');
    this.setState('closed');
    this.setup.onEnded(this.id);
    for (const done of this.endWaiters.splice(0)) done();
  }

  private report(error: RealtimeError, level: 'warn' | 'debug'): void {
    this.lastError = { error, at: this.now() };
    this.setup.logger[level](error.message);
    this.onError.emit(error);
  }

  private emit<T>(own: EventSource<T>, app: EventSource<T>, event: T): void {
    own.emit(event);
    app.emit(event);
  }

  private setState(state: RealtimeState): void {
    // `closing` holds until `closed`, whatever the socket does meanwhile.
    if (this.current === state || (this.closeRequested && state !== 'closed' && state !== 'closing')) return;
    this.current = state;
    this.since = this.now();
  }

  private ref(): RealtimeConnectionRef {
    return { service: this.service, connection: this.id, url: this.displayUrl };
  }

  private error(code: string, why: string, details: ErrorDetails = {}): RealtimeError {
    return new RealtimeError(`${this.service} ${this.displayUrl}: ${why}`, {
      code,
      service: this.service,
      url: this.displayUrl,
      statusCode: details.statusCode,
      cause: details.cause === undefined ? undefined : plainCause(details.cause, details.rawUrl),
    });
  }

  private sendError(code: string, why: string, written: boolean): RealtimeError {
    const error = new RealtimeError(`send to ${this.service} ${this.displayUrl}: ${why}`, {
      code,
      service: this.service,
      url: this.displayUrl,
      written,
    });
    const events = this.setup.events.sendFailed;
    if (events.hasListeners) events.emit({ ...this.ref(), code, written });
    return error;
  }
}
