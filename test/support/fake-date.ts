/**
 * A clock for tests whose subject reads `Date.now()` (breaker reset timeouts, cache TTLs): only
 * `Date` is faked, so timers, `setImmediate`, `performance.now()` and every socket stay real. The
 * date stands still until `advance()` moves it, so a 60 s reset timeout passes at the line that says
 * so, not whenever a busy machine gets round to it. Install it before the module is booted (the
 * breakers and caches pick up `Date.now` when they are made); `restore()` in a `finally`.
 */
export interface FakeDate {
  /** Moves the date forward by `ms`. */
  advance(ms: number): void;
  restore(): void;
}

export function fakeDate(): FakeDate {
  jest.useFakeTimers({
    now: Date.now(),
    doNotFake: [
      'hrtime',
      'nextTick',
      'performance',
      'queueMicrotask',
      'requestAnimationFrame',
      'cancelAnimationFrame',
      'requestIdleCallback',
      'cancelIdleCallback',
      'setImmediate',
      'clearImmediate',
      'setInterval',
      'clearInterval',
      'setTimeout',
      'clearTimeout',
    ],
  });
  return {
    advance: (ms) => jest.setSystemTime(Date.now() + ms),
    restore: () => jest.useRealTimers(),
  };
}
