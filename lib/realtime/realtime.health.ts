import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { RealtimeState } from './realtime-connection.interface';
import { RealtimeClient } from './realtime-client.service';

/** What the indicator reports per connection. */
export interface RealtimeHealthDetails {
  service: string;
  /** Without secrets. */
  url: string;
  state: RealtimeState;
  /** ISO time of the last state change. */
  since: string;
  /** ISO time since when it has not been open (absent while open). */
  downSince?: string;
  failedAttempts: number;
  /** Messages waiting for a connection / written and not confirmed yet. */
  waiting: number;
  unconfirmed: number;
  /** Code of the last failure (`ECONNREFUSED`, `ERR_HEARTBEAT_TIMEOUT`, ...). */
  lastError?: string;
  /** Whether this connection not being open makes the indicator `down`. */
  critical: boolean;
}

/** Per-check options of `RealtimeHealthIndicator.isHealthy(key, options)`. */
export interface RealtimeCheckOptions {
  /** Only connections to these services can make the check `down` (default: every connection). */
  services?: string[];
  /** A connection down for less than this is still reported `up` (a reconnect does not flap readiness). @default 0 */
  graceMs?: number;
}

/**
 * Terminus indicator of the WebSocket connections: `up` when every critical connection is open,
 * `down` naming those that are not (connecting or reconnecting for longer than `graceMs`), with
 * each connection's state, backoff and buffer in the details. Returns results, never throws.
 *
 * Like the breakers, it belongs in readiness, never in liveness: a peer being down is no reason
 * to restart this pod. The breaker of each peer (`ws:<service>`) is also in
 * `CircuitBreakerHealthIndicator`.
 */
@Injectable()
export class RealtimeHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly client: RealtimeClient,
  ) {}

  isHealthy<const Key extends string = 'realtime'>(
    key: Key = 'realtime' as Key,
    options: RealtimeCheckOptions = {},
  ): HealthIndicatorResult<Key> {
    const now = Date.now();
    const grace = typeof options.graceMs === 'number' && options.graceMs > 0 ? options.graceMs : 0;
    const details: Record<string, RealtimeHealthDetails> = {};
    const down: string[] = [];
    for (const connection of this.client.connections()) {
      const s = connection.snapshot();
      const critical = options.services === undefined || options.services.includes(s.service);
      details[s.connection] = {
        service: s.service,
        url: s.url,
        state: s.state,
        since: new Date(s.since).toISOString(),
        ...(s.downSince !== undefined ? { downSince: new Date(s.downSince).toISOString() } : {}),
        failedAttempts: s.failedAttempts,
        waiting: s.waiting,
        unconfirmed: s.unconfirmed,
        ...(s.lastError ? { lastError: s.lastError.code } : {}),
        critical,
      };
      const notOpen = s.state === 'connecting' || s.state === 'reconnecting';
      if (critical && notOpen && now - (s.downSince ?? now) >= grace) down.push(s.connection);
    }
    const session = this.health.check(key);
    if (down.length > 0) return session.down({ message: `not connected: ${down.join(', ')}`, connections: details });
    return session.up({ connections: details });
  }
}
