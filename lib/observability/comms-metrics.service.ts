import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
// Types only: prom-client is an optional peer, loaded with require() when metrics are enabled.
import type * as PromClient from 'prom-client';
import { CircuitBreakerRegistry } from '../circuit-breaker/circuit-breaker.registry';
import { CircuitState } from '../circuit-breaker/circuit-state';
import { KUGEL_COMMS_OPTIONS } from '../kugel-comms.constants';
import { ResolvedKugelCommsOptions } from '../kugel-comms.defaults';
import { MetricsRegistry } from '../interfaces/kugel-comms-options.interface';
import { Unsubscribe } from '../common/event';
import { KugelCommsEvents, RequestCompletedEvent } from './comms-events';

/** Metric names, without the prefix (`metrics.prefix`, `kugel_comms_` by default). */
export const METRIC_NAMES = {
  requestDuration: 'request_duration_seconds',
  requests: 'requests_total',
  requestErrors: 'request_errors_total',
  retries: 'retries_total',
  breakerState: 'circuit_breaker_state',
  breakerTransitions: 'circuit_breaker_transitions_total',
} as const;

/** Value of the `circuit_breaker_state` gauge per state: 0 closed, 1 half-open, 2 open. */
export const CIRCUIT_STATE_GAUGE_VALUE: Readonly<Record<CircuitState, number>> = {
  [CircuitState.Closed]: 0,
  [CircuitState.HalfOpen]: 1,
  [CircuitState.Open]: 2,
};

const MISSING_PROM_CLIENT = 'metrics.enabled needs the prom-client package: npm i prom-client';

/**
 * Breakers reported by each `circuit_breaker_state` gauge: one entry per live module instance
 * that shares the gauge (a second app booted in the same process reuses the first one's gauge).
 */
const gaugeSources = new WeakMap<object, Set<() => CircuitBreakerRegistry>>();

/**
 * Prometheus metrics, built on `KugelCommsEvents` and the breakers, when `metrics.enabled` is true
 * (otherwise this provider does nothing and prom-client is never loaded).
 *
 * | metric | type | labels |
 * |---|---|---|
 * | `<prefix>request_duration_seconds` | histogram | `service`, `method`, `status_class` |
 * | `<prefix>requests_total` | counter | `service`, `method`, `status_class` |
 * | `<prefix>request_errors_total` | counter | `service`, `method`, `status_class` |
 * | `<prefix>retries_total` | counter | `service`, `method` |
 * | `<prefix>circuit_breaker_state` | gauge | `breaker` (0 closed, 1 half-open, 2 open) |
 * | `<prefix>circuit_breaker_transitions_total` | counter | `breaker`, `from`, `to` |
 *
 * `service` is the service name (`dapr` for the sidecar); `status_class` is `2xx`…`5xx`, `error`
 * (no answer: connection error, timeout, abort) or `rejected` (open breaker, nothing sent). A
 * logical call counts once, whatever its attempts; calls refused by an open breaker are counted
 * but not observed by the latency histogram. Routes are not a label (a path with ids would make
 * one series per id); they are in the events.
 *
 * Metrics already in the registry under the same name (a second app boot in one process, tests)
 * are reused rather than registered again; one of another type or with other labels stops boot.
 */
@Injectable()
export class KugelCommsMetrics implements OnModuleDestroy {
  private readonly logger = new Logger(KugelCommsMetrics.name);
  private readonly subscriptions: Unsubscribe[] = [];
  private target?: MetricsRegistry;
  private gauge?: object;
  private readonly source = () => this.breakers;

  constructor(
    @Inject(KUGEL_COMMS_OPTIONS) private readonly options: ResolvedKugelCommsOptions,
    private readonly events: KugelCommsEvents,
    private readonly breakers: CircuitBreakerRegistry,
  ) {
    // In the constructor rather than onModuleInit: calls other providers make in their own
    // lifecycle hooks are counted, and a missing prom-client stops boot before anything starts.
    if (options.metrics.enabled) this.start();
  }

  /** Whether metrics are on (`metrics.enabled`). */
  get enabled(): boolean {
    return this.options.metrics.enabled;
  }

  /**
   * The registry the metrics are in (the option, or prom-client's global `register`); `undefined`
   * when metrics are off. Serve `await registry.metrics()` with `registry.contentType`.
   */
  get registry(): MetricsRegistry | undefined {
    return this.target;
  }

