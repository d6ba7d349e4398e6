import { InvalidOptionsError } from './errors/invalid-options.error';
import {
  CircuitBreakerOptions,
  KugelCommsModuleOptions,
  MetricsOptions,
  MetricsRegistry,
  RepositoryName,
  RepositoryOptions,
  RetryBudgetOptions,
  ServiceOptions,
  ServiceTokenOptions,
  TracingOptions,
} from './interfaces/kugel-comms-options.interface';
import { resolveRealtimeOptions, ResolvedRealtimeOptions } from './realtime/realtime-options';

/** The one place where defaults live. */
export const DEFAULTS = {
  http: {
    timeoutMs: 30_000,
    retries: 3,
    retryDelayMs: 100,
    maxRetryDelayMs: 10_000,
    maxSockets: 64,
    idleSocketTimeoutMs: 4_000,
    maxContentLength: 10 * 1024 * 1024,
    maxBodyLength: 10 * 1024 * 1024,
    insecureSkipTlsVerify: false,
  },
  retryBudget: { ratio: 0.2, minRetriesPerSecond: 10, windowMs: 10_000 },
  breaker: { failureThreshold: 3, resetTimeoutMs: 60_000, halfOpenMaxCalls: 1 },
  dapr: { port: 3500, timeoutMs: 5_000, retries: 1, waitForSidecarMs: 10_000, serviceInvocation: false },
  serviceToken: { algorithm: 'HS256' as const, expiresInSec: 300, maxExpiresInSec: 3_600 },
  health: { openCircuitIs: 'down' as const },
  repositories: {
    cacheTtlSec: 300,
    cacheMaxEntries: 1_000,
    stateStore: 'statestore',
    services: { masterData: 'master-data', terminal: 'terminal', cart: 'cart' },
  },
  metrics: {
    enabled: false,
    prefix: 'kugel_comms_',
    // prom-client's defaults, plus 30 s (the default call timeout)
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  },
  tracing: { propagate: true },
} as const;

/** Every repository `forRoot` can register, by option name. */
export const REPOSITORY_NAMES: readonly RepositoryName[] = [
  'itemMaster',
  'paymentMaster',
  'settingsMaster',
  'tranlog',
  'terminalInfo',
  'storeInfo',
  'staffMaster',
  'pubsub',
  'stateStore',
];

export interface ResolvedRepositoryOptions {
  enabled: RepositoryName[];
  /** `cacheTtlSec` in milliseconds (0 = caches off). */
  cacheTtlMs: number;
  cacheMaxEntries: number;
  stateStore: string;
  services: { masterData: string; terminal: string; cart: string };
}

export interface ResolvedMetricsOptions {
  enabled: boolean;
  prefix: string;
  /** Unset: prom-client's global `register` (known only once prom-client is loaded). */
  registry?: MetricsRegistry;
  buckets: readonly number[];
}

export type ResolvedBreakerOptions = Required<CircuitBreakerOptions>;
export type ResolvedRetryBudgetOptions = Required<RetryBudgetOptions>;

export interface ResolvedHttpOptions {
  timeoutMs: number;
  retries: number;
  retryDelayMs: number;
  maxRetryDelayMs: number;
  retryBudget: ResolvedRetryBudgetOptions | false;
  maxSockets: number;
  idleSocketTimeoutMs: number;
  maxContentLength: number;
  maxBodyLength: number;
  breaker: ResolvedBreakerOptions | false;
  insecureSkipTlsVerify: boolean;
}

export interface ResolvedServiceOptions extends ResolvedHttpOptions {
  baseUrl: string;
}

export interface ResolvedDaprOptions {
  httpEndpoint: string;
  apiToken?: string;
  timeoutMs: number;
  retries: number;
  breaker: ResolvedBreakerOptions;
  waitForSidecarMs: number;
  serviceInvocation: boolean;
}

export interface ResolvedKugelCommsOptions {
  services: Record<string, ResolvedServiceOptions>;
  http: ResolvedHttpOptions;
  dapr: ResolvedDaprOptions;
  auth: {
    apiKey?: string;
    serviceToken?: Required<Pick<ServiceTokenOptions, 'secret' | 'algorithm' | 'expiresInSec'>> &
      Pick<ServiceTokenOptions, 'issuer' | 'audience'>;
  };
  health: { openCircuitIs: 'down' | 'up'; criticalBreakers?: string[] };
  repositories: ResolvedRepositoryOptions;
  metrics: ResolvedMetricsOptions;
  tracing: Required<TracingOptions>;
  /** The WebSocket client (its defaults and checks are in `realtime/realtime-options.ts`). */
  realtime: ResolvedRealtimeOptions;
}

