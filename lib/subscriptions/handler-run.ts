import { performance } from 'node:perf_hooks';
import { DaprEvent } from './dapr-event.interface';

/**
 * How a handler call went: returned (`value`), threw (`error`), or was still running after the
 * timeout, or when shutdown's grace ran out (`cause: 'shutdown'`) — then `late` settles when it
 * finally ends (a promise cannot be cancelled: the events' `signal` is aborted, and the handler
 * stops as far as it passed that signal on).
 */
export type HandlerRun =
  | { kind: 'returned'; value: unknown; durationMs: number }
  | { kind: 'threw'; error: unknown; durationMs: number }
  | {
      kind: 'timeout';
      cause: 'timeout' | 'shutdown';
      durationMs: number;
      late: Promise<{ ok: boolean; value?: unknown; error?: unknown }>;
    };

/**
 * Calls `fn` (sync or async) on `events` and waits at most `timeoutMs` (0: no limit) for it, and
 * only until `cut` aborts (the end of shutdown's grace; once aborted, `fn` is not called at all).
 * Never rejects. Each event gets the call's `signal` (`cancel`'s) first; when the timeout passes it
 * is aborted with a `TimeoutError` `DOMException` (the reason `AbortSignal.timeout()` gives), at
 * the cut with an `AbortError` one, so what the handler started with that signal stops. The caller
 * may abort `cancel` itself (a dedupe claim lost while the handler runs), and keep it at the timeout
 * (`abortAtTimeout: false`: a handler that holds a dedupe claim may go on, no other run can start).
 */
export async function runHandler(
  events: readonly DaprEvent[],
  fn: () => unknown,
  timeoutMs: number,
  cut?: AbortSignal,
  cancel = new AbortController(),
  abortAtTimeout = true,
): Promise<HandlerRun> {
  attachSignal(events, cancel.signal);
  const started = performance.now();
  type Settled = { ok: true; value: unknown; error?: undefined } | { ok: false; error: unknown; value?: undefined };
  if (cut?.aborted) {
    cancel.abort(new DOMException('the application is shutting down: answered RETRY', 'AbortError'));
    const late = Promise.resolve<Settled>({ ok: false, error: new Error('not run: the application is shutting down') });
    return { kind: 'timeout', cause: 'shutdown', durationMs: 0, late };
  }
  const settled: Promise<Settled> = (async () => fn())().then(
    (value): Settled => ({ ok: true, value }),
    (error: unknown): Settled => ({ ok: false, error }),
  );
  let timer: NodeJS.Timeout | undefined;
  let onCut: (() => void) | undefined;
  const stop = new Promise<'timeout' | 'shutdown'>((resolve) => {
    if (timeoutMs > 0) timer = setTimeout(() => resolve('timeout'), timeoutMs);
    cut?.addEventListener('abort', (onCut = () => resolve('shutdown')), { once: true });
  });
  const outcome = await Promise.race([settled, stop]);
  clearTimeout(timer);
  if (onCut) cut?.removeEventListener('abort', onCut);
  const durationMs = performance.now() - started;
  if (outcome === 'timeout') {
    if (abortAtTimeout && !cancel.signal.aborted)
      cancel.abort(
        new DOMException(`the handler ran past its ${timeoutMs} ms timeout and was answered RETRY`, 'TimeoutError'),
      );
    return { kind: 'timeout', cause: 'timeout', durationMs, late: settled };
  }
  if (outcome === 'shutdown') {
    if (!cancel.signal.aborted)
      cancel.abort(new DOMException('the application is shutting down: the handler was answered RETRY', 'AbortError'));
    return { kind: 'timeout', cause: 'shutdown', durationMs, late: settled };
  }
  return outcome.ok
    ? { kind: 'returned', value: outcome.value, durationMs }
    : { kind: 'threw', error: outcome.error, durationMs };
}

/**
 * Gives each event of one handler call the call's `signal`, as a non-enumerable property: it is
 * not data, so it stays out of `JSON.stringify`, `Object.keys` and deep equality.
 */
function attachSignal(events: readonly DaprEvent[], signal: AbortSignal): void {
  for (const event of events) Object.defineProperty(event, 'signal', { value: signal, enumerable: false });
}

/** An error's message for logs and events (the error itself may be anything a handler threw). */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}
