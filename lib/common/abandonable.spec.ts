import { untilAborted, within } from './abandonable';

describe('untilAborted', () => {
  it('resolves with the work when it settles first, and rejects with its error', async () => {
    await expect(untilAborted(Promise.resolve(7), new AbortController().signal)).resolves.toBe(7);
    await expect(untilAborted(Promise.reject(new Error('no')), new AbortController().signal)).rejects.toThrow('no');
  });

  it('rejects with the reason on abort, and hands the late outcome to late (a rejection is never unhandled)', async () => {
    const stop = new AbortController();
    let fail!: (e: Error) => void;
    const work = new Promise<number>((_, reject) => (fail = reject));
    const late: unknown[] = [];
    const waiting = untilAborted(work, stop.signal, (o) => late.push(o));
    const reason = new Error('given up');
    stop.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      fail(new Error('late failure'));
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(late).toEqual([{ ok: false, error: new Error('late failure') }]);
    expect(unhandled).toEqual([]);
  });

  it('gives up at once when the signal is already aborted', async () => {
    const stop = new AbortController();
    stop.abort('closed');
    await expect(untilAborted(new Promise(() => undefined), stop.signal)).rejects.toBe('closed');
  });
});

describe('within', () => {
  it('answers the value, a timeout, or an abort, and rejects only with the work’s own error', async () => {
    await expect(within(Promise.resolve('v'), 1_000)).resolves.toEqual({ done: true, value: 'v' });
    await expect(within(new Promise(() => undefined), 10)).resolves.toEqual({ done: false, reason: 'timeout' });
    const stop = new AbortController();
    const waiting = within(new Promise(() => undefined), 60_000, undefined, stop.signal);
    stop.abort();
    await expect(waiting).resolves.toEqual({ done: false, reason: 'aborted' });
    await expect(within(Promise.reject(new Error('own')), 1_000)).rejects.toThrow('own');
  });
});