const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const JWT_ALGORITHMS = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512'];

/**
 * Merges user options over the defaults and validates every value once. Throws
 * `InvalidOptionsError` naming the option and the value; the module calls it at boot.
 */
export function resolveOptions(
  options: KugelCommsModuleOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): ResolvedKugelCommsOptions {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionsError('(root)', options, 'must be an object');
  }
  const http = resolveHttp(options.http ?? {}, 'http');
  const services: Record<string, ResolvedServiceOptions> = {};
  for (const [name, value] of Object.entries(options.services ?? {})) {
    services[name] = resolveService(name, value, http);
  }
  return {
    services,
    http,
    dapr: resolveDapr(options.dapr ?? {}, env),
    auth: resolveAuth(options.auth ?? {}),
    health: resolveHealth(options.health ?? {}),
    repositories: resolveRepositories(options.repositories ?? {}),
    metrics: resolveMetrics(options.metrics ?? {}),
    tracing: resolveTracing(options.tracing ?? {}),
    realtime: resolveRealtimeOptions(options.realtime ?? {}),
  };
}

export function resolveService(
  name: string,
  value: string | ServiceOptions,
  http: ResolvedHttpOptions,
  option = `services.${name}`,
): ResolvedServiceOptions {
  if (!SERVICE_NAME.test(name)) {
    throw new InvalidOptionsError(option, name, 'must be a service name of letters, digits, ".", "_" or "-"');
  }
  const spec: ServiceOptions = typeof value === 'string' ? { baseUrl: value } : value;
  if (typeof spec !== 'object' || spec === null) {
    throw new InvalidOptionsError(option, value, 'must be a base URL string or { baseUrl, ... }');
  }
  const baseUrl = checkBaseUrl(`${option}${typeof value === 'string' ? '' : '.baseUrl'}`, spec.baseUrl);
  return {
    ...http,
    baseUrl,
    timeoutMs: positiveMs(`${option}.timeoutMs`, spec.timeoutMs ?? http.timeoutMs),
    retries: nonNegativeInt(`${option}.retries`, spec.retries ?? http.retries),
    maxSockets: positiveInt(`${option}.maxSockets`, spec.maxSockets ?? http.maxSockets),
    breaker: spec.breaker === undefined ? http.breaker : resolveBreakerOrFalse(`${option}.breaker`, spec.breaker),
  };
}

function resolveHttp(o: NonNullable<KugelCommsModuleOptions['http']>, p: string): ResolvedHttpOptions {
  const d = DEFAULTS.http;
  return {
    timeoutMs: positiveMs(`${p}.timeoutMs`, o.timeoutMs ?? d.timeoutMs),
    retries: nonNegativeInt(`${p}.retries`, o.retries ?? d.retries),
    retryDelayMs: nonNegativeMs(`${p}.retryDelayMs`, o.retryDelayMs ?? d.retryDelayMs),
    maxRetryDelayMs: nonNegativeMs(`${p}.maxRetryDelayMs`, o.maxRetryDelayMs ?? d.maxRetryDelayMs),
    retryBudget: o.retryBudget === false ? false : resolveBudget(`${p}.retryBudget`, o.retryBudget ?? {}),
    maxSockets: positiveInt(`${p}.maxSockets`, o.maxSockets ?? d.maxSockets),
    idleSocketTimeoutMs: positiveMs(`${p}.idleSocketTimeoutMs`, o.idleSocketTimeoutMs ?? d.idleSocketTimeoutMs),
    maxContentLength: positiveInt(`${p}.maxContentLength`, o.maxContentLength ?? d.maxContentLength),
    maxBodyLength: positiveInt(`${p}.maxBodyLength`, o.maxBodyLength ?? d.maxBodyLength),
    breaker: o.breaker === undefined ? false : resolveBreakerOrFalse(`${p}.breaker`, o.breaker),
    insecureSkipTlsVerify: bool(`${p}.insecureSkipTlsVerify`, o.insecureSkipTlsVerify ?? d.insecureSkipTlsVerify),
  };
}

function resolveBudget(p: string, o: RetryBudgetOptions): ResolvedRetryBudgetOptions {
  if (typeof o !== 'object' || o === null) throw new InvalidOptionsError(p, o, 'must be false or an object');
  const d = DEFAULTS.retryBudget;
  const ratio = o.ratio ?? d.ratio;
  if (typeof ratio !== 'number' || !(ratio >= 0 && ratio <= 1)) {
    throw new InvalidOptionsError(`${p}.ratio`, ratio, 'must be a number from 0 to 1');
  }
  return {
    ratio,
    minRetriesPerSecond: nonNegativeNumber(`${p}.minRetriesPerSecond`, o.minRetriesPerSecond ?? d.minRetriesPerSecond),
    windowMs: positiveMs(`${p}.windowMs`, o.windowMs ?? d.windowMs),
  };
}

