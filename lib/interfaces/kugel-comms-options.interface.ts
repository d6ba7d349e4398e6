import { AuthOptions } from './auth-options.interface';
import { DaprOptions } from './dapr-options.interface';
import { HealthOptions } from './health-options.interface';
import { HttpOptions, ServiceOptions } from './http-options.interface';
import { MetricsOptions } from './metrics-options.interface';
import { RealtimeOptions } from './realtime-options.interface';
import { RepositoryOptions } from './repository-options.interface';
import { SubscriptionOptions } from './subscription-options.interface';
import { TracingOptions } from './tracing-options.interface';

// The options of each area, in their own files; re-exported so that this file names them all.
export type { AuthOptions, ServiceTokenOptions } from './auth-options.interface';
export type { CircuitBreakerOptions } from './circuit-breaker-options.interface';
export type { DaprOptions } from './dapr-options.interface';
export type { HealthOptions } from './health-options.interface';
export type { HttpOptions, RetryBudgetOptions, ServiceOptions } from './http-options.interface';
export type { MetricsOptions, MetricsRegistry } from './metrics-options.interface';
export type { RealtimeOptions, RealtimeSettings, ReconnectOptions } from './realtime-options.interface';
export type { RepositoryName, RepositoryOptions } from './repository-options.interface';
export type { SubscriptionOptions } from './subscription-options.interface';
export type { TracingOptions } from './tracing-options.interface';

/**
 * Options of `KugelCommsModule.forRoot()` / `forRootAsync()`.
 *
 * Every field is optional; the defaults live in one place (`options/defaults.ts`) and each area's
 * interface names them with `@default`. Options are merged and validated once at boot: a bad value
 * stops start-up with an error that names the option and the value.
 */
export interface KugelCommsModuleOptions {
  /**
   * Peers by name. A string is the base URL; an object can override the HTTP defaults for that
   * peer. A name not listed here is looked up in `BASE_URL_<NAME>` (see `HttpClientHelper`).
   * @default {}
   */
  services?: Record<string, string | ServiceOptions>;
  /** Defaults for every service-to-service client (`HttpOptions`). */
  http?: HttpOptions;
  /** The Dapr sidecar (`DaprOptions`). */
  dapr?: DaprOptions;
  /** Credentials used by the auth helpers and the repositories (`AuthOptions`). */
  auth?: AuthOptions;
  /** How `CircuitBreakerHealthIndicator` reports breakers (`HealthOptions`). */
  health?: HealthOptions;
  /** The web repositories, `PubsubManager` and `StateStoreManager` (`RepositoryOptions`). */
  repositories?: RepositoryOptions;
  /** Prometheus metrics (`MetricsOptions`; off by default; needs the optional `prom-client` package). */
  metrics?: MetricsOptions;
  /** W3C trace context on outgoing calls (`TracingOptions`). */
  tracing?: TracingOptions;
  /** The receiving half: `@DaprSubscribe` handlers, their routes and the app token (`SubscriptionOptions`). */
  subscriptions?: SubscriptionOptions;
  /** Service-to-service WebSocket connections, `RealtimeClient` (`RealtimeOptions`). */
  realtime?: RealtimeOptions;
}
