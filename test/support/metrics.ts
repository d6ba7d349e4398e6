import type { Registry } from 'prom-client';

/**
 * The value of one series of `registry`, labels matched exactly; `undefined` when the metric has
 * no such series. `name` may be a histogram's `_count`, `_sum` or `_bucket` series.
 */
export async function seriesValue(
  registry: Registry,
  name: string,
  labels: Record<string, string>,
): Promise<number | undefined> {
  const base = name.replace(/_(count|sum|bucket)$/, '');
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === base);
  if (!metric) throw new Error(`no metric ${base}`);
  const want = JSON.stringify(Object.entries(labels).sort());
  return metric.values.find(
    (v) =>
      ((v as { metricName?: string }).metricName ?? base) === name &&
      JSON.stringify(
        Object.entries(v.labels)
          .map(([k, l]) => [k, String(l)])
          .sort(),
      ) === want,
  )?.value;
}
