import { Logger } from '@nestjs/common';
import { CircuitBreaker } from '../circuit-breaker/circuit-breaker';
import { RealtimeEvents } from './realtime-events';
import { ResolvedRealtimeSettings } from '../options/resolved-options.interface';
import { RealtimeTarget } from './realtime-target';

/**
 * `connecting` (an attempt is under way), `open`, `reconnecting` (waiting for the next attempt),
 * `closing` (`close()` was called) or `closed` (for good).
 */
export type RealtimeState = 'connecting' | 'open' | 'reconnecting' | 'closing' | 'closed';

/** A message from the peer. */
export interface RealtimeMessage {
  /** Text frames as a string, binary frames as a Buffer. */
  data: string | Buffer;
  binary: boolean;
  bytes: number;
}

/** A point-in-time view of a connection (health details, metrics). */
export interface RealtimeConnectionSnapshot {
  connection: string;
  service: string;
  /** Without secrets. */
  url: string;
  state: RealtimeState;
  /** Epoch ms of the last state change. */
  since: number;
  /** Epoch ms since when it has not been open (since `connect()` before the first opening); absent while open. */
  downSince?: number;
  /** Attempts that failed since the connection was last stable (the backoff step). */
  failedAttempts: number;
  /** Messages waiting for a connection. */
  waiting: number;
  /** Messages written and not yet confirmed by the peer. */
  unconfirmed: number;
  lastError?: { code: string; message: string; at: number };
}

/** What one opening handshake sends besides the URL. */
export interface Handshake {
  headers: Record<string, string>;
  query: Record<string, string>;
}

/** @internal What `RealtimeClient` gives each connection. */
export interface ConnectionSetup {
  id: string;
  target: RealtimeTarget;
  settings: ResolvedRealtimeSettings;
  /** Headers and query of the next attempt (fresh credentials each time). */
  handshake: () => Promise<Handshake>;
  protocols?: string[];
  breaker?: CircuitBreaker;
  events: RealtimeEvents;
  logger: Logger;
  /** Called once the connection is closed for good. */
  onEnded: (connectionId: string) => void;
  now?: () => number;
  random?: () => number;
}
