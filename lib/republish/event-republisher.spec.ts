import { Logger } from '@nestjs/common';
import { CircuitBreaker } from '../circuit-breaker/circuit-breaker';
import { CircuitState } from '../circuit-breaker/circuit-state';
import { DaprResult, PublishOptions } from '../dapr/dapr.interfaces';
import { isInvalidOptionsError } from '../errors/invalid-options.error';
import { EventRepublisher } from './event-republisher';
import { RepublishPass } from './republisher-status.interface';
import { InMemoryRepublishSource } from './in-memory-republish.source';
import { RepublisherOptions, resolveRepublisherOptions } from './republisher-options';
import { RepublishSource, UndeliveredEvent } from './republish-source.interface';

const INTERVAL = 10_000;

/** A publish whose every call waits until the test settles it (or settles at once with `auto`). */
class Sidecar {
  readonly calls: Array<{ pubsub: string; topic: string; data: unknown; options: PublishOptions }> = [];
  inFlight = 0;
  maxInFlight = 0;
  private waiting: Array<(r: DaprResult<void>) => void> = [];
  constructor(public auto?: () => DaprResult<void>) {}

  readonly publish = (pubsub: string, topic: string, data: unknown, options: PublishOptions) => {
    this.calls.push({ pubsub, topic, data, options });
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    return new Promise<DaprResult<void>>((resolve) => {
      const done = (r: DaprResult<void>) => {
        this.inFlight -= 1;
        resolve(r);
      };
      if (this.auto) done(this.auto());
      else this.waiting.push(done);
    });
  };

  settleAll(result: DaprResult<void> = { ok: true, value: undefined }): number {
    const n = this.waiting.length;
    for (const done of this.waiting.splice(0)) done(result);
    return n;
  }
}

const OK: DaprResult<void> = { ok: true, value: undefined };
const DOWN: DaprResult<void> = { ok: false, error: 'publish: ECONNREFUSED', code: 'ECONNREFUSED' };

function event(n: number, ageMs = 2 * INTERVAL): UndeliveredEvent {
  return { eventId: `e-${n}`, pubsub: 'pubsub', topic: 'topic-tranlog', data: { n }, createdAt: Date.now() - ageMs };
}

/** Lets every promise callback that is ready run (fake timers do not advance on their own). */
async function flush(): Promise<void> {
  for (let i = 0; i < 20; i += 1) await Promise.resolve();
}

