/** How `CircuitBreakerHealthIndicator` reports breakers (`health.*`). */
export interface HealthOptions {
  /**
   * How an open breaker is reported: `'down'` (readiness) or `'up'` with its details (liveness).
   * @default 'down'
   */
  openCircuitIs?: 'down' | 'up';
  /**
   * Breakers that make the indicator report `down` when open. Breakers not named are reported with
   * their details but stay `up`. None by default: every breaker (`state:*`, `pubsub:*`, `http:*`,
   * `ws:*`) guards a dependency shared by every pod, and one outage of it must not make every pod
   * unready at once; readiness reports the pod's own sidecar (`isSidecarHealthy`). Name a breaker
   * here only if the pod truly cannot serve without it.
   * @default []
   */
  criticalBreakers?: string[];
  /**
   * Breakers reported as `degraded` when open: the check stays healthy (HTTP 200) and terminus'
   * overall status becomes `"degraded"`. For components whose loss the pod survives (a shared state
   * store). Needs `@nestjs/terminus` 12 or newer: boot fails with `InvalidOptionsError` on an older
   * one. A breaker cannot be both critical and degraded.
   * @default []
   */
  degradedBreakers?: string[];
}