export function resolveBreaker(p: string, o: CircuitBreakerOptions = {}): ResolvedBreakerOptions {
  if (typeof o !== 'object' || o === null) throw new InvalidOptionsError(p, o, 'must be an object');
  const d = DEFAULTS.breaker;
  return {
    failureThreshold: positiveInt(`${p}.failureThreshold`, o.failureThreshold ?? d.failureThreshold),
    resetTimeoutMs: atMost(
      `${p}.resetTimeoutMs`,
      positiveInt(`${p}.resetTimeoutMs`, o.resetTimeoutMs ?? d.resetTimeoutMs),
      MAX_TIMER_MS,
      'about 24.8 days, the longest timer Node.js keeps',
    ),
    halfOpenMaxCalls: positiveInt(`${p}.halfOpenMaxCalls`, o.halfOpenMaxCalls ?? d.halfOpenMaxCalls),
  };
}

function resolveBreakerOrFalse(p: string, o: false | CircuitBreakerOptions): ResolvedBreakerOptions | false {
  return o === false ? false : resolveBreaker(p, o);
}

function resolveDapr(o: NonNullable<KugelCommsModuleOptions['dapr']>, env: NodeJS.ProcessEnv): ResolvedDaprOptions {
  const d = DEFAULTS.dapr;
  let endpoint = o.httpEndpoint;
  if (endpoint === undefined) {
    const port = env.DAPR_HTTP_PORT ?? String(d.port);
    if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
      throw new InvalidOptionsError('DAPR_HTTP_PORT', port, 'must be a TCP port number');
    }
    endpoint = `http://127.0.0.1:${port}`;
  }
  const apiToken = o.apiToken ?? (env.DAPR_API_TOKEN || undefined);
  if (apiToken !== undefined) headerSafe('dapr.apiToken', apiToken);
  return {
    httpEndpoint: checkBaseUrl('dapr.httpEndpoint', endpoint),
    apiToken,
    timeoutMs: positiveMs('dapr.timeoutMs', o.timeoutMs ?? d.timeoutMs),
    retries: nonNegativeInt('dapr.retries', o.retries ?? d.retries),
    breaker: resolveBreaker('dapr.breaker', o.breaker ?? {}),
    waitForSidecarMs: nonNegativeMs('dapr.waitForSidecarMs', o.waitForSidecarMs ?? d.waitForSidecarMs),
    serviceInvocation: bool('dapr.serviceInvocation', o.serviceInvocation ?? d.serviceInvocation),
  };
}

function resolveAuth(o: NonNullable<KugelCommsModuleOptions['auth']>): ResolvedKugelCommsOptions['auth'] {
  if (o.apiKey !== undefined) headerSafe('auth.apiKey', o.apiKey);
  const t = o.serviceToken;
  if (t === undefined) return { apiKey: o.apiKey };
  if (typeof t !== 'object' || t === null) {
    throw new InvalidOptionsError('auth.serviceToken', t, 'must be an object with a "secret"');
  }
  if (typeof t.secret !== 'string' || t.secret.length === 0) {
    throw new InvalidOptionsError('auth.serviceToken.secret', t.secret, 'must be a non-empty string');
  }
  const algorithm = t.algorithm ?? DEFAULTS.serviceToken.algorithm;
  if (!JWT_ALGORITHMS.includes(algorithm)) {
    throw new InvalidOptionsError(
      'auth.serviceToken.algorithm',
      algorithm,
      `must be one of ${JWT_ALGORITHMS.join(', ')} ("none" is never allowed)`,
    );
  }
  const expiresInSec = positiveInt(
    'auth.serviceToken.expiresInSec',
    t.expiresInSec ?? DEFAULTS.serviceToken.expiresInSec,
  );
  if (expiresInSec > DEFAULTS.serviceToken.maxExpiresInSec) {
    throw new InvalidOptionsError(
      'auth.serviceToken.expiresInSec',
      expiresInSec,
      `must be at most ${DEFAULTS.serviceToken.maxExpiresInSec}`,
    );
  }
  return {
    apiKey: o.apiKey,
    serviceToken: { secret: t.secret, algorithm, expiresInSec, issuer: t.issuer, audience: t.audience },
  };
}

