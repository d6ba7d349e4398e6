import { InvalidOptionsError } from '../errors/invalid-options.error';
import { HealthOptions } from '../interfaces/health-options.interface';
import { KugelCommsModuleOptions } from '../interfaces/kugel-comms-options.interface';
import { MetricsOptions } from '../interfaces/metrics-options.interface';
import { RepositoryName, RepositoryOptions } from '../interfaces/repository-options.interface';
import { TracingOptions } from '../interfaces/tracing-options.interface';
import { DEFAULTS } from './defaults';
import { renamedOption } from './deprecated-options';
import {
  ResolvedKugelCommsOptions,
  ResolvedMetricsOptions,
  ResolvedRepositoryOptions,
  ResolvedServiceOptions,
} from './resolved-options.interface';
import { resolveAuth } from './resolve-auth';
import { resolveRealtimeOptions } from './resolve-realtime';
import { resolveSubscriptionOptions } from './resolve-subscriptions';
import { resolveDapr, resolveHttp, resolveService } from './resolve-transport';
import { bool, isStringArray, nonNegativeMs, object, positiveInt, secondsToMs, SERVICE_NAME } from './validators';

/** Every repository `forRoot` can register, by option name. */
const REPOSITORY_NAMES: readonly RepositoryName[] = [
  'itemMaster',
  'paymentMaster',
  'settingsMaster',
  'tranlog',
  'terminalInfo',
  'storeInfo',
  'staffMaster',
  'pubsub',
  'stateStore',
  'deliveryStatus',
];

const METRIC_PREFIX = /^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/;

/**
 * Merges user options over the defaults and validates every value once. Throws
 * `InvalidOptionsError` naming the option and the value; the module calls it at boot.
 * @internal
 */
export function resolveOptions(
  options: KugelCommsModuleOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): ResolvedKugelCommsOptions {
  object('(root)', options);
  const http = resolveHttp(options.http ?? {});
  const services: Record<string, ResolvedServiceOptions> = {};
  for (const [name, value] of Object.entries(options.services ?? {})) {
    services[name] = resolveService(name, value, http);
  }
  const dapr = resolveDapr(options.dapr ?? {}, http, env);
  return {
    services,
    http,
    dapr,
    auth: resolveAuth(options.auth ?? {}),
    health: resolveHealth(options.health ?? {}),
    repositories: resolveRepositories(options.repositories ?? {}),
    metrics: resolveMetrics(options.metrics ?? {}),
    tracing: resolveTracing(options.tracing ?? {}),
    subscriptions: resolveSubscriptionOptions(options.subscriptions ?? {}, env, dapr.timeoutMs),
    realtime: resolveRealtimeOptions(options.realtime ?? {}),
  };
}

function resolveHealth(o: HealthOptions): ResolvedKugelCommsOptions['health'] {
  object('health', o);
  const openCircuitIs = o.openCircuitIs ?? DEFAULTS.health.openCircuitIs;
  if (openCircuitIs !== 'down' && openCircuitIs !== 'up') {
    throw new InvalidOptionsError('health.openCircuitIs', openCircuitIs, 'must be "down" or "up"');
  }
  // None by default: every breaker guards a dependency shared by every pod, and one outage must not
  // take every pod out of the Service at once (docs/operations.md, "Health and Kubernetes probes").
  const critical = o.criticalBreakers ?? [];
  if (!isStringArray(critical)) {
    throw new InvalidOptionsError('health.criticalBreakers', critical, 'must be an array of breaker names');
  }
  const degraded = o.degradedBreakers ?? [];
  if (!isStringArray(degraded)) {
    throw new InvalidOptionsError('health.degradedBreakers', degraded, 'must be an array of breaker names');
  }
  const both = degraded.filter((b) => critical.includes(b));
  if (both.length > 0) {
    throw new InvalidOptionsError(
      'health.degradedBreakers',
      degraded,
      `must not name a breaker that health.criticalBreakers names too (${both.join(', ')})`,
    );
  }
  return { openCircuitIs, criticalBreakers: [...critical], degradedBreakers: [...degraded] };
}

