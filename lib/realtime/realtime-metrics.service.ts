import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { Unsubscribe } from '../common/event';
import { KUGEL_COMMS_RESOLVED_OPTIONS } from '../kugel-comms.constants';
import { ResolvedKugelCommsOptions } from '../options/resolved-options.interface';
import { RealtimeEvents } from './realtime-events';
import { PromMetrics } from '../observability/prom-metrics';
import { RealtimeState } from './realtime-connection.interface';
import { RealtimeClient } from './realtime-client.service';

/** Metric names of the WebSocket client, without the prefix (`metrics.prefix`). */
export const REALTIME_METRIC_NAMES = {
  connections: 'ws_connections',
  buffered: 'ws_buffered_messages',
  reconnects: 'ws_reconnects_total',
  messages: 'ws_messages_total',
  sendFailures: 'ws_send_failures_total',
} as const;

const STATES: readonly RealtimeState[] = ['connecting', 'open', 'reconnecting', 'closing'];

/**
 * Prometheus metrics of the WebSocket connections, with the REST metrics when `metrics.enabled`
 * (same prefix and registry; nothing is loaded otherwise):
 *
 * | metric | type | labels |
 * |---|---|---|
 * | `<prefix>ws_connections` | gauge | `service`, `state` (`connecting`, `open`, `reconnecting`, `closing`) |
 * | `<prefix>ws_buffered_messages` | gauge | `service` (waiting for a connection + written and unconfirmed) |
 * | `<prefix>ws_reconnects_total` | counter | `service`, `reason` (`closed`, `circuit-open`, `error`) |
 * | `<prefix>ws_messages_total` | counter | `service`, `direction` (`in`, `out`: written to the socket, re-sends included) |
 * | `<prefix>ws_send_failures_total` | counter | `service`, `code` (`ERR_SEND_BUFFER_FULL`, ...) |
 *
 * Gauges are read at scrape time. Paths are not a label (they carry tenant and store ids). Each
 * peer's breaker (`ws:<service>`) is in `circuit_breaker_state` with the others.
 */
@Injectable()
export class RealtimeMetrics implements OnModuleDestroy {
  private readonly subscriptions: Unsubscribe[] = [];

  constructor(
    @Inject(KUGEL_COMMS_RESOLVED_OPTIONS) private readonly options: ResolvedKugelCommsOptions,
    private readonly events: RealtimeEvents,
    private readonly client: RealtimeClient,
  ) {
    if (options.metrics.enabled) this.start();
  }

  private start(): void {
    const metrics = new PromMetrics(this.options.metrics);
    this.subscriptions.push(
      metrics.gauge(REALTIME_METRIC_NAMES.connections, 'WebSocket connections, by state', ['service', 'state'], (g) => {
        for (const { service, state } of this.client.connections()) {
          if (STATES.includes(state)) g.inc({ service, state });
        }
      }),
      metrics.gauge(
        REALTIME_METRIC_NAMES.buffered,
        'WebSocket messages held: waiting for a connection or written and not yet confirmed',
        ['service'],
        (g) => {
          for (const conn of this.client.connections()) {
            const s = conn.snapshot();
            g.inc({ service: s.service }, s.waiting + s.unconfirmed);
          }
        },
      ),
    );
    const reconnects = metrics.counter(REALTIME_METRIC_NAMES.reconnects, 'WebSocket reconnect attempts scheduled', [
      'service',
      'reason',
    ]);
    const messages = metrics.counter(REALTIME_METRIC_NAMES.messages, 'WebSocket messages written or received', [
      'service',
      'direction',
    ]);
    const failures = metrics.counter(REALTIME_METRIC_NAMES.sendFailures, 'WebSocket sends rejected, by code', [
      'service',
      'code',
    ]);
    const ws = this.events;
    this.subscriptions.push(
      ws.reconnectScheduled.on((e) => reconnects.inc({ service: e.service, reason: e.reason })),
      ws.message.on((e) => messages.inc({ service: e.service, direction: e.direction })),
      ws.sendFailed.on((e) => failures.inc({ service: e.service, code: e.code })),
    );
  }

  /** Stops counting (the metrics stay in the registry; this app's connections leave the gauges). */
  onModuleDestroy(): void {
    for (const unsubscribe of this.subscriptions.splice(0)) unsubscribe();
  }
}
