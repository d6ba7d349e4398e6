/**
 * The part of a prom-client `Registry` that kugel-comms uses; any prom-client `Registry` fits.
 * Declared here so that the package's types compile in apps that do not install prom-client.
 */
export interface MetricsRegistry {
  registerMetric(metric: unknown): void;
  getSingleMetric(name: string): unknown;
  /** The exposition text (what `GET /metrics` answers). */
  metrics(): Promise<string>;
  /** The `Content-Type` of `metrics()`. */
  readonly contentType: string;
}

/** Prometheus metrics through prom-client (an optional peer dependency, loaded only when enabled). */
export interface MetricsOptions {
  /**
   * Register and update the metrics. Boot fails when prom-client is not installed.
   * @default false
   */
  enabled?: boolean;
  /**
   * Prefix of every metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`, or empty).
   * @default 'kugel_comms_'
   */
  prefix?: string;
  /**
   * The prom-client `Registry` to register in.
   * @default prom-client's global `register`
   */
  registry?: MetricsRegistry;
  /**
   * Upper bounds of the latency histograms' buckets, in seconds (increasing, > 0): values of the
   * `*_seconds` metrics, whose unit Prometheus fixes, not durations kugel-comms waits.
   * @default [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
   */
  buckets?: number[];
}
