import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { BreakerEvents } from '../circuit-breaker/breaker-events';
import { CircuitBreakerRegistry } from '../circuit-breaker/circuit-breaker.registry';
import { CircuitState } from '../circuit-breaker/circuit-state';
import { KUGEL_COMMS_RESOLVED_OPTIONS } from '../kugel-comms.constants';
import { ResolvedKugelCommsOptions } from '../options/resolved-options.interface';
import { MetricsRegistry } from '../interfaces/metrics-options.interface';
import { Unsubscribe } from '../common/event';
import { CallEvents, RequestCompletedEvent } from '../transport/call-events';
import { PromMetrics } from './prom-metrics';

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

/**
 * Prometheus metrics, built on the call pipeline's and the breakers' events and on the breakers, when `metrics.enabled` is true
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

  constructor(
    @Inject(KUGEL_COMMS_RESOLVED_OPTIONS) private readonly options: ResolvedKugelCommsOptions,
    private readonly calls: CallEvents,
    private readonly breakerEvents: BreakerEvents,
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
    const metrics = new PromMetrics(this.options.metrics);
    this.target = metrics.registry as unknown as MetricsRegistry;
    const callLabels = ['service', 'method', 'status_class'];
    const duration = metrics.histogram(
      METRIC_NAMES.requestDuration,
      'Duration of logical outgoing calls (all attempts), in seconds',
      callLabels,
    );
    const requests = metrics.counter(METRIC_NAMES.requests, 'Logical outgoing calls, by outcome', callLabels);
    const errors = metrics.counter(
      METRIC_NAMES.requestErrors,
      'Logical outgoing calls that failed (HTTP >= 400, no answer, or refused by an open breaker)',
      callLabels,
    );
    const retries = metrics.counter(METRIC_NAMES.retries, 'Retries of outgoing calls (attempts after the first)', [
      'service',
      'method',
    ]);
    const transitions = metrics.counter(METRIC_NAMES.breakerTransitions, 'Circuit breaker state changes', [
      'breaker',
      'from',
      'to',
    ]);
    this.subscriptions.push(
      // Read at scrape time, so an open breaker whose reset timeout passed reads as half-open.
      metrics.gauge(
        METRIC_NAMES.breakerState,
        'Circuit breaker state: 0 closed, 1 half_open, 2 open',
        ['breaker'],
        (g) => {
          for (const breaker of this.breakers.all())
            g.set({ breaker: breaker.name }, CIRCUIT_STATE_GAUGE_VALUE[breaker.state]);
        },
      ),
      this.calls.requestCompleted.on((e) => {
        const labels = { service: e.client, method: e.method, status_class: statusClass(e) };
        requests.inc(labels);
        if (e.outcome !== 'success') errors.inc(labels);
        if (e.outcome !== 'rejected') duration.observe(labels, e.durationMs / 1000);
      }),
      this.calls.retryScheduled.on((e) => retries.inc({ service: e.client, method: e.method })),
      this.breakerEvents.breakerStateChanged.on((e) => transitions.inc({ breaker: e.breaker, from: e.from, to: e.to })),
    );
    this.logger.log(`Prometheus metrics ${this.options.metrics.prefix}* enabled`);
  }

  /** Stops counting (the metrics stay in the registry; this app's breakers leave the gauge). */
  onModuleDestroy(): void {
    for (const unsubscribe of this.subscriptions.splice(0)) unsubscribe();
  }
}

/**
 * `2xx`…`5xx` from the status; `rejected` for an open breaker; `error` when there was no answer.
 * @internal
 */
export function statusClass(e: Pick<RequestCompletedEvent, 'status' | 'outcome'>): string {
  if (e.outcome === 'rejected') return 'rejected';
  if (e.status === undefined) return 'error';
  return `${Math.floor(e.status / 100)}xx`;
}
