import type { SubscriptionOptions } from '../subscriptions/subscription-options';
import type { RealtimeOptions } from '../realtime/realtime-options.interface';

/**
 * Options of `KugelCommsModule.forRoot()` / `forRootAsync()`.
 *
 * Every field is optional; the defaults live in one place (`options/defaults.ts`) and are
 * named here with `@default`. Options are merged and validated once at boot: a bad value stops
 * start-up with an error that names the option and the value.
 */
export interface KugelCommsModuleOptions {
  /**
   * Peers by name. A string is the base URL; an object can override the HTTP defaults for that
   * peer. A name not listed here is looked up in `BASE_URL_<NAME>` (see `HttpClientHelper`).
   */
  services?: Record<string, string | ServiceOptions>;
  /** Defaults for every service-to-service client. */
  http?: HttpOptions;
  /** The Dapr sidecar. */
  dapr?: DaprOptions;
  /** Credentials used by the auth helpers and the repositories. */
  auth?: AuthOptions;
  /** How `CircuitBreakerHealthIndicator` reports breakers. */
  health?: HealthOptions;
  /** The web repositories, `PubsubManager` and `StateStoreManager`. */
  repositories?: RepositoryOptions;
  /** Prometheus metrics (off by default; needs the optional `prom-client` package). */
  metrics?: MetricsOptions;
  /** W3C trace context on outgoing calls. */
  tracing?: TracingOptions;
  /** The receiving half: `@DaprSubscribe` handlers, their routes and the app token. */
  subscriptions?: SubscriptionOptions;
  /** Service-to-service WebSocket connections (`RealtimeClient`). */
  realtime?: RealtimeOptions;
}

/** Per-service overrides of `HttpOptions`. */
export interface ServiceOptions {
  /** Base URL of the peer, e.g. `http://master-data:8000/api/v1`. */
  baseUrl: string;
  timeoutMs?: number;
  retries?: number;
  maxSockets?: number;
  /** `false` (the default for REST peers) or breaker options to guard this peer with a breaker. */
  breaker?: false | CircuitBreakerOptions;
}

export interface HttpOptions {
  /**
   * Timeout of one attempt, in milliseconds. Each retry gets a fresh timeout, as the original's
   * per-request timeout; bound the whole call with `signal: AbortSignal.timeout(ms)`.
   * @default 30000
   */
  timeoutMs?: number;
  /**
   * Retries after the first attempt (so 3 means up to 4 attempts).
   * @default 3
   */
  retries?: number;
  /**
   * Base delay of the exponential backoff: retry n waits about `2^n × retryDelayMs` plus 0–20 % jitter.
   * @default 100
   */
  retryDelayMs?: number;
  /**
   * Upper bound of any one retry delay, `Retry-After` included.
   * @default 10000
   */
  maxRetryDelayMs?: number;
  /** Retry budget per service, or `false` to turn it off. */
  retryBudget?: false | RetryBudgetOptions;
  /**
   * Most sockets open at once to one service (requests beyond it queue in the agent).
   * @default 64
   */
  maxSockets?: number;
  /**
   * An idle keep-alive socket is closed after this many milliseconds, before a typical server
   * keep-alive timeout (Node's 5 s) closes it under us.
   * @default 4000
   */
  idleSocketTimeoutMs?: number;
  /**
   * Largest response body accepted, in bytes (a bigger one fails the call).
   * @default 10485760 (10 MiB)
   */
  maxContentLength?: number;
  /**
   * Largest request body sent, in bytes.
   * @default 10485760 (10 MiB)
   */
  maxBodyLength?: number;
  /** Breaker for every REST peer (`false` by default: REST calls are retried, not broken). */
  breaker?: false | CircuitBreakerOptions;
  /**
   * Accept TLS certificates that do not verify. Only for local development against self-signed
   * peers; never turned on by anything but this explicit option.
   * @default false
   */
  insecureSkipTlsVerify?: boolean;
}

/**
 * Retry budget (the scheme of Finagle's and Linkerd's): within a sliding window, retries may
 * reach `ratio × requests`, and never fewer than `minRetriesPerSecond × window` so that a quiet
 * service can still retry.
 */
export interface RetryBudgetOptions {
  /** @default 0.2 */
  ratio?: number;
  /** @default 10 */
  minRetriesPerSecond?: number;
  /** @default 10000 */
  windowMs?: number;
}

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the breaker. @default 3 */
  failureThreshold?: number;
  /** How long the breaker stays open before it lets a trial call through. @default 60000 */
  resetTimeoutMs?: number;
  /** Trial calls let through at once while half-open. @default 1 */
  halfOpenMaxCalls?: number;
}