  private start(): void {
    const o = this.options.metrics;
    const prom = loadPromClient();
    const registry = (o.registry ?? prom.register) as PromClient.Registry;
    this.target = registry as unknown as MetricsRegistry;
    const name = (suffix: string) => `${o.prefix}${suffix}`;

    const duration = reuseOrCreate(
      registry,
      'Histogram',
      ['service', 'method', 'status_class'],
      name(METRIC_NAMES.requestDuration),
      (n, labelNames) =>
        new prom.Histogram({
          name: n,
          help: 'Duration of logical outgoing calls (all attempts), in seconds',
          labelNames,
          buckets: [...o.buckets],
          registers: [registry],
        }),
    );
    const requests = reuseOrCreate(
      registry,
      'Counter',
      ['service', 'method', 'status_class'],
      name(METRIC_NAMES.requests),
      (n, labelNames) =>
        new prom.Counter({
          name: n,
          help: 'Logical outgoing calls, by outcome',
          labelNames,
          registers: [registry],
        }),
    );
    const errors = reuseOrCreate(
      registry,
      'Counter',
      ['service', 'method', 'status_class'],
      name(METRIC_NAMES.requestErrors),
      (n, labelNames) =>
        new prom.Counter({
          name: n,
          help: 'Logical outgoing calls that failed (HTTP >= 400, no answer, or refused by an open breaker)',
          labelNames,
          registers: [registry],
        }),
    );
    const retries = reuseOrCreate(
      registry,
      'Counter',
      ['service', 'method'],
      name(METRIC_NAMES.retries),
      (n, labelNames) =>
        new prom.Counter({
          name: n,
          help: 'Retries of outgoing calls (attempts after the first)',
          labelNames,
          registers: [registry],
        }),
    );
    const transitions = reuseOrCreate(
      registry,
      'Counter',
      ['breaker', 'from', 'to'],
      name(METRIC_NAMES.breakerTransitions),
      (n, labelNames) =>
        new prom.Counter({
          name: n,
          help: 'Circuit breaker state changes',
          labelNames,
          registers: [registry],
        }),
    );
    const state = reuseOrCreate(registry, 'Gauge', ['breaker'], name(METRIC_NAMES.breakerState), (n, labelNames) => {
      const gauge: PromClient.Gauge<string> = new prom.Gauge({
        name: n,
        help: 'Circuit breaker state: 0 closed, 1 half_open, 2 open',
        labelNames,
        registers: [registry],
        // Read at scrape time, so an open breaker whose reset timeout passed reads as half-open.
        collect: () => {
          gauge.reset();
          for (const source of gaugeSources.get(gauge) ?? []) {
            for (const breaker of source().all())
              gauge.set({ breaker: breaker.name }, CIRCUIT_STATE_GAUGE_VALUE[breaker.state]);
          }
        },
      });
      return gauge;
    });
    this.gauge = state;
    if (!gaugeSources.has(state)) gaugeSources.set(state, new Set());
    gaugeSources.get(state)!.add(this.source);

    this.subscriptions.push(
      this.events.requestCompleted.on((e) => {
        const labels = { service: e.client, method: e.method, status_class: statusClass(e) };
        requests.inc(labels);
        if (e.outcome !== 'success') errors.inc(labels);
        if (e.outcome !== 'rejected') duration.observe(labels, e.durationMs / 1000);
      }),
      this.events.retryScheduled.on((e) => retries.inc({ service: e.client, method: e.method })),
      this.events.breakerStateChanged.on((e) => transitions.inc({ breaker: e.breaker, from: e.from, to: e.to })),
    );
    this.logger.log(`Prometheus metrics ${o.prefix}* enabled`);
  }

  /** Stops counting (the metrics stay in the registry; this app's breakers leave the gauge). */
  onModuleDestroy(): void {
    for (const unsubscribe of this.subscriptions.splice(0)) unsubscribe();
    if (this.gauge) gaugeSources.get(this.gauge)?.delete(this.source);
  }
}

/** `2xx`…`5xx` from the status; `rejected` for an open breaker; `error` when there was no answer. */
export function statusClass(e: Pick<RequestCompletedEvent, 'status' | 'outcome'>): string {
  if (e.outcome === 'rejected') return 'rejected';
  if (e.status === undefined) return 'error';
  return `${Math.floor(e.status / 100)}xx`;
}

export function loadPromClient(): typeof PromClient {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('prom-client') as typeof PromClient;
  } catch (error) {
    const e = error as { code?: string; message?: string };
    if (e?.code === 'MODULE_NOT_FOUND' && String(e.message).includes("'prom-client'"))
      // eslint-disable-next-line preserve-caught-error -- the message already says what is missing
      throw new Error(MISSING_PROM_CLIENT);
    throw error;
  }
}

type Kind = 'Histogram' | 'Counter' | 'Gauge';
type MetricOf<K extends Kind> = K extends 'Histogram'
  ? PromClient.Histogram<string>
  : K extends 'Counter'
    ? PromClient.Counter<string>
    : PromClient.Gauge<string>;

/**
 * The metric `name` of the registry when it is one kugel-comms made (same kind, same labels),
 * else a new one. A metric of that name that does not match is an error naming it.
 */
export function reuseOrCreate<K extends Kind>(
  registry: PromClient.Registry,
  kind: K,
  labelNames: string[],
  name: string,
  create: (name: string, labelNames: string[]) => MetricOf<K>,
): MetricOf<K> {
  const existing = registry.getSingleMetric(name) as (MetricOf<K> & { labelNames?: string[] }) | undefined;
  if (!existing) return create(name, labelNames);
  const sameKind = existing.constructor?.name === kind;
  const sameLabels = JSON.stringify([...(existing.labelNames ?? [])].sort()) === JSON.stringify([...labelNames].sort());
  if (!sameKind || !sameLabels) {
    throw new Error(
      `metric "${name}" is already in the registry as a ${existing.constructor?.name ?? 'metric'} with labels [${(existing.labelNames ?? []).join(', ')}]; ` +
        `kugel-comms needs a ${kind} with labels [${labelNames.join(', ')}]: set another metrics.prefix or metrics.registry`,
    );
  }
  return existing;
}
