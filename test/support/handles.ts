import { createHook } from 'node:async_hooks';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';

/** The library's sources: a timer made by its code has a frame from here on its creation stack. */
const LIB_DIR = path.resolve(__dirname, '../../lib') + path.sep;

/** What `handlesFromNow()` found left of the handles alive at the moment `alive()` was called. */
export type HandlesByType = Record<string, number>;

/**
 * Follows the timers, immediates and TCP handles created from now on, each from its `init` to its
 * `destroy` (async_hooks), so a handle that ends elsewhere in the process cannot hide one left
 * here, as it can in a count of all active handles. `alive(graceMs)` takes those not destroyed at
 * the moment it is called and answers, by type, the ones still not destroyed after up to `graceMs`
 * (transient ones, of this test or of the worker, end within it; handles made while it waits are
 * not its concern). `timersFired()` answers how many of those timers made by the library's code
 * (a frame of lib/ on their creation stack: the test runner's and Node's own timers are not its
 * concern) ran their callback after `alive()` was called: a timer cleared by a clean shutdown never
 * runs, one left behind runs even when it ends within the grace. `ignore`: handles whose creation
 * stack matches it are not followed (the test's own clients, e.g. `fetch`'s pool).
 */
export function handlesFromNow(options: { ignore?: RegExp } = {}): {
  alive(graceMs: number): Promise<HandlesByType>;
  timersFired(): number;
  stop(): void;
} {
  const watched = new Set(['Timeout', 'Immediate', 'TCPWRAP']);
  const live = new Map<number, string>();
  let suspects = new Set<number>();
  const fired = new Set<number>();
  const fromLib = new Set<number>();
  const hook = createHook({
    init: (id, type) => {
      if (!watched.has(type)) return;
      if (type !== 'Timeout' && !options.ignore) {
        live.set(id, type);
        return;
      }
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 100;
      const stack = new Error().stack ?? '';
      Error.stackTraceLimit = limit;
      if (options.ignore?.test(stack)) return;
      live.set(id, type);
      if (type === 'Timeout' && stack.includes(LIB_DIR)) fromLib.add(id);
    },
    before: (id) => {
      if (suspects.has(id) && fromLib.has(id)) fired.add(id);
    },
    destroy: (id) => {
      live.delete(id);
    },
  }).enable();
  return {
    async alive(graceMs) {
      suspects = new Set(live.keys());
      const left = () => [...suspects].filter((id) => live.has(id));
      const deadline = performance.now() + graceMs;
      // Destroy hooks run asynchronously: give them turns of the event loop before reading.
      while (left().length > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      const byType: HandlesByType = {};
      for (const id of left()) byType[live.get(id)!] = (byType[live.get(id)!] ?? 0) + 1;
      return byType;
    },
    timersFired: () => fired.size,
    stop: () => hook.disable(),
  };
}

/**
 * Runs `close()` and resolves with how long it took, or rejects when it has not ended within
 * `boundMs` (the bound docs/operations.md states, plus the caller's margin).
 */
export async function closesWithin(
  close: () => Promise<unknown>,
  boundMs: number,
  what = 'app.close()',
): Promise<number> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), boundMs);
  });
  try {
    const outcome = await Promise.race([close().then(() => 'closed' as const), late]);
    if (outcome === 'late') throw new Error(`${what} did not end within ${boundMs} ms`);
    return performance.now() - started;
  } finally {
    clearTimeout(timer);
  }
}
