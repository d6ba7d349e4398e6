import { BrokenCircuitError, isBrokenCircuitError } from '../errors/broken-circuit.error';
import { CircuitBreaker, CircuitStateChange } from './circuit-breaker';
import { CircuitState } from './circuit-state';

describe('CircuitBreaker', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  const make = (o = {}) => {
    const breaker = new CircuitBreaker('state:store', {
      failureThreshold: 3,
      resetTimeoutMs: 60_000,
      halfOpenMaxCalls: 1,
      ...o,
    });
    const changes: CircuitStateChange[] = [];
    breaker.onStateChange.on((c) => changes.push(c));
    return { breaker, changes };
  };
  const fail = (b: CircuitBreaker) => b.tryAcquire()!.failure();
  const succeed = (b: CircuitBreaker) => b.tryAcquire()!.success();

  it('opens after failureThreshold consecutive failures and rejects at once', () => {
    const { breaker, changes } = make();
    fail(breaker);
    fail(breaker);
    expect(breaker.state).toBe(CircuitState.Closed);
    fail(breaker);
    expect(breaker.state).toBe(CircuitState.Open);
    expect(breaker.tryAcquire()).toBeUndefined();
    expect(changes).toEqual([
      expect.objectContaining({
        breaker: 'state:store',
        from: 'closed',
        to: 'open',
        reason: 'failure-threshold',
        failures: 3,
      }),
    ]);
    const snap = breaker.snapshot();
    expect(snap).toMatchObject({
      state: 'open',
      consecutiveFailures: 3,
      openedAt: 1_000_000,
      nextAttemptAt: 1_060_000,
    });
  });

  it('a success while closed resets the count', () => {
    const { breaker } = make();
    fail(breaker);
    fail(breaker);
    succeed(breaker);
    fail(breaker);
    fail(breaker);
    expect(breaker.state).toBe(CircuitState.Closed);
    expect(breaker.snapshot().consecutiveFailures).toBe(2);
  });

  it('goes half-open after resetTimeoutMs, not before', () => {
    const { breaker, changes } = make();
    for (let i = 0; i < 3; i += 1) fail(breaker);
    jest.advanceTimersByTime(59_999);
    expect(breaker.state).toBe(CircuitState.Open);
    jest.advanceTimersByTime(1);
    expect(breaker.state).toBe(CircuitState.HalfOpen);
    expect(changes.map((c) => `${c.from}>${c.to}:${c.reason}`)).toEqual([
      'closed>open:failure-threshold',
      'open>half_open:reset-timeout',
    ]);
  });

  it('half-open admits halfOpenMaxCalls trials and rejects the rest while they run', () => {
    const { breaker } = make({ halfOpenMaxCalls: 2 });
    for (let i = 0; i < 3; i += 1) fail(breaker);
    jest.advanceTimersByTime(60_000);
    const permits = Array.from({ length: 50 }, () => breaker.tryAcquire());
    expect(permits.filter(Boolean)).toHaveLength(2);
    expect(breaker.snapshot().trialsInFlight).toBe(2);
  });

  it('a trial success closes it and resets the count', () => {
    const { breaker, changes } = make();
    for (let i = 0; i < 3; i += 1) fail(breaker);
    jest.advanceTimersByTime(60_000);
    succeed(breaker);
    expect(breaker.state).toBe(CircuitState.Closed);
    expect(breaker.snapshot().consecutiveFailures).toBe(0);
    expect(changes.at(-1)).toMatchObject({ from: 'half_open', to: 'closed', reason: 'trial-succeeded' });
  });

  it('a trial failure re-opens it and restarts the timer', () => {
    const { breaker, changes } = make();
    for (let i = 0; i < 3; i += 1) fail(breaker);
    jest.advanceTimersByTime(60_000);
    fail(breaker);
    expect(breaker.state).toBe(CircuitState.Open);
    expect(changes.at(-1)).toMatchObject({ from: 'half_open', to: 'open', reason: 'trial-failed' });
    jest.advanceTimersByTime(59_000);
    expect(breaker.state).toBe(CircuitState.Open);
    jest.advanceTimersByTime(1_000);
    expect(breaker.state).toBe(CircuitState.HalfOpen);
  });

  it('a released trial frees its slot without a verdict', () => {
    const { breaker } = make();
    for (let i = 0; i < 3; i += 1) fail(breaker);
    jest.advanceTimersByTime(60_000);
    breaker.tryAcquire()!.release();
    expect(breaker.state).toBe(CircuitState.HalfOpen);
    expect(breaker.tryAcquire()).toBeDefined();
  });

  it('a permit counts once however often it is settled', () => {
    const { breaker } = make();
    const permit = breaker.tryAcquire()!;
    permit.failure();
    permit.failure();
    permit.failure();
    expect(breaker.snapshot().consecutiveFailures).toBe(1);
    expect(breaker.state).toBe(CircuitState.Closed);

    permit.success(); // no second verdict: the failure stands
    expect(breaker.snapshot().consecutiveFailures).toBe(1);
    const ok = breaker.tryAcquire()!;
    ok.success();
    expect(breaker.snapshot().consecutiveFailures).toBe(0);
    ok.failure(); // nor after a success
    expect(breaker.snapshot().consecutiveFailures).toBe(0);
  });

  it('late outcomes of calls started while closed do not close a half-open breaker', () => {
    const { breaker } = make();
    const early = breaker.tryAcquire()!;
    for (let i = 0; i < 3; i += 1) fail(breaker);
    jest.advanceTimersByTime(60_000);
    expect(breaker.state).toBe(CircuitState.HalfOpen);
    early.success();
    expect(breaker.state).toBe(CircuitState.HalfOpen);
  });

  it('many concurrent callers in half-open: only halfOpenMaxCalls reach the operation', async () => {
    const { breaker } = make();
    for (let i = 0; i < 3; i += 1) fail(breaker);
    jest.advanceTimersByTime(60_000);
    let reached = 0;
    let finish!: () => void;
    const gate = new Promise<void>((resolve) => (finish = resolve));
    const calls = Array.from({ length: 100 }, () =>
      breaker.execute(async () => {
        reached += 1;
        await gate;
        return 'ok';
      }),
    );
    finish();
    const results = await Promise.allSettled(calls);
    expect(reached).toBe(1);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected).toHaveLength(99);
    expect(rejected.every((r) => isBrokenCircuitError(r.reason))).toBe(true);
    expect(breaker.state).toBe(CircuitState.Closed);
  });

  it('execute: errors judged not to be failures count as successes', async () => {
    const { breaker } = make({ failureThreshold: 1 });
    await expect(
      breaker.execute(
        () => Promise.reject(new Error('409')),
        () => false,
      ),
    ).rejects.toThrow('409');
    expect(breaker.state).toBe(CircuitState.Closed);
    await expect(breaker.execute(() => Promise.reject(new Error('500')))).rejects.toThrow('500');
    expect(breaker.state).toBe(CircuitState.Open);
  });

  it('isolate holds it open past the reset timeout until reset; both are "manual" changes', () => {
    const { breaker, changes } = make();
    const inFlight = breaker.tryAcquire()!;
    breaker.isolate();
    expect(breaker.state).toBe(CircuitState.Open);
    expect(breaker.tryAcquire()).toBeUndefined();
    jest.advanceTimersByTime(10 * 60_000);
    expect(breaker.state).toBe(CircuitState.Open);
    expect(breaker.snapshot()).toMatchObject({ state: 'open', nextAttemptAt: undefined });
    inFlight.success(); // a call that started before is no trial: it does not close it
    expect(breaker.state).toBe(CircuitState.Open);
    breaker.reset();
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
    expect(breaker.tryAcquire()).toBeDefined();
    expect(changes.map((c) => `${c.from}>${c.to}:${c.reason}`)).toEqual(['closed>open:manual', 'open>closed:manual']);
  });

  it('isolating an open breaker keeps it open (no trial); reset forgets the failures of a closed one', () => {
    const { breaker, changes } = make();
    fail(breaker);
    fail(breaker);
    breaker.reset();
    fail(breaker);
    fail(breaker);
    expect(breaker.state).toBe(CircuitState.Closed);
    fail(breaker);
    expect(breaker.state).toBe(CircuitState.Open);
    breaker.isolate();
    jest.advanceTimersByTime(60_000);
    expect(breaker.state).toBe(CircuitState.Open);
    expect(changes.map((c) => c.reason)).toEqual(['failure-threshold']);
  });

  it('a closed breaker reports no opening, no next attempt and no trials', () => {
    const { breaker } = make();
    fail(breaker);
    expect(breaker.snapshot()).toEqual({
      name: 'state:store',
      state: 'closed',
      consecutiveFailures: 1,
      openedAt: undefined,
      nextAttemptAt: undefined,
      trialsInFlight: 0,
    });
    expect(breaker.retryAt).toBeUndefined();
  });

  it('half-open reports when it opened, no next attempt, and its trials in flight', () => {
    const { breaker } = make({ halfOpenMaxCalls: 3 });
    for (let i = 0; i < 3; i += 1) fail(breaker);
    jest.advanceTimersByTime(60_000);
    breaker.tryAcquire();
    expect(breaker.snapshot()).toEqual({
      name: 'state:store',
      state: 'half_open',
      consecutiveFailures: 3,
      openedAt: 1_000_000,
      nextAttemptAt: undefined,
      trialsInFlight: 1,
    });
    expect(breaker.retryAt).toBeUndefined();
  });

  it('every state change event says when it happened and the failures then', () => {
    const { breaker, changes } = make();
    for (let i = 0; i < 3; i += 1) fail(breaker);
    jest.advanceTimersByTime(60_000);
    expect(breaker.state).toBe(CircuitState.HalfOpen);
    jest.advanceTimersByTime(5);
    fail(breaker);
    expect(changes).toEqual([
      { breaker: 'state:store', from: 'closed', to: 'open', reason: 'failure-threshold', failures: 3, at: 1_000_000 },
      { breaker: 'state:store', from: 'open', to: 'half_open', reason: 'reset-timeout', failures: 3, at: 1_060_000 },
      { breaker: 'state:store', from: 'half_open', to: 'open', reason: 'trial-failed', failures: 4, at: 1_060_005 },
    ]);
    expect(breaker.snapshot()).toMatchObject({ openedAt: 1_060_005, nextAttemptAt: 1_120_005 });
  });

  it('outcomes of calls started while closed that land while open change nothing', () => {
    const { breaker } = make();
    const early = [breaker.tryAcquire()!, breaker.tryAcquire()!];
    for (let i = 0; i < 3; i += 1) fail(breaker);
    early[0].success();
    early[1].failure();
    expect(breaker.snapshot()).toMatchObject({ state: 'open', consecutiveFailures: 3, openedAt: 1_000_000 });
  });

  it('a late failure of a call started while closed does not re-open a half-open breaker', () => {
    const { breaker, changes } = make();
    const early = breaker.tryAcquire()!;
    for (let i = 0; i < 3; i += 1) fail(breaker);
    jest.advanceTimersByTime(60_000);
    expect(breaker.state).toBe(CircuitState.HalfOpen);
    early.failure();
    expect(breaker.snapshot()).toMatchObject({ state: 'half_open', consecutiveFailures: 3 });
    expect(changes.map((c) => c.reason)).toEqual(['failure-threshold', 'reset-timeout']);
  });

  it('a released closed permit counts nothing, then or later', () => {
    const { breaker } = make({ failureThreshold: 1 });
    const permit = breaker.tryAcquire()!;
    permit.release();
    permit.failure();
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
    fail(breaker);
    const late = breaker.tryAcquire();
    expect(late).toBeUndefined();
  });

  it('a trial settles once: a second verdict of the same permit is ignored', () => {
    const { breaker, changes } = make({ halfOpenMaxCalls: 2 });
    for (let i = 0; i < 3; i += 1) fail(breaker);
    jest.advanceTimersByTime(60_000);
    const trial = breaker.tryAcquire()!;
    trial.release();
    trial.failure();
    trial.success();
    expect(breaker.snapshot()).toMatchObject({ state: 'half_open', trialsInFlight: 0 });
    expect(changes.map((c) => c.reason)).toEqual(['failure-threshold', 'reset-timeout']);
  });

  it('a trial of an earlier half-open period does not count in the next one', () => {
    const { breaker, changes } = make({ halfOpenMaxCalls: 2 });
    for (let i = 0; i < 3; i += 1) fail(breaker);
    jest.advanceTimersByTime(60_000);
    const old = breaker.tryAcquire()!;
    fail(breaker); // the other trial fails: open again
    jest.advanceTimersByTime(60_000);
    const current = breaker.tryAcquire()!;
    old.failure(); // lands in the next half-open period
    expect(breaker.snapshot()).toMatchObject({ state: 'half_open', trialsInFlight: 1 });
    old.success();
    expect(breaker.state).toBe(CircuitState.HalfOpen);
    current.success();
    expect(breaker.state).toBe(CircuitState.Closed);
    expect(changes.map((c) => c.reason)).toEqual([
      'failure-threshold',
      'reset-timeout',
      'trial-failed',
      'reset-timeout',
      'trial-succeeded',
    ]);
  });

  it('isolating a half-open breaker holds it open and keeps its failures', () => {
    const { breaker, changes } = make();
    for (let i = 0; i < 3; i += 1) fail(breaker);
    jest.advanceTimersByTime(60_000);
    const trial = breaker.tryAcquire()!;
    breaker.isolate();
    expect(breaker.snapshot()).toMatchObject({ state: 'open', consecutiveFailures: 3, openedAt: 1_060_000 });
    trial.success(); // a trial of the half-open period that isolate ended
    jest.advanceTimersByTime(10 * 60_000);
    expect(breaker.state).toBe(CircuitState.Open);
    expect(changes.at(-1)).toMatchObject({ from: 'half_open', to: 'open', reason: 'manual', failures: 3 });
  });

  it('execute rejects with a BrokenCircuitError naming the breaker and when to retry, without calling fn', async () => {
    const { breaker } = make({ failureThreshold: 1 });
    await expect(breaker.execute(() => Promise.reject(new Error('500')))).rejects.toThrow('500');
    const fn = jest.fn(() => Promise.resolve('ok'));
    const error = await breaker.execute(fn).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrokenCircuitError);
    expect(error).toMatchObject({ breaker: 'state:store', retryAt: 1_060_000, code: 'ERR_CIRCUIT_OPEN' });
    expect(fn).not.toHaveBeenCalled();
    expect(breaker.retryAt).toBe(1_060_000);
  });

  it('execute resolves with the value of fn and counts a success', async () => {
    const { breaker } = make();
    fail(breaker);
    fail(breaker);
    await expect(breaker.execute(() => Promise.resolve(42))).resolves.toBe(42);
    expect(breaker.snapshot().consecutiveFailures).toBe(0);
  });

  it('takes its options as given and defaults the rest', () => {
    expect(new CircuitBreaker('b', { failureThreshold: 2 }).options).toMatchObject({ failureThreshold: 2 });
    const defaults = new CircuitBreaker('b').options;
    expect(defaults.failureThreshold).toBeGreaterThan(0);
    expect(defaults.resetTimeoutMs).toBeGreaterThan(0);
    expect(defaults.halfOpenMaxCalls).toBeGreaterThan(0);
  });

  it('refuses bad options with an error naming the option and the value', () => {
    expect(() => new CircuitBreaker('http:orders', { failureThreshold: 0 })).toThrow(
      'option "breaker "http:orders".failureThreshold" must be a positive integer; got 0',
    );
    expect(() => new CircuitBreaker('b', { resetTimeoutMs: -1 })).toThrow(/resetTimeoutMs.*got -1/);
    expect(() => new CircuitBreaker('b', { halfOpenMaxCalls: 1.5 })).toThrow(/halfOpenMaxCalls.*got 1.5/);
  });
});
