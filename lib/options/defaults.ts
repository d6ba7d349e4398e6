/**
 * The one place where defaults live. Every `@default` in `KugelCommsModuleOptions` names a value
 * from here; the resolvers (`resolve-options.ts`) fill each unset option from it.
 */
export const DEFAULTS = {
  http: {
    timeoutMs: 30_000,
    retries: 3,
    backoff: { initialDelayMs: 100, maxDelayMs: 10_000, multiplier: 2, jitter: 0.2 },
    maxSockets: 64,
    idleSocketTimeoutMs: 4_000,
    maxContentLength: 10 * 1024 * 1024,
    maxBodyLength: 10 * 1024 * 1024,
    insecureSkipTlsVerify: false,
  },
  retryBudget: { ratio: 0.2, minRetriesPerSecond: 10, windowMs: 10_000 },
  breaker: { failureThreshold: 3, resetTimeoutMs: 60_000, halfOpenMaxCalls: 1 },
  /** The sidecar's transport options not listed here (`backoff`, `maxSockets`, ...) default to `http.*`. */
  dapr: { port: 3500, timeoutMs: 5_000, retries: 1, waitForSidecarMs: 10_000, serviceInvocation: false },
  serviceToken: { algorithm: 'HS256' as const, expiresInMs: 300_000, maxExpiresInMs: 3_600_000 },
  health: { openCircuitIs: 'down' as const },
  repositories: {
    cacheTtlMs: 300_000,
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
  /** `subscriptions.*`, and the `bulk` and `dedupe` settings of `@DaprSubscribe` when given as `true`. */
  subscriptions: {
    routePrefix: 'dapr/events',
    handlerTimeoutMs: 30_000,
    maxBodyBytes: 4 * 1024 * 1024,
    shutdownTimeoutMs: 5_000,
    closeIdleConnections: true,
    dedupe: { store: 'statestore', ttlSec: 86_400, leaseSec: 60 },
    bulk: { maxMessages: 100, maxAwaitMs: 1_000 },
  },
  realtime: {
    maxMessageBytes: 1024 * 1024,
    sendBufferSize: 1_000,
    sendTimeoutMs: 30_000,
    resendUnconfirmed: true,
    handshakeTimeoutMs: 10_000,
    heartbeatIntervalMs: 15_000,
    heartbeatTimeoutMs: 10_000,
    reconnect: { initialDelayMs: 100, maxDelayMs: 30_000, multiplier: 2, jitter: 0.2, resetAfterMs: 2_000 },
    // Looser than the REST/Dapr breaker: a peer that restarts (a rolling update) is down for seconds.
    breaker: { failureThreshold: 5, resetTimeoutMs: 30_000, halfOpenMaxCalls: 1 },
  },
} as const;

/**
 * Defaults of the WebSocket client (`realtime.*`), for the library, its tests and the bench (not
 * exported: each option's `@default` says its value).
 */
export const REALTIME_DEFAULTS = DEFAULTS.realtime;
