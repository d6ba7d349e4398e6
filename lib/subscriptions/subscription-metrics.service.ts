import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { Unsubscribe } from '../common/event';
import { KUGEL_COMMS_RESOLVED_OPTIONS } from '../kugel-comms.constants';
import { ResolvedKugelCommsOptions } from '../options/resolved-options.interface';
import { PromMetrics } from '../observability/prom-metrics';
import { SubscriptionEvents } from './subscription-events';

/** Metric names of the receiving half, without the prefix (`metrics.prefix`). */
export const SUBSCRIPTION_METRIC_NAMES = {
  eventsReceived: 'events_received_total',
  eventOutcomes: 'event_outcomes_total',
  handlerDuration: 'event_handler_duration_seconds',
} as const;

/**
 * Prometheus metrics of `@DaprSubscribe` handlers, built on `SubscriptionEvents` as the outgoing
 * ones are on `CallEvents`, and registered under the same `metrics` options (prefix, registry,
 * buckets), when `metrics.enabled` is true and the app has at least one handler:
 *
 * | metric | type | labels |
 * |---|---|---|
 * | `<prefix>events_received_total` | counter | `pubsub`, `topic` |
 * | `<prefix>event_outcomes_total` | counter | `pubsub`, `topic`, `outcome` (`success`, `retry`, `drop`), `reason` |
 * | `<prefix>event_handler_duration_seconds` | histogram | `pubsub`, `topic`, `outcome` |
 *
 * `reason` is one of `handled`, `dropped`, `failed`, `timeout`, `shutdown`, `invalid`, `duplicate`,
 * `health-check`, `in-progress`, `store-unavailable`, `no-dedupe-key`, `retries-exhausted` (see
 * `EventOutcomeReason`).
 * The histogram observes only events whose handler ran (a batch once per event, with the batch's
 * duration). Handler names and event ids are not labels; they are in the events.
 */
@Injectable()
export class SubscriptionMetrics implements OnModuleDestroy {
  private readonly subscriptions: Unsubscribe[] = [];
  private started = false;

  constructor(
    @Inject(KUGEL_COMMS_RESOLVED_OPTIONS) private readonly options: ResolvedKugelCommsOptions,
    private readonly events: SubscriptionEvents,
  ) {}

  /**
   * Registers the metrics when `metrics.enabled` (once). Called at boot when the app has
   * `@DaprSubscribe` handlers, so that an app without any has no empty event series.
   */
  start(): void {
    if (this.started || !this.options.metrics.enabled) return;
    this.started = true;
    const metrics = new PromMetrics(this.options.metrics);
    const received = metrics.counter(SUBSCRIPTION_METRIC_NAMES.eventsReceived, 'Events daprd delivered to handlers', [
      'pubsub',
      'topic',
    ]);
    const outcomes = metrics.counter(
      SUBSCRIPTION_METRIC_NAMES.eventOutcomes,
      'Answers given to daprd per event (success, retry, drop) and why',
      ['pubsub', 'topic', 'outcome', 'reason'],
    );
    const duration = metrics.histogram(
      SUBSCRIPTION_METRIC_NAMES.handlerDuration,
      'Run time of event handlers, in seconds',
      ['pubsub', 'topic', 'outcome'],
    );
    this.subscriptions.push(
      this.events.eventReceived.on((e) => received.inc({ pubsub: e.pubsub, topic: e.topic })),
      this.events.eventHandled.on((e) => {
        const outcome = e.status.toLowerCase();
        outcomes.inc({ pubsub: e.pubsub, topic: e.topic, outcome, reason: e.reason });
        if (e.handlerRan && e.durationMs !== undefined) {
          duration.observe({ pubsub: e.pubsub, topic: e.topic, outcome }, e.durationMs / 1000);
        }
      }),
    );
  }

  onModuleDestroy(): void {
    for (const unsubscribe of this.subscriptions.splice(0)) unsubscribe();
  }
}