describe('EventRepublisher (fake timers, the in-memory source)', () => {
  let source: InMemoryRepublishSource;
  let sidecar: Sidecar;
  let breaker: CircuitBreaker;
  let passes: RepublishPass[];
  let republisher: EventRepublisher;
  const logger = new Logger('test');

  function make(options: Partial<RepublisherOptions> = {}, src: RepublishSource = source): EventRepublisher {
    const r = new EventRepublisher(
      resolveRepublisherOptions('tranlog', {
        source: src,
        intervalMs: INTERVAL,
        minAgeMs: INTERVAL,
        concurrency: 2,
        backoff: { maxDelayMs: 8 * INTERVAL },
        shutdownTimeoutMs: 1_000,
        ...options,
      }),
      { publish: sidecar.publish, breakerFor: () => breaker, logger, random: () => 0.5 },
    );
    r.onPass.on((p) => passes.push(p));
    return r;
  }

  beforeEach(() => {
    jest.useFakeTimers({ now: new Date('2026-11-29T10:00:00Z') });
    jest.spyOn(logger, 'log').mockImplementation(() => undefined);
    jest.spyOn(logger, 'warn').mockImplementation(() => undefined);
    jest.spyOn(logger, 'error').mockImplementation(() => undefined);
    source = new InMemoryRepublishSource();
    sidecar = new Sidecar(() => OK);
    breaker = new CircuitBreaker('pubsub:pubsub', { failureThreshold: 3, resetTimeoutMs: 30_000 });
    passes = [];
  });
  afterEach(async () => {
    await republisher?.stop();
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('republishes, on its schedule, what is undelivered and older than minAgeMs, each with its own event id', async () => {
    source.add(event(1), ['report']);
    republisher = make({ minAgeMs: INTERVAL - 1_000 });
    republisher.start();
    await jest.advanceTimersByTimeAsync(INTERVAL / 2);
    source.add(event(2, 0), ['report']); // too young at the first pass: its consumers may still be answering
    await jest.advanceTimersByTimeAsync(INTERVAL / 2 - 1);
    expect(sidecar.calls).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(1);
    await flush();
    expect(sidecar.calls).toEqual([
      { pubsub: 'pubsub', topic: 'topic-tranlog', data: { n: 1 }, options: { eventId: 'e-1' } },
    ]);
    expect(passes[0]).toMatchObject({ found: 1, published: 1, failed: 0, skipped: 0 });
    expect(source.get('e-1')).toMatchObject({ attempts: 1, publish: 'published', status: 'published' });
    // Still undelivered (nobody called back): republished once it is older than minAgeMs again, and
    // the younger one with it.
    await jest.advanceTimersByTimeAsync(INTERVAL);
    await flush();
    expect(sidecar.calls.map((c) => c.options.eventId)).toEqual(['e-1', 'e-1', 'e-2']);
    // Delivered: left alone.
    source.recordDelivery('e-1', { service: 'report', status: 'received' });
    source.recordDelivery('e-2', { service: 'report', status: 'received' });
    await jest.advanceTimersByTimeAsync(3 * INTERVAL);
    expect(sidecar.calls).toHaveLength(3);
  });

  it('never runs two passes at once: a tick or a runNow() while one runs joins it', async () => {
    sidecar.auto = undefined;
    for (let n = 1; n <= 3; n += 1) source.add(event(n), ['report']);
    const find = jest.spyOn(source, 'findUndelivered');
    republisher = make({ concurrency: 1 });
    republisher.start();
    await jest.advanceTimersByTimeAsync(INTERVAL);
    const first = republisher.runNow();
    expect(republisher.runNow()).toBe(first);
    await jest.advanceTimersByTimeAsync(5 * INTERVAL); // the schedule waits for the pass to end
    expect(find).toHaveBeenCalledTimes(1);
    expect(republisher.status().running).toBe(true);
    for (let i = 0; i < 3; i += 1) {
      sidecar.settleAll();
      await flush();
    }
    await expect(first).resolves.toMatchObject({ found: 3, published: 3 });
    expect(republisher.status().running).toBe(false);
    expect(sidecar.maxInFlight).toBe(1);
  });

  it('keeps at most `concurrency` publishes in flight', async () => {
    sidecar.auto = undefined;
    for (let n = 1; n <= 9; n += 1) source.add(event(n), ['report']);
    republisher = make({ concurrency: 3 });
    const pass = republisher.runNow();
    for (let i = 0; i < 5; i += 1) {
      await flush();
      expect(sidecar.inFlight).toBeLessThanOrEqual(3);
      sidecar.settleAll();
    }
    await expect(pass).resolves.toMatchObject({ found: 9, published: 9 });
    expect(sidecar.maxInFlight).toBe(3);
  });

  it('leaves a pub/sub alone while its breaker is open, comes back when it lets its trial through, one trial first', async () => {
    for (let n = 1; n <= 4; n += 1) source.add(event(n), ['report']);
    for (let i = 0; i < 3; i += 1) breaker.tryAcquire()!.failure();
    expect(breaker.state).toBe(CircuitState.Open);
    republisher = make({ concurrency: 4 });
    republisher.start();
    await jest.advanceTimersByTimeAsync(INTERVAL);
    await flush();
    expect(sidecar.calls).toHaveLength(0);
    expect(passes[0]).toMatchObject({ found: 4, published: 0, failed: 0, skipped: 4 });
    expect(source.list().map((r) => r.attempts)).toEqual([0, 0, 0, 0]); // skipped is not an attempt
    // The next pass is due when the breaker lets its trial through (30 s after it opened), not at
    // the backoff's 20 s then 40 s.
    const trialAt = breaker.retryAt!;
    expect(republisher.status().nextPassAt).toBeLessThanOrEqual(trialAt + 10);
    // Half-open: exactly one publish goes (the breaker's one trial); the others wait for its verdict.
    sidecar.auto = undefined;
    await jest.advanceTimersByTimeAsync(trialAt + 10 - Date.now());
    await flush();
    expect(breaker.state).toBe(CircuitState.HalfOpen);
    expect(sidecar.inFlight).toBe(1);
    const permit = breaker.tryAcquire(); // the trial slot is the publish's, as the runner would hold it
    expect(permit).toBeDefined();
    permit!.success();
    sidecar.settleAll();
    await flush();
    expect(sidecar.inFlight).toBe(3);
    sidecar.settleAll();
    await flush();
    expect(passes.at(-1)).toMatchObject({ found: 4, published: 4, skipped: 0 });
    expect(passes.slice(0, -1).every((p) => p.skipped === 4 && p.published === 0)).toBe(true);
  });

  it('treats a publish the breaker refused (ERR_CIRCUIT_OPEN) as not attempted, and stops that pub/sub for the pass', async () => {
    for (let n = 1; n <= 3; n += 1) source.add(event(n), ['report']);
    sidecar.auto = () => ({ ok: false, error: 'circuit "pubsub:pubsub" is open', code: 'ERR_CIRCUIT_OPEN' });
    republisher = make({ concurrency: 1 });
    await expect(republisher.runNow()).resolves.toMatchObject({ published: 0, failed: 0, skipped: 3 });
    expect(sidecar.calls).toHaveLength(1);
    expect(source.list().map((r) => r.attempts)).toEqual([0, 0, 0]);
  });

  it('backs off after failing passes (interval × 2^n, capped), and goes back to the interval after a clean one', async () => {
    source.add(event(1), ['report']);
    sidecar.auto = () => DOWN;
    republisher = make({ minAgeMs: 0, backoff: { maxDelayMs: 8 * INTERVAL, jitter: 0 } });
    republisher.start();
    const starts: number[] = [];
    republisher.onPass.on((p) => starts.push(p.startedAt));
    const t0 = Date.now();
    await jest.advanceTimersByTimeAsync(INTERVAL + 2 * INTERVAL + 4 * INTERVAL + 8 * INTERVAL + 8 * INTERVAL);
    expect(starts.map((t) => t - t0)).toEqual([1, 3, 7, 15, 23].map((k) => k * INTERVAL));
    expect(source.get('e-1')).toMatchObject({
      publish: 'failed',
      status: 'failed',
      lastError: DOWN.ok ? '' : DOWN.error,
    });
    sidecar.auto = () => OK;
    await jest.advanceTimersByTimeAsync(8 * INTERVAL);
    await jest.advanceTimersByTimeAsync(INTERVAL);
    expect(starts.slice(-2).map((t) => t - t0)).toEqual([31 * INTERVAL, 32 * INTERVAL]);
  });

  it('reports a source that fails as a failed pass, and never throws', async () => {
    const broken: RepublishSource = {
      findUndelivered: () => Promise.reject(new Error('connect ECONNREFUSED mongodb://admin:s3cret@db:27017')),
      markPublished: () => Promise.resolve(),
      markFailed: () => Promise.resolve(),
    };
    republisher = make({}, broken);
    const pass = await republisher.runNow();
    expect(pass.error).toBe('findUndelivered failed: Error: connect ECONNREFUSED mongodb://***@db:27017');
    expect(sidecar.calls).toHaveLength(0);
  });

  it('catches marks that fail: the event stays undelivered for the next pass', async () => {
    source.add(event(1), ['report']);
    jest.spyOn(source, 'markPublished').mockRejectedValue(new Error('db gone'));
    republisher = make();
    await expect(republisher.runNow()).resolves.toMatchObject({ published: 1 });
    expect(logger.error).toHaveBeenCalledWith('republisher "tranlog": markPublished(e-1) failed: Error: db gone');
  });

  it('stop(): no timer left, the pass in flight awaited, no new publish after it', async () => {
    sidecar.auto = undefined;
    for (let n = 1; n <= 4; n += 1) source.add(event(n), ['report']);
    republisher = make({ concurrency: 2 });
    republisher.start();
    await jest.advanceTimersByTimeAsync(INTERVAL);
    expect(sidecar.inFlight).toBe(2);
    let stopped = false;
    const stopping = republisher.stop().then(() => (stopped = true));
    await flush();
    expect(stopped).toBe(false); // waits for the two in flight
    sidecar.settleAll();
    await stopping;
    expect(sidecar.calls).toHaveLength(2); // the other two were not started
    expect(passes[0]).toMatchObject({ published: 2, skipped: 2 });
    expect(jest.getTimerCount()).toBe(0);
    await expect(republisher.runNow()).resolves.toMatchObject({ found: 0, error: 'the republisher is stopped' });
    republisher.start(); // a stopped republisher does not start again
    expect(jest.getTimerCount()).toBe(0);
  });

  it('stop() between passes clears the scheduled one: no timer left, no pass afterwards', async () => {
    source.add(event(1), ['report']);
    republisher = make();
    republisher.start();
    expect(jest.getTimerCount()).toBe(1);
    await republisher.stop();
    expect(jest.getTimerCount()).toBe(0);
    await jest.advanceTimersByTimeAsync(5 * INTERVAL);
    expect(passes).toHaveLength(0);
    expect(sidecar.calls).toHaveLength(0);
  });

  it('stop(): a pass that does not end within shutdownTimeoutMs is abandoned; its late outcome is only logged', async () => {
    sidecar.auto = undefined;
    source.add(event(1), ['report']);
    jest.spyOn(source, 'markPublished').mockRejectedValue(new Error('closed'));
    republisher = make({ shutdownTimeoutMs: 1_000 });
    republisher.start();
    await jest.advanceTimersByTimeAsync(INTERVAL);
    const stopping = republisher.stop();
    await jest.advanceTimersByTimeAsync(1_000);
    await stopping;
    // The line names what was abandoned: here the publish the sidecar never answered.
    expect(logger.warn).toHaveBeenCalledWith(
      expect.stringMatching(
        /did not end within 1000 ms \(shutdownTimeoutMs\); abandoned while waiting for 1 publish\(es\) to the sidecar/,
      ),
    );
    expect(jest.getTimerCount()).toBe(0);
    sidecar.settleAll(); // the sidecar answers after the app has moved on
    await flush();
    expect(logger.error).toHaveBeenCalledWith('republisher "tranlog": markPublished(e-1) failed: Error: closed');
  });

  it('reports the oldest undelivered age as of now, from the source', async () => {
    source.add(event(1, 5 * INTERVAL), ['report']);
    source.add(event(2, INTERVAL), ['report']);
    republisher = make();
    expect(republisher.status().oldestUndeliveredAgeMs).toBeNull();
    await republisher.refreshStatus();
    expect(republisher.status()).toMatchObject({ undelivered: 2, oldestUndeliveredAgeMs: 5 * INTERVAL });
    jest.advanceTimersByTime(1_234);
    expect(republisher.status().oldestUndeliveredAgeMs).toBe(5 * INTERVAL + 1_234);
    source.recordDelivery('e-1', { service: 'report', status: 'received' });
    await expect(republisher.refreshStatus()).resolves.toMatchObject({
      undelivered: 1,
      oldestUndeliveredAgeMs: INTERVAL + 1_234,
    });
  });
});

describe('resolveRepublisherOptions', () => {
  const source = new InMemoryRepublishSource();

  it.each([
    ['bad name', ' x', {}, 'republisher.name'],
    ['intervalMs 0', 'r', { intervalMs: 0 }, 'republishers.r.intervalMs'],
    ['concurrency 1.5', 'r', { concurrency: 1.5 }, 'republishers.r.concurrency'],
    [
      'a backoff below the interval',
      'r',
      { intervalMs: 1000, backoff: { maxDelayMs: 10 } },
      'republishers.r.backoff.maxDelayMs',
    ],
    [
      'a first step below the interval',
      'r',
      { intervalMs: 1000, backoff: { initialDelayMs: 500 } },
      'republishers.r.backoff.initialDelayMs',
    ],
    ['a jitter above 1', 'r', { backoff: { jitter: 1.5 } }, 'republishers.r.backoff.jitter'],
    ['a lease store that is no component name', 'r', { lease: { store: 'a b' } }, 'republishers.r.lease.store'],
    ['a lease of 0 s', 'r', { lease: { store: 'statestore', leaseSec: 0 } }, 'republishers.r.lease.leaseSec'],
    [
      'a source without markFailed',
      'r',
      { source: { findUndelivered: () => 1, markPublished: () => 1 } },
      'republishers.r.source',
    ],
  ])('refuses %s, naming the option', (_what, name, options, option) => {
    let error: unknown;
    try {
      resolveRepublisherOptions(name, { source, ...options } as RepublisherOptions);
    } catch (e) {
      error = e;
    }
    expect(isInvalidOptionsError(error)).toBe(true);
    expect((error as { option: string }).option).toBe(option);
  });

  it('fills in the defaults', () => {
    expect(resolveRepublisherOptions('r', { source })).toEqual({
      name: 'r',
      source,
      intervalMs: 60_000,
      minAgeMs: 60_000,
      batchSize: 100,
      concurrency: 4,
      backoff: { initialDelayMs: 120_000, maxDelayMs: 300_000, multiplier: 2, jitter: 0.2 },
      maxUndeliveredAgeMs: 900_000,
      shutdownTimeoutMs: 5_000,
      firstPassAfterMs: 60_000,
    });
    expect(resolveRepublisherOptions('r', { source, lease: { store: 'statestore' } }).lease).toEqual({
      store: 'statestore',
      leaseMs: 30_000,
    });
  });
});
