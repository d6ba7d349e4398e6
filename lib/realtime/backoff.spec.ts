import { Backoff, backoffDelay } from './backoff';
import { REALTIME_DEFAULTS } from '../options/defaults';
import { ResolvedReconnectOptions } from '../options/resolved-options.interface';

describe('backoff', () => {
  const o: ResolvedReconnectOptions = {
    initialDelayMs: 100,
    maxDelayMs: 1_000,
    multiplier: 2,
    jitter: 0.2,
    resetAfterMs: 2_000,
  };

  it('doubles from initialDelayMs and stops at maxDelayMs (no jitter drawn)', () => {
    expect([1, 2, 3, 4, 5, 6, 40, 5000].map((n) => backoffDelay(o, n, 0))).toEqual([
      100, 200, 400, 800, 1000, 1000, 1000, 1000,
    ]);
  });

  it('takes at most `jitter` of the step off, never adds to it', () => {
    for (const attempt of [1, 3, 10]) {
      const step = backoffDelay(o, attempt, 0);
      expect(backoffDelay(o, attempt, 0.999999)).toBe(Math.round(step * (1 - 0.2 * 0.999999)));
      expect(backoffDelay(o, attempt, 0.5)).toBe(Math.round(step * 0.9));
    }
    expect(backoffDelay({ ...o, jitter: 1 }, 4, 0.999999)).toBeLessThanOrEqual(1);
    expect(backoffDelay({ ...o, jitter: 0 }, 4, 0.999999)).toBe(800);
  });

  it('Backoff counts attempts, draws jitter per attempt and resets to the first step', () => {
    const draws = [0, 0.5, 0.25, 0];
    const b = new Backoff(o, () => draws.shift()!);
    expect([b.next(), b.next(), b.next()]).toEqual([100, 180, 380]);
    expect(b.attempts).toBe(3);
    b.reset();
    expect(b.attempts).toBe(0);
    expect(b.next()).toBe(100);
  });

  it('the defaults start at 100 ms and cap at 30 s', () => {
    const d = REALTIME_DEFAULTS.reconnect;
    expect(backoffDelay(d, 1, 0)).toBe(100);
    expect(backoffDelay(d, 100, 0)).toBe(30_000);
  });
});