function resolveHealth(o: NonNullable<KugelCommsModuleOptions['health']>): ResolvedKugelCommsOptions['health'] {
  const openCircuitIs = o.openCircuitIs ?? DEFAULTS.health.openCircuitIs;
  if (openCircuitIs !== 'down' && openCircuitIs !== 'up') {
    throw new InvalidOptionsError('health.openCircuitIs', openCircuitIs, 'must be "down" or "up"');
  }
  if (
    o.criticalBreakers !== undefined &&
    (!Array.isArray(o.criticalBreakers) || o.criticalBreakers.some((b) => typeof b !== 'string'))
  ) {
    throw new InvalidOptionsError('health.criticalBreakers', o.criticalBreakers, 'must be an array of breaker names');
  }
  return { openCircuitIs, criticalBreakers: o.criticalBreakers };
}

function resolveRepositories(o: RepositoryOptions): ResolvedRepositoryOptions {
  if (typeof o !== 'object' || o === null) throw new InvalidOptionsError('repositories', o, 'must be an object');
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
  const ttlSec = nonNegativeNumber('repositories.cacheTtlSec', o.cacheTtlSec ?? d.cacheTtlSec);
  const stateStore = o.stateStore ?? d.stateStore;
  if (typeof stateStore !== 'string' || !SERVICE_NAME.test(stateStore)) {
    throw new InvalidOptionsError('repositories.stateStore', stateStore, 'must be a Dapr component name');
  }
  const s = o.services ?? {};
  if (typeof s !== 'object' || s === null)
    throw new InvalidOptionsError('repositories.services', s, 'must be an object');
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
    cacheTtlMs: Math.round(ttlSec * 1000),
    cacheMaxEntries: positiveInt('repositories.cacheMaxEntries', o.cacheMaxEntries ?? d.cacheMaxEntries),
    stateStore,
    services: { masterData: serviceName('masterData'), terminal: serviceName('terminal'), cart: serviceName('cart') },
  };
}

const METRIC_PREFIX = /^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/;

function resolveMetrics(o: MetricsOptions): ResolvedMetricsOptions {
  if (typeof o !== 'object' || o === null) throw new InvalidOptionsError('metrics', o, 'must be an object');
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
  if (typeof o !== 'object' || o === null) throw new InvalidOptionsError('tracing', o, 'must be an object');
  return { propagate: bool('tracing.propagate', o.propagate ?? DEFAULTS.tracing.propagate) };
}

export function checkBaseUrl(option: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidOptionsError(option, value, 'must be an http(s) URL string');
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidOptionsError(option, value, 'must be an absolute http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidOptionsError(option, value, 'must use http: or https:');
  }
  if (url.username || url.password) {
    throw new InvalidOptionsError(
      option,
      `${url.protocol}//***@${url.host}`,
      'must not carry credentials (use auth options)',
    );
  }
  if (url.search || url.hash) {
    throw new InvalidOptionsError(option, value, 'must not have a query or fragment');
  }
  return value.replace(/\/+$/, '');
}

/** The longest delay Node.js timers accept (2^31 − 1 ms). */
const MAX_TIMER_MS = 2_147_483_647;

/** A duration a Node.js timer can hold: a longer one fires after 1 ms. */
export function positiveMs(option: string, value: unknown): number {
  return atMost(option, positiveInt(option, value), MAX_TIMER_MS, 'about 24.8 days, the longest timer Node.js keeps');
}

export function nonNegativeMs(option: string, value: unknown): number {
  return atMost(
    option,
    nonNegativeInt(option, value),
    MAX_TIMER_MS,
    'about 24.8 days, the longest timer Node.js keeps',
  );
}

function atMost(option: string, value: number, max: number, why: string): number {
  if (value > max) throw new InvalidOptionsError(option, value, `must be at most ${max} (${why})`);
  return value;
}

export function positiveInt(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidOptionsError(option, value, 'must be a positive integer');
  }
  return value;
}

function nonNegativeInt(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidOptionsError(option, value, 'must be an integer ≥ 0');
  }
  return value;
}

export function nonNegativeNumber(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidOptionsError(option, value, 'must be a number ≥ 0');
  }
  return value;
}

export function bool(option: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new InvalidOptionsError(option, value, 'must be true or false');
  return value;
}

function headerSafe(option: string, value: unknown): void {
  if (typeof value !== 'string' || value.length === 0 || /[\r\n\0]/.test(value)) {
    throw new InvalidOptionsError(option, value, 'must be a non-empty string without CR, LF or NUL');
  }
}
