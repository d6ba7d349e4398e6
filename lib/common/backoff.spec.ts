import { backoffDelay, BackoffSequence, ResolvedBackoff } from './backoff';

describe('backoffDelay: the one backoff', () => {
  const o: ResolvedBackoff = { initialDelayMs: 100, maxDelayMs: 1_000, multiplier: 2, jitter: 0.2 };

  it('grows from initialDelayMs by multiplier and stops at maxDelayMs (no jitter drawn)', () => {
    expect([1, 2, 3, 4, 5, 6, 40, 5000].map((n) => backoffDelay(o, n, 0))).toEqual([
      100, 200, 400, 800, 1000, 1000, 1000, 1000,
    ]);
    expect([1, 2, 3, 4].map((n) => backoffDelay({ ...o, multiplier: 3 }, n, 0))).toEqual([100, 300, 900, 1000]);
    expect([1, 2, 9].map((n) => backoffDelay({ ...o, multiplier: 1 }, n, 0))).toEqual([100, 100, 100]);
  });

  it('takes at most `jitter` of the step off and never adds to it, at the cap too', () => {
    for (const attempt of [1, 2, 3, 4, 5, 10, 1000]) {
      const step = backoffDelay(o, attempt, 0);
      for (let i = 0; i <= 100; i += 1) {
        const r = Math.min(i / 100, 0.999999);
        const delay = backoffDelay(o, attempt, r);
        expect(delay).toBeLessThanOrEqual(step);
        expect(delay).toBeGreaterThanOrEqual(Math.floor(step * 0.8));
        expect(delay).toBe(Math.round(step * (1 - 0.2 * r)));
      }
    }
    // Held at the cap, clients still spread over [800, 1000].
    expect(backoffDelay(o, 50, 0.999999)).toBe(800);
    expect(backoffDelay({ ...o, jitter: 1 }, 4, 0.999999)).toBeLessThanOrEqual(1);
    expect(backoffDelay({ ...o, jitter: 0 }, 4, 0.999999)).toBe(800);
  });

  it('a step of 0 stays 0 (REST retries at once when asked)', () => {
    expect(backoffDelay({ ...o, initialDelayMs: 0 }, 5, 0.5)).toBe(0);
  });

  it('BackoffSequence counts attempts, draws jitter per attempt and resets to the first step', () => {
    const draws = [0, 0.5, 0.25, 0];
    const b = new BackoffSequence(o, () => draws.shift()!);
    expect([b.next(), b.next(), b.next()]).toEqual([100, 180, 380]);
    expect(b.attempts).toBe(3);
    b.reset();
    expect(b.attempts).toBe(0);
    expect(b.next()).toBe(100);
  });
});
