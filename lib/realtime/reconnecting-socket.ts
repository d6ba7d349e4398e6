import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { WebSocket } from 'ws';
import type { RawData } from 'ws';
import { CircuitPermit } from '../circuit-breaker/circuit-breaker';
import { RealtimeError } from '../errors/realtime.error';
import { redactUrl } from '../common/redact';
import { BackoffSequence } from '../common/backoff';
import { Heartbeat } from './heartbeat';
import { ConnectionSetup } from './realtime-connection.interface';
import { SocketHooks } from './socket-hooks.interface';
import { RealtimeReconnectEvent } from './realtime-events';
import { makeHandshake } from './realtime-handshake';
import { withQuery } from './realtime-target';
import { classifySocketError, settlePermit } from './socket-errors';
import { clientOptions } from './socket-options';

/**
 * Keeps one WebSocket open to a peer: attempts guarded by the peer's breaker, fresh handshake
 * credentials per attempt, a handshake timeout, backoff with jitter between attempts, and the
 * heartbeat. Knows nothing of messages beyond writing them; `RealtimeConnection` owns those.
 *
 * No wait of an attempt is open-ended: one timer (`handshakeTimeoutMs`) covers making the
 * credentials (the app's functions) and the opening handshake, and `close()` gives up both at once.
 */
export class ReconnectingSocket {
  private socket?: WebSocket;
  private opened = false;
  private everOpened = false;
  private openedAt = 0;
  private attempts = 0;
  private attempting = false;
  private permit?: CircuitPermit;
  private failure?: RealtimeError;
  private heartbeat?: Heartbeat;
  /** The TCP socket under the open WebSocket (from the `upgrade` response), corked within a turn. */
  private tcp?: Socket;
  private corked = false;
  private handshakeTimer?: NodeJS.Timeout;
  /** Aborted when the attempt stops waiting for its credentials (timed out or closed). */
  private building?: AbortController;
  private reconnectTimer?: NodeJS.Timeout;
  private closeRequested = false;
  private ended = false;
  private endWaiter?: () => void;
  private readonly backoff: BackoffSequence;
  private readonly now: () => number;

  constructor(
    private readonly setup: ConnectionSetup,
    private readonly hooks: SocketHooks,
  ) {
    this.now = setup.now ?? Date.now;
    this.backoff = new BackoffSequence(setup.settings.reconnect, setup.random);
  }

  /** Failed attempts since the connection was last stable. */
  get failedAttempts(): number {
    return this.backoff.attempts;
  }

  /** Open and able to take a message now. */
  get writable(): boolean {
    return this.opened && this.socket?.readyState === WebSocket.OPEN;
  }

  /** Starts the first attempt after the caller's synchronous code, so listeners added right after `connect()` see everything. */
  start(): void {
    queueMicrotask(() => void this.attempt());
  }

  /**
   * Writes one frame (call only when `writable`) and asks for a receipt. The frames of one turn of
   * the event loop leave in one system call: the TCP socket is corked at the first and uncorked
   * after the turn's receipt ping (`ws` has no batching of its own and writes each frame at once).
   */
  write(data: string | Buffer): void {
    if (!this.corked && this.tcp && !this.tcp.destroyed) {
      this.tcp.cork();
      this.corked = true;
    }
    this.socket!.send(data);
    this.heartbeat?.requestReceipt();
  }

  /**
   * Stops reconnecting and closes: `beforeClose` runs first while the socket is open (to wait for
   * receipts), then the closing handshake. Resolves once closed, every timer cleared.
   */
  async close(code: number, reason: string, beforeClose: () => Promise<void>): Promise<void> {
    this.closeRequested = true;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const ended = new Promise<void>((resolve) => (this.endWaiter = resolve));
    const socket = this.socket;
    // Credentials still being made are not waited for: the attempt ends, nothing is sent.
    this.building?.abort();
    if (socket && this.opened) {
      await beforeClose();
      if (socket === this.socket && socket.readyState === WebSocket.OPEN) socket.close(code, reason);
    } else if (socket) {
      socket.terminate();
    } else if (!this.attempting) {
      this.finish();
    }
    await ended;
  }

