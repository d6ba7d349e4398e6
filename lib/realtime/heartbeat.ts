import { Fifo } from './fifo';

/** What the heartbeat needs from its socket and connection. */
export interface HeartbeatIo {
  /** Sends a ping frame with this payload. */
  ping(payload: Buffer): void;
  /** Sequence number of the last message written. */
  lastWritten(): number;
  /** The peer confirmed every write up to this sequence number. */
  confirmed(seq: number): void;
  /** No pong within the timeout: the peer is gone. */
  dead(): void;
  /** Called once the receipt ping of a turn is written (the socket may send what it held). */
  endOfTurn(): void;
}

interface Ping {
  id: number;
  /** The last write sent before this ping. */
  covers: number;
  sentAt: number;
}

/**
 * Pings of one socket, for two jobs. Liveness: a ping goes out after `intervalMs` without one, and
 * a ping left unanswered for `timeoutMs` marks the peer dead (it stopped answering without
 * closing). Receipts: after messages are written, one ping per turn of the event loop follows them;
 * RFC 6455 peers answer pings in order after reading the frames before them, so its pong confirms
 * every message written before it. The payload is the ping's number, so a pong names its ping.
 */
export class Heartbeat {
  private readonly pings = new Fifo<Ping>();
  private nextId = 0;
  /** The last write covered by a ping already sent. */
  private lastCovers = 0;
  private interval?: NodeJS.Timeout;
  private deadline?: NodeJS.Timeout;
  private receipt?: NodeJS.Immediate;
  private stopped = false;

  constructor(
    private readonly options: { intervalMs: number; timeoutMs: number },
    private readonly io: HeartbeatIo,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    this.interval = setInterval(() => {
      if (this.pings.length === 0) this.ping();
    }, this.options.intervalMs);
  }

  /**
   * A ping after what this turn of the event loop writes (one per turn, however many messages),
   * then `endOfTurn()`.
   */
  requestReceipt(): void {
    if (this.receipt || this.stopped) return;
    this.receipt = setImmediate(() => {
      this.receipt = undefined;
      if (this.io.lastWritten() > this.lastCovers) this.ping();
      this.io.endOfTurn();
    });
  }

  /** A pong arrived. Pongs with a payload we did not send (unsolicited pongs) are ignored. */
  pong(payload: Buffer): void {
    const id = payload.length > 0 && payload.length <= 16 ? Number(payload.toString('latin1')) : NaN;
    if (!Number.isSafeInteger(id)) return;
    let covers = -1;
    let p: Ping | undefined;
    while ((p = this.pings.peek()) !== undefined && p.id <= id) {
      this.pings.shift();
      covers = p.covers;
    }
    if (covers >= 0) this.io.confirmed(covers);
  }

  stop(): void {
    this.stopped = true;
    if (this.interval) clearInterval(this.interval);
    if (this.deadline) clearTimeout(this.deadline);
    if (this.receipt) clearImmediate(this.receipt);
    this.interval = this.deadline = this.receipt = undefined;
    this.pings.drain();
  }

  private ping(): void {
    if (this.stopped) return;
    const ping: Ping = { id: ++this.nextId, covers: this.io.lastWritten(), sentAt: this.now() };
    this.pings.push(ping);
    this.lastCovers = ping.covers;
    this.io.ping(Buffer.from(String(ping.id), 'latin1'));
    if (!this.deadline) this.armDeadline();
  }

  /** One timer for the oldest unanswered ping; re-armed lazily when it fires. */
  private armDeadline(): void {
    this.deadline = undefined;
    const oldest = this.pings.peek();
    if (!oldest || this.stopped) return;
    const left = oldest.sentAt + this.options.timeoutMs - this.now();
    if (left <= 0) {
      this.stop();
      this.io.dead();
      return;
    }
    this.deadline = setTimeout(() => this.armDeadline(), left);
  }
}
