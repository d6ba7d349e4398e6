import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { Unsubscribe } from '../common/event';
import { KUGEL_COMMS_RESOLVED_OPTIONS } from '../kugel-comms.constants';
import { PromMetrics } from '../observability/prom-metrics';
import { ResolvedKugelCommsOptions } from '../options/resolved-options.interface';
import { EventRepublishers } from './event-republishers.service';

/** Metric names of the republishers, without the prefix (`metrics.prefix`). */
export const REPUBLISH_METRIC_NAMES = {
  oldestUndeliveredAge: 'republish_oldest_undelivered_age_seconds',
  undelivered: 'republish_undelivered_events',
  events: 'republish_events_total',
  passes: 'republish_passes_total',
} as const;

/**
 * Prometheus metrics of the republishers, under the `metrics` options (prefix, registry), when
 * `metrics.enabled` is true and the app registers a republisher:
 *
 * | metric | type | labels |
 * |---|---|---|
 * | `<prefix>republish_oldest_undelivered_age_seconds` | gauge | `republisher` (0 when nothing is undelivered) |
 * | `<prefix>republish_undelivered_events` | gauge | `republisher` |
 * | `<prefix>republish_events_total` | counter | `republisher`, `outcome` (`published`, `failed`, `skipped`) |
 * | `<prefix>republish_passes_total` | counter | `republisher`, `outcome` (`ok`, `failed`) |
 *
 * The gauges are read at scrape time from what each republisher last learnt (its source's
 * `stats()` at every pass and health check); a scrape never calls the app's source.
 */
@Injectable()
export class RepublishMetrics implements OnModuleDestroy {
  private readonly subscriptions: Unsubscribe[] = [];
  private started = false;

  constructor(
    @Inject(KUGEL_COMMS_RESOLVED_OPTIONS) private readonly options: ResolvedKugelCommsOptions,
    private readonly republishers: EventRepublishers,
  ) {
    if (!options.metrics.enabled) return;
    this.subscriptions.push(republishers.onRegister.on(() => this.start()));
    if (republishers.all().length > 0) this.start();
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    const metrics = new PromMetrics(this.options.metrics);
    const all = () => this.republishers.all();
    this.subscriptions.push(
      metrics.gauge(
        REPUBLISH_METRIC_NAMES.oldestUndeliveredAge,
        'Age of the oldest event not yet delivered to every consumer, in seconds',
        ['republisher'],
        (gauge) => {
          for (const r of all()) gauge.set({ republisher: r.name }, (r.status().oldestUndeliveredAgeMs ?? 0) / 1000);
        },
      ),
      metrics.gauge(
        REPUBLISH_METRIC_NAMES.undelivered,
        'Events not yet delivered to every consumer, as last known',
        ['republisher'],
        (gauge) => {
          for (const r of all()) {
            const count = r.status().undelivered;
            if (count !== undefined) gauge.set({ republisher: r.name }, count);
          }
        },
      ),
    );
    const events = metrics.counter(REPUBLISH_METRIC_NAMES.events, 'Events republished, by outcome', [
      'republisher',
      'outcome',
    ]);
    const passes = metrics.counter(REPUBLISH_METRIC_NAMES.passes, 'Republisher passes, by outcome', [
      'republisher',
      'outcome',
    ]);
    this.subscriptions.push(
      this.republishers.onPass.on((pass) => {
        const republisher = pass.republisher;
        if (pass.published) events.inc({ republisher, outcome: 'published' }, pass.published);
        if (pass.failed) events.inc({ republisher, outcome: 'failed' }, pass.failed);
        if (pass.skipped) events.inc({ republisher, outcome: 'skipped' }, pass.skipped);
        passes.inc({ republisher, outcome: pass.error || pass.failed > 0 ? 'failed' : 'ok' });
      }),
    );
  }

  onModuleDestroy(): void {
    for (const unsubscribe of this.subscriptions.splice(0)) unsubscribe();
  }
}
