import { setMaxListeners } from 'node:events';

/**
 * Waits for `work` until it settles or `signal` aborts, whichever comes first; on abort it
 * rejects with the signal's reason. A promise cannot be cancelled: when the wait is given up,
 * `work` goes on, and its outcome is handed to `late` once it comes (a rejection of `work` is
 * then never left unhandled). Nothing is held once it settles: the abort listener is removed.
 * @internal
 */
export function untilAborted<T>(
  work: Promise<T>,
  signal: AbortSignal,
  late: (outcome: { ok: true; value: T } | { ok: false; error: unknown }) => void = () => undefined,
): Promise<T> {
  let abandoned = false;
  const settled = work.then(
    (value) => {
      if (abandoned) late({ ok: true, value });
      return value;
    },
    (error: unknown) => {
      if (abandoned) late({ ok: false, error });
      throw error;
    },
  );
  if (signal.aborted) {
    abandoned = true;
    settled.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      abandoned = true;
      settled.catch(() => undefined);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    settled.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * Waits for `work` at most `ms` milliseconds (one timer, cleared when `work` settles first) and,
 * when `signal` is given, until it aborts. Resolves `{ done: true, value }`, or `{ done: false }`
 * when the time ran out or the signal aborted; rejects only with `work`'s own error. What is
 * given up goes on as `untilAborted` describes (`late`).
 * @internal
 */
export async function within<T>(
  work: Promise<T>,
  ms: number,
  late?: (outcome: { ok: true; value: T } | { ok: false; error: unknown }) => void,
  signal?: AbortSignal,
): Promise<{ done: true; value: T } | { done: false; reason: 'timeout' | 'aborted' }> {
  const stop = new AbortController();
  // Objects of their own, so no error `work` rejects with can be taken for them.
  const timedOut = {};
  const aborted = {};
  const timer = setTimeout(() => stop.abort(timedOut), ms);
  const onAbort = () => stop.abort(aborted);
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return { done: true, value: await untilAborted(work, stop.signal, late) };
  } catch (error) {
    if (error === timedOut) return { done: false, reason: 'timeout' };
    if (error === aborted) return { done: false, reason: 'aborted' };
    throw error;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * An `AbortController` whose signal any number of waits listen to at once (a client's calls in
 * flight, the handlers of a shutdown), without Node's warning about more than ten listeners.
 */
export function stopSignalSource(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}