export interface DaprOptions {
  /**
   * The sidecar's HTTP endpoint.
   * @default `http://127.0.0.1:${DAPR_HTTP_PORT ?? 3500}`
   */
  httpEndpoint?: string;
  /** Sent as `dapr-api-token` on every sidecar call. @default process.env.DAPR_API_TOKEN */
  apiToken?: string;
  /** Timeout of one sidecar call attempt. @default 5000 */
  timeoutMs?: number;
  /**
   * Client retries of one sidecar call. Small on purpose: the sidecar and its components retry
   * too (see README, "How retries stack").
   * @default 1
   */
  retries?: number;
  /** Base delay of the backoff between sidecar retries. @default `http.retryDelayMs` */
  retryDelayMs?: number;
  /** Upper bound of one sidecar retry delay. @default `http.maxRetryDelayMs` */
  maxRetryDelayMs?: number;
  /** Most sockets open at once to the sidecar. @default `http.maxSockets` */
  maxSockets?: number;
  /** An idle keep-alive socket to the sidecar is closed after this many ms. @default `http.idleSocketTimeoutMs` */
  idleSocketTimeoutMs?: number;
  /** Largest sidecar answer accepted, in bytes (a bulk state read, say). @default `http.maxContentLength` */
  maxContentLength?: number;
  /** Largest request body sent to the sidecar, in bytes. @default `http.maxBodyLength` */
  maxBodyLength?: number;
  /** Breaker options, applied to each component's breaker. */
  breaker?: CircuitBreakerOptions;
  /**
   * Wait for `/v1.0/healthz/outbound` at start-up for at most this long, then boot anyway
   * (0 disables the wait).
   * @default 10000
   */
  waitForSidecarMs?: number;
  /**
   * Resolve service names that are neither in `services` nor in `BASE_URL_<NAME>` through Dapr
   * service invocation (`/v1.0/invoke/<name>/method`).
   * @default false
   */
  serviceInvocation?: boolean;
}

export interface AuthOptions {
  /** API key sent as `X-API-KEY` by the fallback pattern. */
  apiKey?: string;
  /** Service token (JWT) minted for service-to-service calls. */
  serviceToken?: ServiceTokenOptions;
}

export interface ServiceTokenOptions {
  /** Shared HMAC secret (or a PEM private key for RS/ES algorithms). */
  secret: string;
  /** Signing algorithm; `none` is refused. @default 'HS256' */
  algorithm?: 'HS256' | 'HS384' | 'HS512' | 'RS256' | 'RS384' | 'RS512' | 'ES256' | 'ES384' | 'ES512';
  /** Lifetime in seconds, at most 3600. @default 300 */
  expiresInSec?: number;
  /** `iss` claim. */
  issuer?: string;
  /** `aud` claim. */
  audience?: string;
}

export interface HealthOptions {
  /**
   * How an open breaker is reported: `'down'` (readiness) or `'up'` with its details (liveness).
   * @default 'down'
   */
  openCircuitIs?: 'down' | 'up';
  /**
   * Breakers that make the indicator report `down` when open. Breakers not named are reported with
   * their details but stay `up`. Default: every breaker counts.
   */
  criticalBreakers?: string[];
  /**
   * Breakers reported as `degraded` when open: the check stays healthy (HTTP 200) and terminus'
   * overall status becomes `"degraded"`. For components whose loss the pod survives (a shared state
   * store). Needs `@nestjs/terminus` 12 or newer: boot fails with `InvalidOptionsError` on an older
   * one. A breaker cannot be both critical and degraded. Default: none.
   */
  degradedBreakers?: string[];
}

/** Names of the repositories `forRoot` can register (see `RepositoryOptions.enabled`). */
export type RepositoryName =
  | 'itemMaster'
  | 'paymentMaster'
  | 'settingsMaster'
  | 'tranlog'
  | 'terminalInfo'
  | 'storeInfo'
  | 'staffMaster'
  | 'pubsub'
  | 'stateStore'
  | 'deliveryStatus';

export interface RepositoryOptions {
  /**
   * Which repositories `forRoot` registers (and exports). `forRootAsync` always registers all of
   * them, since its options are only known after the module graph is built.
   * @default 'all'
   */
  enabled?: RepositoryName[] | 'all';
  /**
   * Lifetime of a cached item, payment or setting, in seconds (fractions allowed); 0 turns the
   * caches off. The original cached items for 300 s and kept payments and settings with no expiry;
   * here every cache expires.
   * @default 300
   */
  cacheTtlSec?: number;
  /**
   * Entries kept per cache; beyond it the least recently used entry is evicted.
   * @default 1000
   */
  cacheMaxEntries?: number;
  /**
   * The Dapr state store of `StateStoreManager`.
   * @default 'statestore'
   */
  stateStore?: string;
  /** Service names (as `services` / `BASE_URL_<NAME>` know them) of the peers the repositories call. */
  services?: {
    /** @default 'master-data' */
    masterData?: string;
    /** @default 'terminal' */
    terminal?: string;
    /** @default 'cart' */
    cart?: string;
  };
}

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
   * Upper bounds of the latency histogram's buckets, in seconds (increasing, > 0).
   * @default [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
   */
  buckets?: number[];
}

/** W3C Trace Context (`traceparent`, `tracestate`) on outgoing REST and sidecar calls. */
export interface TracingOptions {
  /**
   * Add the active OpenTelemetry context's `traceparent`/`tracestate` to every outgoing call when
   * `@opentelemetry/api` is installed and a span is active. A `traceparent` the caller sets is
   * always sent untouched.
   * @default true
   */
  propagate?: boolean;
}
