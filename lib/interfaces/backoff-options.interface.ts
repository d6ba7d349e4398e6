/**
 * The delays between attempts, one shape wherever the package waits and tries again: REST retries
 * (`http.backoff`), sidecar retries (`dapr.backoff`), a republisher's passes after a failing one
 * (`backoff` of its options) and WebSocket reconnects (`realtime.reconnect`).
 *
 * Attempt n waits the step `min(maxDelayMs, initialDelayMs × multiplier^(n−1))`, minus up to
 * `jitter` of it at random: never more than the step, so never more than `maxDelayMs`.
 *
 * Units: every duration option of kugel-comms is in milliseconds and ends in `Ms`. The only
 * seconds are Dapr's own TTLs, which go to daprd as `ttlInSeconds` unchanged and end in `Sec`
 * (`dedupe.ttlSec`, `dedupe.leaseSec`, a republisher's `lease.leaseSec`). (`metrics.buckets` are
 * values of Prometheus `*_seconds` metrics, not durations.)
 */
export interface BackoffOptions {
  /** The step of the first attempt, in milliseconds. Each area's default is on its `backoff` option. */
  initialDelayMs?: number;
  /** The largest step, in milliseconds (a `Retry-After` answer is capped by it too). */
  maxDelayMs?: number;
  /** Growth of the step per attempt, from 1 (constant) to 100. @default 2 */
  multiplier?: number;
  /**
   * Fraction of each step taken off at random (0 to 1), so that the clients of a peer that comes
   * back do not all try in the same millisecond. @default 0.2
   */
  jitter?: number;
}
