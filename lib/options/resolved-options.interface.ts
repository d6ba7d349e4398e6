import { ResolvedBackoff } from '../common/backoff';
import { ServiceTokenOptions } from '../interfaces/auth-options.interface';
import { CircuitBreakerOptions } from '../interfaces/circuit-breaker-options.interface';
import { RetryBudgetOptions } from '../interfaces/http-options.interface';
import { MetricsRegistry } from '../interfaces/metrics-options.interface';
import { ReconnectOptions } from '../interfaces/realtime-options.interface';
import { RepositoryName } from '../interfaces/repository-options.interface';
import { TracingOptions } from '../interfaces/tracing-options.interface';

/** The options after defaults and validation (what `KUGEL_COMMS_RESOLVED_OPTIONS` holds). */
export interface ResolvedKugelCommsOptions {
  services: Record<string, ResolvedServiceOptions>;
  http: ResolvedHttpOptions;
  dapr: ResolvedDaprOptions;
  auth: ResolvedAuthOptions;
  health: { openCircuitIs: 'down' | 'up'; criticalBreakers: string[]; degradedBreakers: string[] };
  repositories: ResolvedRepositoryOptions;
  metrics: ResolvedMetricsOptions;
  tracing: Required<TracingOptions>;
  subscriptions: ResolvedSubscriptionOptions;
  /** The WebSocket client (`resolve-realtime.ts`). */
  realtime: ResolvedRealtimeOptions;
}

export type ResolvedBreakerOptions = Required<CircuitBreakerOptions>;
export type ResolvedRetryBudgetOptions = Required<RetryBudgetOptions>;

/** What one pooled client (a REST peer or the sidecar) is built from. */
export interface ResolvedTransportOptions {
  timeoutMs: number;
  retries: number;
  /** The delays between retries. */
  backoff: ResolvedBackoff;
  maxSockets: number;
  idleSocketTimeoutMs: number;
  maxContentLength: number;
  maxBodyLength: number;
  insecureSkipTlsVerify: boolean;
}

export interface ResolvedHttpOptions extends ResolvedTransportOptions {
  retryBudget: ResolvedRetryBudgetOptions | false;
  breaker: ResolvedBreakerOptions | false;
}

export interface ResolvedServiceOptions extends ResolvedHttpOptions {
  baseUrl: string;
}

export interface ResolvedDaprOptions extends ResolvedTransportOptions {
  httpEndpoint: string;
  apiToken?: string;
  breaker: ResolvedBreakerOptions;
  waitForSidecarMs: number;
  serviceInvocation: boolean;
}

export interface ResolvedAuthOptions {
  apiKey?: string;
  serviceToken?: Required<Pick<ServiceTokenOptions, 'secret' | 'algorithm' | 'expiresInMs'>> &
    Pick<ServiceTokenOptions, 'issuer'>;
}

export interface ResolvedRepositoryOptions {
  enabled: RepositoryName[];
  /** 0 = caches off. */
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

export interface ResolvedSubscriptionOptions {
  /** Without leading or trailing `/`. */
  routePrefix: string;
  appApiToken?: string;
  handlerTimeoutMs: number;
  maxBodyBytes: number;
  /** `dapr.timeoutMs`: how long one write to a dedupe store can take (the lease must outlast two). */
  sidecarTimeoutMs: number;
  shutdownTimeoutMs: number;
  closeIdleConnections: boolean;
}

export type ResolvedReconnectOptions = Required<ReconnectOptions>;

/** The WebSocket settings every connection has (module-wide, or overridden per connection). */
export interface ResolvedRealtimeSettings {
  maxMessageBytes: number;
  sendBufferSize: number;
  sendTimeoutMs: number;
  resendUnconfirmed: boolean;
  handshakeTimeoutMs: number;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  reconnect: ResolvedReconnectOptions;
}

export interface ResolvedRealtimeOptions extends ResolvedRealtimeSettings {
  breaker: ResolvedBreakerOptions | false;
}
