// Types only: prom-client is an optional peer, loaded when metrics are enabled.
import type * as PromClient from 'prom-client';
import { Unsubscribe } from '../common/event';
import { loadOptionalPeer } from '../common/optional-peer';
import { ResolvedMetricsOptions } from '../options/resolved-options.interface';

const MISSING_PROM_CLIENT = 'metrics.enabled needs the prom-client package: npm i prom-client';

type Kind = 'Histogram' | 'Counter' | 'Gauge';
type MetricOf<K extends Kind> = K extends 'Histogram'
  ? PromClient.Histogram<string>
  : K extends 'Counter'
    ? PromClient.Counter<string>
    : PromClient.Gauge<string>;

/**
 * What fills each gauge at scrape time: one entry per live provider that shares the gauge (a
 * second app booted in the same process reuses the first one's metrics).
 */
const gaugeFillers = new WeakMap<object, Set<() => void>>();

/**
 * The metrics of one provider (`KugelCommsMetrics`, `SubscriptionMetrics`, `RealtimeMetrics`) in
 * the registry and under the prefix of the `metrics` options: prom-client loaded (an error saying
 * how to install it when it is missing), each metric made, or reused when the registry already
 * holds one that kugel-comms made (same kind, same labels); one of that name that does not match
 * stops boot with an error naming it. Gauges are read at scrape time.
 * @internal
 */
export class PromMetrics {
  /** The registry the metrics are in (`metrics.registry`, or prom-client's global `register`). */
  readonly registry: PromClient.Registry;
  private readonly prom: typeof PromClient;

  constructor(private readonly options: ResolvedMetricsOptions) {
    const prom = loadOptionalPeer<typeof PromClient>('prom-client');
    if (!prom) throw new Error(MISSING_PROM_CLIENT);
    this.prom = prom;
    this.registry = (options.registry ?? prom.register) as PromClient.Registry;
  }

  counter(suffix: string, help: string, labelNames: string[]): PromClient.Counter<string> {
    return this.reuseOrCreate('Counter', suffix, labelNames, (name) => {
      return new this.prom.Counter({ name, help, labelNames, registers: [this.registry] });
    });
  }

  /** A histogram with the `metrics.buckets` upper bounds. */
  histogram(suffix: string, help: string, labelNames: string[]): PromClient.Histogram<string> {
    return this.reuseOrCreate('Histogram', suffix, labelNames, (name) => {
      const buckets = [...this.options.buckets];
      return new this.prom.Histogram({ name, help, labelNames, buckets, registers: [this.registry] });
    });
  }

  /**
   * A gauge read at scrape time: reset, then `fill(gauge)` of every provider that shares it. Returns
   * what takes this provider's `fill` out (at module destroy).
   */
  gauge(
    suffix: string,
    help: string,
    labelNames: string[],
    fill: (gauge: PromClient.Gauge<string>) => void,
  ): Unsubscribe {
    const gauge = this.reuseOrCreate('Gauge', suffix, labelNames, (name) => {
      const created: PromClient.Gauge<string> = new this.prom.Gauge({
        name,
        help,
        labelNames,
        registers: [this.registry],
        collect: () => {
          created.reset();
          for (const filler of gaugeFillers.get(created) ?? []) filler();
        },
      });
      return created;
    });
    const fillers = gaugeFillers.get(gauge) ?? new Set<() => void>();
    gaugeFillers.set(gauge, fillers);
    const filler = () => fill(gauge);
    fillers.add(filler);
    return () => fillers.delete(filler);
  }

  private reuseOrCreate<K extends Kind>(
    kind: K,
    suffix: string,
    labelNames: string[],
    create: (name: string) => MetricOf<K>,
  ): MetricOf<K> {
    const name = `${this.options.prefix}${suffix}`;
    const existing = this.registry.getSingleMetric(name) as (MetricOf<K> & { labelNames?: string[] }) | undefined;
    if (!existing) return create(name);
    const sameKind = existing.constructor?.name === kind;
    const sameLabels =
      JSON.stringify([...(existing.labelNames ?? [])].sort()) === JSON.stringify([...labelNames].sort());
    if (!sameKind || !sameLabels) {
      throw new Error(
        `metric "${name}" is already in the registry as a ${existing.constructor?.name ?? 'metric'} with labels [${(existing.labelNames ?? []).join(', ')}]; ` +
          `kugel-comms needs a ${kind} with labels [${labelNames.join(', ')}]: set another metrics.prefix or metrics.registry`,
      );
    }
    return existing;
  }
}
