import { RealtimeError } from '../errors/realtime.error';
import { Fifo } from './fifo';

/** One `send()` until it is confirmed or rejected. */
export interface PendingMessage {
  data: string | Buffer;
  enqueuedAt: number;
  /** Written to a socket at least once (the peer may have it). */
  written: boolean;
  /** Write sequence number of its last write. */
  seq: number;
  resolve: () => void;
  reject: (error: RealtimeError) => void;
}

/** Makes the error of a failed message (the connection adds service and URL). */
export type SendErrorFactory = (code: string, why: string, written: boolean) => RealtimeError;

/**
 * The messages of one connection that are not settled yet: `waiting` (not written on the current
 * socket, oldest first) and `unconfirmed` (written, waiting for the peer's receipt). Both count
 * toward `size`; a message older than `timeoutMs` is rejected with `ERR_SEND_TIMEOUT` by one timer
 * armed for the oldest message.
 */
export class SendBuffer {
  private readonly waiting = new Fifo<PendingMessage>();
  private readonly unconfirmed = new Fifo<PendingMessage>();
  private seq = 0;
  private expiry?: NodeJS.Timeout;
  private drained: Array<() => void> = [];

  constructor(
    private readonly limits: { size: number; timeoutMs: number },
    private readonly error: SendErrorFactory,
    private readonly now: () => number = Date.now,
  ) {}

  /** Messages held: waiting plus unconfirmed. */
  get size(): number {
    return this.waiting.length + this.unconfirmed.length;
  }

  get waitingCount(): number {
    return this.waiting.length;
  }

  get unconfirmedCount(): number {
    return this.unconfirmed.length;
  }

  /** Sequence number of the last write. */
  get lastWritten(): number {
    return this.seq;
  }

  /**
   * Takes a message: written at once with `write` when one is given and nothing waits before it,
   * queued otherwise. Rejects at once (`ERR_SEND_BUFFER_FULL`) when `size` messages are held.
   */
  push(data: string | Buffer, write?: (m: PendingMessage) => void): Promise<void> {
    if (this.size >= this.limits.size) {
      return Promise.reject(
        this.error(
          'ERR_SEND_BUFFER_FULL',
          `send buffer full (${this.limits.size} messages waiting or unconfirmed): message refused, nothing was sent`,
          false,
        ),
      );
    }
    let m!: PendingMessage;
    const settled = new Promise<void>((resolve, reject) => {
      m = { data, enqueuedAt: this.now(), written: false, seq: 0, resolve, reject };
    });
    if (write && this.waiting.length === 0) this.writeOne(m, write);
    else this.waiting.push(m);
    if (!this.expiry) this.armExpiry();
    return settled;
  }

  /** Writes every waiting message, oldest first, with `write`; they become unconfirmed. */
  flush(write: (m: PendingMessage) => void): void {
    let m: PendingMessage | undefined;
    while ((m = this.waiting.shift()) !== undefined) this.writeOne(m, write);
  }

  private writeOne(m: PendingMessage, write: (m: PendingMessage) => void): void {
    m.seq = ++this.seq;
    m.written = true;
    this.unconfirmed.push(m);
    write(m);
  }

  /** The peer confirmed every write up to `seq`. */
  confirm(seq: number): void {
    let m: PendingMessage | undefined;
    while ((m = this.unconfirmed.peek()) !== undefined && m.seq <= seq) {
      this.unconfirmed.shift();
      m.resolve();
    }
    if (this.unconfirmed.length === 0) {
      if (this.waiting.length === 0) this.dispose();
      if (this.drained.length > 0) for (const done of this.drained.splice(0)) done();
    }
  }

  /**
   * The socket died: unconfirmed messages go back in front of the waiting ones, in order
   * (`resend`), or are rejected with `ERR_NOT_CONFIRMED`.
   */
  connectionLost(resend: boolean): void {
    const lost = this.unconfirmed.drain();
    if (resend) this.waiting.prepend(lost);
    else {
      for (const m of lost) {
        m.reject(
          this.error('ERR_NOT_CONFIRMED', 'the connection died before the peer confirmed the message', m.written),
        );
      }
    }
    for (const done of this.drained.splice(0)) done();
  }

  /** Rejects everything held (the connection is closing) with `code`. */
  rejectAll(code: string, why: string): void {
    for (const m of [...this.unconfirmed.drain(), ...this.waiting.drain()]) m.reject(this.error(code, why, m.written));
    for (const done of this.drained.splice(0)) done();
    this.dispose();
  }

  /** Resolves when nothing is unconfirmed (or the socket died). */
  whenConfirmed(): Promise<void> {
    if (this.unconfirmed.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  /** Clears the expiry timer. */
  dispose(): void {
    if (this.expiry) clearTimeout(this.expiry);
    this.expiry = undefined;
  }

  private armExpiry(): void {
    const oldest = Math.min(
      this.unconfirmed.peek()?.enqueuedAt ?? Infinity,
      this.waiting.peek()?.enqueuedAt ?? Infinity,
    );
    this.expiry = undefined;
    if (oldest === Infinity) return;
    const delay = Math.max(0, oldest + this.limits.timeoutMs - this.now());
    this.expiry = setTimeout(() => this.expire(), delay);
  }

  private expire(): void {
    const cutoff = this.now() - this.limits.timeoutMs;
    for (const queue of [this.unconfirmed, this.waiting]) {
      let m: PendingMessage | undefined;
      while ((m = queue.peek()) !== undefined && m.enqueuedAt <= cutoff) {
        queue.shift();
        m.reject(
          this.error(
            'ERR_SEND_TIMEOUT',
            `not confirmed by the peer within ${this.limits.timeoutMs} ms (sendTimeoutMs)`,
            m.written,
          ),
        );
      }
    }
    if (this.unconfirmed.length === 0) for (const done of this.drained.splice(0)) done();
    this.armExpiry();
  }
}
