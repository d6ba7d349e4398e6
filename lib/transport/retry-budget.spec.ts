import { RetryBudget } from './retry-budget';

describe('RetryBudget', () => {
  let now = 0;
  const clock = () => now;
  beforeEach(() => (now = 1_000_000));

  it('allows the floor when traffic is quiet', () => {
    const budget = new RetryBudget({ ratio: 0.2, minRetriesPerSecond: 1, windowMs: 10_000 }, clock);
    budget.recordRequest();
    const granted = Array.from({ length: 20 }, () => budget.tryRetry()).filter(Boolean).length;
    expect(granted).toBe(10); // 1/s × 10 s
  });

  it('allows ratio × requests when traffic is busy', () => {
    const budget = new RetryBudget({ ratio: 0.2, minRetriesPerSecond: 0, windowMs: 10_000 }, clock);
    for (let i = 0; i < 1000; i += 1) budget.recordRequest();
    const granted = Array.from({ length: 1000 }, () => budget.tryRetry()).filter(Boolean).length;
    expect(granted).toBe(200);
    expect(budget.window).toEqual({ requests: 1000, retries: 200 });
  });

  it('forgets what left the window', () => {
    const budget = new RetryBudget({ ratio: 0.5, minRetriesPerSecond: 0, windowMs: 1_000 }, clock);
    for (let i = 0; i < 10; i += 1) budget.recordRequest();
    for (let i = 0; i < 5; i += 1) expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(false);
    now += 1_000;
    expect(budget.window).toEqual({ requests: 0, retries: 0 });
    expect(budget.tryRetry()).toBe(false);
    budget.recordRequest();
    budget.recordRequest();
    expect(budget.tryRetry()).toBe(true);
  });

  it('slides bucket by bucket', () => {
    const budget = new RetryBudget({ ratio: 1, minRetriesPerSecond: 0, windowMs: 1_000 }, clock);
    budget.recordRequest(); // bucket 0
    now += 500;
    budget.recordRequest(); // bucket 5
    expect(budget.window.requests).toBe(2);
    now += 500; // the first bucket leaves the window
    expect(budget.window.requests).toBe(1);
  });

  it('starts empty and counts requests and retries in the window', () => {
    const budget = new RetryBudget({ ratio: 0.5, minRetriesPerSecond: 0, windowMs: 10_000 }, clock);
    expect(budget.window).toEqual({ requests: 0, retries: 0 });
    budget.recordRequest();
    budget.recordRequest();
    expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(false);
    expect(budget.window).toEqual({ requests: 2, retries: 1 });
  });

  it('a window under ten milliseconds still slides, in 1 ms buckets', () => {
    const budget = new RetryBudget({ ratio: 1, minRetriesPerSecond: 0, windowMs: 5 }, clock);
    budget.recordRequest();
    expect(budget.tryRetry()).toBe(true);
    now += 9;
    expect(budget.window).toEqual({ requests: 1, retries: 1 });
    now += 1;
    expect(budget.window).toEqual({ requests: 0, retries: 0 });
  });

  it('retries leave the window bucket by bucket too, giving the budget back', () => {
    const budget = new RetryBudget({ ratio: 1, minRetriesPerSecond: 0, windowMs: 1_000 }, clock);
    budget.recordRequest();
    expect(budget.tryRetry()).toBe(true); // bucket 0
    now += 500;
    budget.recordRequest();
    expect(budget.tryRetry()).toBe(true); // bucket 5
    expect(budget.tryRetry()).toBe(false);
    now += 500; // bucket 0 leaves with its request and its retry
    expect(budget.window).toEqual({ requests: 1, retries: 1 });
    expect(budget.tryRetry()).toBe(false);
    budget.recordRequest();
    expect(budget.tryRetry()).toBe(true);
  });

  it('a clock that steps back loses nothing and counts nothing twice', () => {
    const budget = new RetryBudget({ ratio: 1, minRetriesPerSecond: 0, windowMs: 1_000 }, clock);
    budget.recordRequest();
    now -= 300; // e.g. the wall clock set back
    budget.recordRequest();
    expect(budget.window).toEqual({ requests: 2, retries: 0 });
    now += 300 + 900; // 900 ms after the first request: both still in the window
    expect(budget.window).toEqual({ requests: 2, retries: 0 });
    now += 100;
    expect(budget.window).toEqual({ requests: 0, retries: 0 });
  });

  it('answers at once on the real clock (O(1): not one step per bucket since the epoch)', () => {
    // 1 ms buckets on Date.now: the first call is ~1.8e12 buckets after tick 0.
    const budget = new RetryBudget({ ratio: 0, minRetriesPerSecond: 100, windowMs: 10 });
    const started = performance.now();
    expect(budget.tryRetry()).toBe(true); // the floor: 100/s × 10 ms = 1
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});