  private async attempt(): Promise<void> {
    this.reconnectTimer = undefined;
    if (this.closeRequested) return;
    this.attempting = true;
    try {
      await this.open();
    } catch (error) {
      // Not expected: an attempt that threw is reported and retried, never left unhandled.
      clearTimeout(this.handshakeTimer);
      this.hooks.failed(this.hooks.error('ERR_HANDSHAKE', 'attempt failed', { cause: error }), 'warn');
      if (!this.socket && !this.closeRequested) this.scheduleReconnect('error');
    } finally {
      this.attempting = false;
      if (this.closeRequested && !this.socket) this.finish();
    }
  }

  private async open(): Promise<void> {
    this.hooks.state('connecting');
    this.attempts += 1;
    const breaker = this.setup.breaker;
    const permit = breaker?.tryAcquire();
    if (breaker && !permit) {
      this.hooks.failed(
        this.hooks.error('ERR_CIRCUIT_OPEN', `circuit "${breaker.name}" is open: no attempt made`),
        'debug',
      );
      this.scheduleReconnect('circuit-open', breaker.retryAt);
      return;
    }
    // One deadline for the whole attempt: the credentials first, then the opening handshake.
    const ms = this.setup.settings.handshakeTimeoutMs;
    this.handshakeTimer = setTimeout(() => this.attemptTimedOut(ms), ms);
    this.building = new AbortController();
    const handshake = await makeHandshake(this.setup, this.hooks, this.building.signal, () => this.closeRequested);
    this.building = undefined;
    if (!handshake || this.closeRequested) {
      clearTimeout(this.handshakeTimer);
      permit?.release();
      if (handshake === undefined && !this.closeRequested) this.scheduleReconnect('error');
      return;
    }
    const url = withQuery(this.setup.target.url, handshake.query);
    this.hooks.url(redactUrl(url));
    let socket: WebSocket;
    try {
      socket = new WebSocket(url, this.setup.protocols ?? [], clientOptions(handshake, this.setup));
    } catch (error) {
      clearTimeout(this.handshakeTimer);
      permit?.release();
      const code = (error as { code?: string })?.code ?? 'invalid';
      const e = this.hooks.error('ERR_BAD_REQUEST_INPUT', `the handshake could not be sent (${code})`, {
        cause: error,
        rawUrl: url,
      });
      this.hooks.failed(e, 'warn');
      this.scheduleReconnect('error');
      return;
    }
    this.socket = socket;
    this.permit = permit;
    this.failure = undefined;
    this.opened = false;
    socket.on('upgrade', (res: IncomingMessage) => {
      if (socket === this.socket) this.tcp = res.socket;
    });
    socket.on('open', () => this.onOpen(socket));
    socket.on('message', (data: RawData, isBinary: boolean) => {
      if (socket === this.socket) this.hooks.message(data as Buffer, isBinary);
    });
    socket.on('pong', (data: Buffer) => {
      if (socket === this.socket) this.heartbeat?.pong(data);
    });
    socket.on('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      const why = `the peer answered the upgrade with HTTP ${status}`;
      this.abort(socket, this.hooks.error('ERR_HANDSHAKE', why, { statusCode: status }));
    });
    socket.on('error', (error: Error) => this.onError(socket, error, url));
    socket.on('close', (code: number, reason: Buffer) => this.onClose(socket, code, reason.toString()));
  }

  /** The attempt's deadline passed: give up its credentials, or the opening handshake under way. */
  private attemptTimedOut(ms: number): void {
    if (this.building) {
      const why = `the handshake credentials (auth, headers, query functions) were not made within ${ms} ms; abandoned`;
      this.building.abort(this.hooks.error('ERR_HANDSHAKE_TIMEOUT', why));
    } else if (this.socket && !this.opened) {
      this.abort(this.socket, this.hooks.error('ERR_HANDSHAKE_TIMEOUT', `no handshake answer within ${ms} ms`));
    }
  }

  private onOpen(socket: WebSocket): void {
    if (socket !== this.socket) return;
    clearTimeout(this.handshakeTimer);
    this.opened = true;
    this.permit?.success();
    this.permit = undefined;
    const now = this.now();
    const info = { reconnected: this.everOpened, attempts: this.attempts };
    this.everOpened = true;
    this.openedAt = now;
    this.attempts = 0;
    const s = this.setup.settings;
    this.heartbeat = new Heartbeat(
      { intervalMs: s.heartbeatIntervalMs, timeoutMs: s.heartbeatTimeoutMs },
      {
        ping: (payload) => {
          if (socket.readyState === WebSocket.OPEN) socket.ping(payload);
        },
        lastWritten: () => this.hooks.lastWritten(),
        confirmed: (seq) => this.hooks.confirmed(seq),
        endOfTurn: () => this.uncork(),
        dead: () => {
          const why = `the peer did not answer a ping within ${s.heartbeatTimeoutMs} ms`;
          this.abort(socket, this.hooks.error('ERR_HEARTBEAT_TIMEOUT', why));
        },
      },
      this.now,
    );
    this.heartbeat.start();
    this.hooks.state('open');
    this.hooks.opened(info);
  }

  private onError(socket: WebSocket, error: Error, url: string): void {
    if (socket !== this.socket || this.failure || this.closeRequested) return;
    const c = classifySocketError((error as { code?: string }).code, this.opened, this.setup.settings.maxMessageBytes);
    this.failure = this.hooks.error(c.code, c.why, { cause: error, rawUrl: url });
    this.hooks.failed(this.failure, 'warn');
  }

  private onClose(socket: WebSocket, code: number, reason: string): void {
    if (socket !== this.socket) return;
    clearTimeout(this.handshakeTimer);
    this.uncork();
    this.tcp = undefined;
    this.heartbeat?.stop();
    this.heartbeat = undefined;
    this.socket = undefined;
    const wasOpen = this.opened;
    this.opened = false;
    settlePermit(this.permit, this.failure);
    this.permit = undefined;
    const now = this.now();
    if (wasOpen) {
      if (now - this.openedAt >= this.setup.settings.reconnect.resetAfterMs) this.backoff.reset();
      if (!this.closeRequested) {
        this.setup.logger.warn(`connection closed (${code}${reason ? ` ${reason}` : ''}): reconnecting`);
      }
    }
    if (!this.closeRequested) this.hooks.lost();
    const willReconnect = !this.closeRequested;
    this.hooks.closed({ code, reason, wasOpen, willReconnect, ...(this.failure ? { error: this.failure.code } : {}) });
    if (this.closeRequested) this.finish();
    else this.scheduleReconnect('closed');
  }

  private scheduleReconnect(reason: RealtimeReconnectEvent['reason'], notBefore?: number): void {
    let delayMs = this.backoff.next();
    if (notBefore !== undefined) delayMs = Math.max(delayMs, notBefore - this.now());
    this.hooks.state('reconnecting');
    this.reconnectTimer = setTimeout(() => void this.attempt(), delayMs);
    this.hooks.reconnecting({ attempt: this.backoff.attempts, delayMs, reason });
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.handshakeTimer);
    this.heartbeat?.stop();
    this.hooks.ended();
    this.endWaiter?.();
  }

  private uncork(): void {
    if (!this.corked) return;
    this.corked = false;
    this.tcp?.uncork();
  }

  private abort(socket: WebSocket, error: RealtimeError): void {
    if (socket !== this.socket) return;
    if (!this.failure) {
      this.failure = error;
      this.hooks.failed(error, 'warn');
    }
    socket.terminate();
  }
}
