import { ResolvedReconnectOptions } from '../options/resolved-options.interface';

/**
 * The delay before reconnect attempt `attempt` (1 for the first): the step
 * `min(maxDelayMs, initialDelayMs × multiplier^(attempt−1))`, minus up to `jitter` of it at random
 * (`random` in [0, 1)). Never more than the step, so never more than `maxDelayMs`.
 */
export function backoffDelay(o: ResolvedReconnectOptions, attempt: number, random: number): number {
  const step = Math.min(o.maxDelayMs, o.initialDelayMs * Math.pow(o.multiplier, Math.max(0, attempt - 1)));
  return Math.max(0, Math.round(step * (1 - o.jitter * random)));
}

/** Counts failed attempts and gives the delay before the next one. */
export class Backoff {
  private failures = 0;

  constructor(
    private readonly options: ResolvedReconnectOptions,
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

  /** Back to the first step (after a connection that stayed open). */
  reset(): void {
    this.failures = 0;
  }
}