function resolveRepositories(o: RepositoryOptions): ResolvedRepositoryOptions {
  object('repositories', o);
  const d = DEFAULTS.repositories;
  const enabled = o.enabled ?? 'all';
  if (enabled !== 'all') {
    if (!Array.isArray(enabled)) {
      throw new InvalidOptionsError(
        'repositories.enabled',
        enabled,
        `must be 'all' or an array of ${REPOSITORY_NAMES.join(', ')}`,
      );
    }
    for (const name of enabled) {
      if (!REPOSITORY_NAMES.includes(name)) {
        throw new InvalidOptionsError(
          'repositories.enabled',
          name,
          `is not a repository name (one of ${REPOSITORY_NAMES.join(', ')})`,
        );
      }
    }
  }
  const cacheTtlMs = nonNegativeMs(
    'repositories.cacheTtlMs',
    renamedOption('repositories.cacheTtlSec', o.cacheTtlSec, 'repositories.cacheTtlMs', o.cacheTtlMs, {
      convert: secondsToMs,
      how: 'in milliseconds: the old value × 1000',
    }) ?? d.cacheTtlMs,
  );
  const stateStore = o.stateStore ?? d.stateStore;
  if (typeof stateStore !== 'string' || !SERVICE_NAME.test(stateStore)) {
    throw new InvalidOptionsError('repositories.stateStore', stateStore, 'must be a Dapr component name');
  }
  const s = object('repositories.services', o.services ?? {});
  const serviceName = (key: 'masterData' | 'terminal' | 'cart'): string => {
    const value = s[key] ?? d.services[key];
    if (typeof value !== 'string' || !SERVICE_NAME.test(value)) {
      throw new InvalidOptionsError(
        `repositories.services.${key}`,
        value,
        'must be a service name of letters, digits, ".", "_" or "-"',
      );
    }
    return value;
  };
  return {
    enabled: enabled === 'all' ? [...REPOSITORY_NAMES] : [...new Set(enabled)],
    cacheTtlMs,
    cacheMaxEntries: positiveInt('repositories.cacheMaxEntries', o.cacheMaxEntries ?? d.cacheMaxEntries),
    stateStore,
    services: { masterData: serviceName('masterData'), terminal: serviceName('terminal'), cart: serviceName('cart') },
  };
}

function resolveMetrics(o: MetricsOptions): ResolvedMetricsOptions {
  object('metrics', o);
  const d = DEFAULTS.metrics;
  const prefix = o.prefix ?? d.prefix;
  if (typeof prefix !== 'string' || !METRIC_PREFIX.test(prefix)) {
    throw new InvalidOptionsError(
      'metrics.prefix',
      prefix,
      'must be a Prometheus metric name prefix ([a-zA-Z_:][a-zA-Z0-9_:]*) or ""',
    );
  }
  const registry = o.registry;
  if (registry !== undefined) {
    const r = registry as unknown as Record<string, unknown> | null;
    if (
      typeof r !== 'object' ||
      r === null ||
      typeof r.registerMetric !== 'function' ||
      typeof r.getSingleMetric !== 'function' ||
      typeof r.metrics !== 'function'
    ) {
      // The value itself is not printed: a registry is a large object.
      throw new InvalidOptionsError(
        'metrics.registry',
        r === null || typeof r !== 'object' ? r : '[an object that is not a Registry]',
        'must be a prom-client Registry',
      );
    }
  }
  const buckets = o.buckets ?? d.buckets;
  if (
    !Array.isArray(buckets) ||
    buckets.length === 0 ||
    buckets.some((b, i) => typeof b !== 'number' || !Number.isFinite(b) || b <= 0 || (i > 0 && b <= buckets[i - 1]))
  ) {
    throw new InvalidOptionsError(
      'metrics.buckets',
      buckets,
      'must be a non-empty array of increasing numbers > 0 (seconds)',
    );
  }
  return { enabled: bool('metrics.enabled', o.enabled ?? d.enabled), prefix, registry, buckets: [...buckets] };
}

function resolveTracing(o: TracingOptions): Required<TracingOptions> {
  object('tracing', o);
  return { propagate: bool('tracing.propagate', o.propagate ?? DEFAULTS.tracing.propagate) };
}
