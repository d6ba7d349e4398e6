import { RealtimeError } from '../errors/realtime.error';
import { RealtimeState } from './realtime-connection.interface';
import { RealtimeReconnectEvent } from './realtime-events';

/** Options of a `RealtimeError` made by the socket. */
export interface ErrorDetails {
  cause?: unknown;
  /** The raw URL of the attempt, to take out of the cause's message. */
  rawUrl?: string;
  statusCode?: number;
}

/** What the socket tells its connection. */
export interface SocketHooks {
  state(state: RealtimeState): void;
  url(displayUrl: string): void;
  opened(info: { reconnected: boolean; attempts: number }): void;
  closed(info: { code: number; reason: string; wasOpen: boolean; willReconnect: boolean; error?: string }): void;
  reconnecting(info: Pick<RealtimeReconnectEvent, 'attempt' | 'delayMs' | 'reason'>): void;
  message(data: Buffer, binary: boolean): void;
  failed(error: RealtimeError, level: 'warn' | 'debug'): void;
  /** Closed for good. */
  ended(): void;
  /** Sequence number of the last message written (for receipts). */
  lastWritten(): number;
  /** The peer confirmed every write up to `seq`. */
  confirmed(seq: number): void;
  /** The socket died: unconfirmed messages are re-queued or rejected. */
  lost(): void;
  error(code: string, why: string, details?: ErrorDetails): RealtimeError;
}
