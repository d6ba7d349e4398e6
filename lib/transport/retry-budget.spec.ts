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
});
