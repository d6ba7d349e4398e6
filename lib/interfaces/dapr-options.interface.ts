import { BackoffOptions } from './backoff-options.interface';
import { CircuitBreakerOptions } from './circuit-breaker-options.interface';

/** The Dapr sidecar (`dapr.*`). */
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
   * Client retries of one sidecar call. Small on purpose: daprd's resiliency policies and the
   * components retry too, so one publish may be tried `(1 + retries)` × the sidecar's own retries;
   * tune retries in the sidecar's resiliency configuration.
   * @default 1
   */
  retries?: number;
  /** The delays between sidecar retries; each value unset here is `http.backoff`'s. @default `http.backoff` */
  backoff?: BackoffOptions;
  /** @deprecated Use `backoff.initialDelayMs` (same value); accepted, with a warning at boot, until the next minor version. */
  retryDelayMs?: number;
  /** @deprecated Use `backoff.maxDelayMs` (same value); accepted, with a warning at boot, until the next minor version. */
  maxRetryDelayMs?: number;
  /** Most sockets open at once to the sidecar. @default `http.maxSockets` */
  maxSockets?: number;
  /** An idle keep-alive socket to the sidecar is closed after this many ms. @default `http.idleSocketTimeoutMs` */
  idleSocketTimeoutMs?: number;
  /** Largest sidecar answer accepted, in bytes (a bulk state read, say). @default `http.maxContentLength` */
  maxContentLength?: number;
  /** Largest request body sent to the sidecar, in bytes. @default `http.maxBodyLength` */
  maxBodyLength?: number;
  /**
   * Breaker options, applied to each component's breaker.
   * @default { failureThreshold: 3, resetTimeoutMs: 60000, halfOpenMaxCalls: 1 }
   */
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
