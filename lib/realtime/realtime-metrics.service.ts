import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
// Types only: prom-client is an optional peer, loaded with require() when metrics are enabled.
import type * as PromClient from 'prom-client';
import { Unsubscribe } from '../common/event';
import { KUGEL_COMMS_RESOLVED_OPTIONS } from '../kugel-comms.constants';
import { ResolvedKugelCommsOptions } from '../options/resolved-options.interface';
import { KugelCommsEvents } from '../observability/comms-events';
import { loadPromClient, reuseOrCreate } from '../observability/comms-metrics.service';
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

/** Clients reported by each shared gauge (a second app booted in one process reuses the first one's gauges). */
const gaugeSources = new WeakMap<object, Set<() => RealtimeClient>>();

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
  private readonly gauges: object[] = [];
  private readonly source = () => this.client;

  constructor(
    @Inject(KUGEL_COMMS_RESOLVED_OPTIONS) private readonly options: ResolvedKugelCommsOptions,
    private readonly events: KugelCommsEvents,
    private readonly client: RealtimeClient,
  ) {
    if (options.metrics.enabled) this.start();
  }

  private start(): void {
    const o = this.options.metrics;
    const prom = loadPromClient();
    const registry = (o.registry ?? prom.register) as PromClient.Registry;
    const name = (suffix: string) => `${o.prefix}${suffix}`;
    const counter = (suffix: string, help: string, labels: string[]) =>
      reuseOrCreate(
        registry,
        'Counter',
        labels,
        name(suffix),
        (n, labelNames) => new prom.Counter({ name: n, help, labelNames, registers: [registry] }),
      );
    const gauge = (
      suffix: string,
      help: string,
      labels: string[],
      fill: (g: PromClient.Gauge<string>, c: RealtimeClient) => void,
    ) => {
      const g = reuseOrCreate(registry, 'Gauge', labels, name(suffix), (n, labelNames) => {
        const created: PromClient.Gauge<string> = new prom.Gauge({
          name: n,
          help,
          labelNames,
          registers: [registry],
          collect: () => {
            created.reset();
            for (const source of gaugeSources.get(created) ?? []) fill(created, source());
          },
        });
        return created;
      });
      if (!gaugeSources.has(g)) gaugeSources.set(g, new Set());
      gaugeSources.get(g)!.add(this.source);
      this.gauges.push(g);
    };

    gauge(REALTIME_METRIC_NAMES.connections, 'WebSocket connections, by state', ['service', 'state'], (g, c) => {
      const counts = new Map<string, number>();
      for (const conn of c.connections()) {
        const key = `${conn.service}\u0000${conn.state}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      for (const [key, n] of counts) {
        const [service, state] = key.split('\u0000');
        if (STATES.includes(state as RealtimeState)) g.inc({ service, state }, n);
      }
    });
    gauge(
      REALTIME_METRIC_NAMES.buffered,
      'WebSocket messages held: waiting for a connection or written and not yet confirmed',
      ['service'],
      (g, c) => {
        for (const conn of c.connections()) {
          const s = conn.snapshot();
          g.inc({ service: s.service }, s.waiting + s.unconfirmed);
        }
      },
    );
    const reconnects = counter(REALTIME_METRIC_NAMES.reconnects, 'WebSocket reconnect attempts scheduled', [
      'service',
      'reason',
    ]);
    const messages = counter(REALTIME_METRIC_NAMES.messages, 'WebSocket messages written or received', [
      'service',
      'direction',
    ]);
    const failures = counter(REALTIME_METRIC_NAMES.sendFailures, 'WebSocket sends rejected, by code', [
      'service',
      'code',
    ]);
    const ws = this.events.realtime;
    this.subscriptions.push(
      ws.reconnectScheduled.on((e) => reconnects.inc({ service: e.service, reason: e.reason })),
      ws.message.on((e) => messages.inc({ service: e.service, direction: e.direction })),
      ws.sendFailed.on((e) => failures.inc({ service: e.service, code: e.code })),
    );
  }

  /** Stops counting (the metrics stay in the registry; this app's connections leave the gauges). */
  onModuleDestroy(): void {
    for (const unsubscribe of this.subscriptions.splice(0)) unsubscribe();
    for (const g of this.gauges.splice(0)) gaugeSources.get(g)?.delete(this.source);
  }
}
