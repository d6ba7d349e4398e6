/**
 * The one backoff of the package: REST and sidecar retries, the republisher's passes after a
 * failing one, and WebSocket reconnects all wait `backoffDelay` between attempts.
 *
 * A short function rather than a library's: axios-retry's `exponentialDelay` has a fixed base of 2,
 * no cap, and adds its jitter on top of the step (so a capped delay has no jitter left, and every
 * client held at the cap retries in the same millisecond); the republisher and the WebSocket client
 * are not axios. Plain numbers in, a number out, no framework.
 */

/** A backoff with every value filled in and checked (`BackoffOptions` resolved). */
export interface ResolvedBackoff {
  /** The step of the first attempt, in milliseconds. */
  initialDelayMs: number;
  /** The largest step, in milliseconds: no delay is ever longer. */
  maxDelayMs: number;
  /** Growth of the step per attempt (≥ 1). */
  multiplier: number;
  /** Fraction of each step taken off at random (0 to 1). */
  jitter: number;
}

/**
 * The delay before attempt `attempt` (1 for the first retry or reconnect): the step
 * `min(maxDelayMs, initialDelayMs × multiplier^(attempt−1))`, minus up to `jitter` of it at random
 * (`random` in [0, 1)), in whole milliseconds. Jitter only ever takes off, so `maxDelayMs` is a true
 * upper bound and the delays of clients held at the cap still spread over `[(1 − jitter) × max, max]`.
 */
export function backoffDelay(o: ResolvedBackoff, attempt: number, random: number): number {
  const step = Math.min(o.maxDelayMs, o.initialDelayMs * Math.pow(o.multiplier, Math.max(0, attempt - 1)));
  return Math.max(0, Math.round(step * (1 - o.jitter * random)));
}

/** Counts attempts and gives the delay before the next one; `reset()` starts again from the first step. */
export class BackoffSequence {
  private failures = 0;

  constructor(
    private readonly options: ResolvedBackoff,
    private readonly random: () => number = Math.random,
  ) {}

  /** Attempts counted since the last `reset()`. */
  get attempts(): number {
    return this.failures;
  }

  /** Counts one more attempt and returns the delay before it. */
  next(): number {
    this.failures += 1;
    return backoffDelay(this.options, this.failures, this.random());
  }

  /** Back to the first step (after a call that worked, a connection that stayed open). */
  reset(): void {
    this.failures = 0;
  }
}
