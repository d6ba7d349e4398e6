import { ResolvedRetryBudgetOptions } from '../options/resolved-options.interface';

const BUCKETS = 10;

/**
 * Retry budget of one service (the scheme of Finagle's `RetryBudget` and Linkerd's retry
 * budgets). Within a sliding window of `windowMs`, retries may reach
 * `max(ratio × requests, minRetriesPerSecond × windowSeconds)`: a busy service retries at most
 * `ratio` of its traffic, a quiet one still has a floor. When a peer is down and every call
 * fails, this keeps the load to about `1 + ratio` attempts per call instead of `1 + retries`.
 *
 * The window is ten buckets; counting is O(1) per call. Hand-written: axios-retry has no budget
 * and no maintained JS library offers one apart from whole resilience frameworks.
 */
export class RetryBudget {
  private readonly bucketMs: number;
  private readonly requests = new Array<number>(BUCKETS).fill(0);
  private readonly retries = new Array<number>(BUCKETS).fill(0);
  private requestTotal = 0;
  private retryTotal = 0;
  private headTick = 0;

  constructor(
    private readonly options: ResolvedRetryBudgetOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.bucketMs = Math.max(1, Math.floor(options.windowMs / BUCKETS));
  }

  /** Counts a first attempt. */
  recordRequest(): void {
    this.requests[this.rotate()] += 1;
    this.requestTotal += 1;
  }

  /** Takes one retry from the budget; false when the budget is spent. */
  tryRetry(): boolean {
    const i = this.rotate();
    const floor = this.options.minRetriesPerSecond * (this.options.windowMs / 1000);
    const allowed = Math.max(this.options.ratio * this.requestTotal, floor);
    if (this.retryTotal + 1 > allowed) return false;
    this.retries[i] += 1;
    this.retryTotal += 1;
    return true;
  }

  /** Requests and retries counted in the current window. */
  get window(): { requests: number; retries: number } {
    this.rotate();
    return { requests: this.requestTotal, retries: this.retryTotal };
  }

  private rotate(): number {
    const tick = Math.floor(this.now() / this.bucketMs);
    const steps = Math.min(tick - this.headTick, BUCKETS);
    for (let s = 1; s <= steps; s += 1) {
      const i = (this.headTick + s) % BUCKETS;
      this.requestTotal -= this.requests[i];
      this.retryTotal -= this.retries[i];
      this.requests[i] = 0;
      this.retries[i] = 0;
    }
    if (tick > this.headTick) this.headTick = tick;
    return this.headTick % BUCKETS;
  }
}
