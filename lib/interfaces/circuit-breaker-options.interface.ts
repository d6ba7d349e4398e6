/** Options of a circuit breaker (`http.breaker`, `services[name].breaker`, `dapr.breaker`, `realtime.breaker`). */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the breaker. @default 3 */
  failureThreshold?: number;
  /** How long the breaker stays open before it lets a trial call through. @default 60000 */
  resetTimeoutMs?: number;
  /** Trial calls let through at once while half-open. @default 1 */
  halfOpenMaxCalls?: number;
}
