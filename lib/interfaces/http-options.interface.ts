import { BackoffOptions } from './backoff-options.interface';
import { CircuitBreakerOptions } from './circuit-breaker-options.interface';

/** Per-service overrides of `HttpOptions` (`services[name]`). */
export interface ServiceOptions {
  /** Base URL of the peer, e.g. `http://master-data:8000/api/v1`. */
  baseUrl: string;
  /** Timeout of one attempt to this peer. @default `http.timeoutMs` */
  timeoutMs?: number;
  /** Retries after the first attempt. @default `http.retries` */
  retries?: number;
  /** Most sockets open at once to this peer. @default `http.maxSockets` */
  maxSockets?: number;
  /** `false`, or breaker options to guard this peer with a breaker. @default `http.breaker` */
  breaker?: false | CircuitBreakerOptions;
}

/** Defaults of every service-to-service REST client (`http.*`). */
export interface HttpOptions {
  /**
   * Timeout of one attempt, in milliseconds. Each retry gets a fresh timeout; bound the whole call
   * with `signal: AbortSignal.timeout(ms)`.
   * @default 30000
   */
  timeoutMs?: number;
  /**
   * Retries after the first attempt (so 3 means up to 4 attempts).
   * @default 3
   */
  retries?: number;
  /**
   * The delays between retries: retry n waits `min(maxDelayMs, initialDelayMs × multiplier^(n−1))`
   * minus up to `jitter` of it, or the peer's `Retry-After` when that is longer, never more than
   * `maxDelayMs`. A step of 0 retries at once.
   * @default { initialDelayMs: 100, maxDelayMs: 10000, multiplier: 2, jitter: 0.2 }
   */
  backoff?: BackoffOptions;
  /** @deprecated Use `backoff.initialDelayMs` (same value); accepted, with a warning at boot, until the next minor version. */
  retryDelayMs?: number;
  /** @deprecated Use `backoff.maxDelayMs` (same value); accepted, with a warning at boot, until the next minor version. */
  maxRetryDelayMs?: number;
  /**
   * Retry budget per service, or `false` to turn it off.
   * @default { ratio: 0.2, minRetriesPerSecond: 10, windowMs: 10000 }
   */
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
  /**
   * Breaker for every REST peer (REST calls are retried, not broken, unless this is set).
   * @default false
   */
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
  /** Retries allowed per request in the window (0 to 1). @default 0.2 */
  ratio?: number;
  /** The floor: retries per second a quiet service may always make. @default 10 */
  minRetriesPerSecond?: number;
  /** The sliding window, in milliseconds. @default 10000 */
  windowMs?: number;
}
