import { Logger } from '@nestjs/common';
import { hostname } from 'node:os';
import { DaprEvent } from '../dapr-event.interface';
import { ResolvedDedupe, SubscriptionHandler } from '../subscription-definition';
import {
  ClaimRecord,
  DedupeRecord,
  DedupeStore,
  DoneRecord,
  ReadOutcome,
  WriteOutcome,
} from '../../claims/dedupe-store.interface';
import { ClaimSettled } from './consumer-terms';
import { IdempotentConsumer } from './idempotent-consumer';
import { StateTransactionOperation } from '../../dapr/dapr.interfaces';

type Entry = { record: DedupeRecord; etag: string };
/**
 * How the store behaves: answers; fails with an error status (`answered`); does not answer and
 * writes nothing (`silent`); writes but the answer is lost (`lands`: an unknown outcome that
 * happened); loses the write and the answer (`lost`: an unknown outcome that did not happen).
 */
type Mode = 'ok' | 'answered' | 'silent' | 'lands' | 'lost';

/**
 * A key-value store with ETags and first-write in memory, with switchable failures: the semantics
 * the consumer relies on, without a sidecar (the real ones are tested in test/dapr/dedupe.spec.ts).
 */
class MemoryStore implements DedupeStore {
  readonly entries = new Map<string, Entry>();
  readonly ops: string[] = [];
  /** The mode of every operation, or of the next ones queued in `next`. */
  mode: Mode = 'ok';
  readonly next: Mode[] = [];
  private version = 0;

  private take(): Mode {
    return this.next.shift() ?? this.mode;
  }

  private async write(op: string, apply: () => WriteOutcome): Promise<WriteOutcome> {
    this.ops.push(op);
    const mode = this.take();
    if (mode === 'answered') return { ok: false, reason: 'failed', error: 'store answered 500' };
    if (mode === 'silent') return { ok: false, reason: 'unavailable', error: 'no answer' };
    if (mode === 'lost') return { ok: false, reason: 'unknown', error: 'timeout' };
    const done = apply();
    if (mode === 'lands' && done.ok) return { ok: false, reason: 'unknown', error: 'timeout' };
    return done;
  }

  private put(key: string, record: DedupeRecord): WriteOutcome {
    this.entries.set(key, { record, etag: String(++this.version) });
    return { ok: true };
  }

  private conflict(): WriteOutcome {
    return { ok: false, reason: 'conflict', error: 'etag mismatch' };
  }

  insert(_s: string, key: string, record: ClaimRecord) {
    return this.write('insert', () => (this.entries.has(key) ? this.conflict() : this.put(key, record)));
  }

  async read(_s: string, key: string): Promise<ReadOutcome> {
    this.ops.push('read');
    const mode = this.take();
    if (mode === 'answered' || mode === 'silent' || mode === 'lost') return { ok: false, error: `read ${mode}` };
    const e = this.entries.get(key);
    return { ok: true, record: e?.record, etag: e?.etag };
  }

  replace(_s: string, key: string, etag: string, record: DedupeRecord) {
    return this.write('replace', () =>
      this.entries.get(key)?.etag !== etag ? this.conflict() : this.put(key, record),
    );
  }

  markDone(_s: string, key: string, record: DoneRecord) {
    return this.write('markDone', () => this.put(key, record));
  }

  remove(_s: string, key: string, etag: string) {
    return this.write('remove', () => {
      if (this.entries.get(key)?.etag !== etag) return this.conflict();
      this.entries.delete(key);
      return { ok: true };
    });
  }

  /** The handler's writes, as this store applied them (key → value; a delete removes it). */
  readonly effects = new Map<string, unknown>();
  /** Whether a transaction whose condition fails leaves nothing (SQL stores) or applies the rest (Redis). */
  rollsBack = true;

  commit(
    _s: string,
    key: string,
    etag: string | undefined,
    record: DoneRecord,
    _ttl: number,
    effects: StateTransactionOperation[],
  ) {
    return this.write('commit', () => {
      const staleDone = etag !== undefined && this.entries.get(key)?.etag !== etag;
      // A handler's write whose ETag names the value it read: the tests give 'stale' for a lost race.
      const staleEffect = effects.some((op) => op.request.etag === 'stale');
      if ((staleDone || staleEffect) && this.rollsBack) return this.conflict();
      for (const op of effects) {
        if (op.request.etag === 'stale') continue;
        if (op.operation === 'upsert') this.effects.set(op.request.key, op.request.value);
        else this.effects.delete(op.request.key);
      }
      if (!staleDone) this.put(key, record);
      return staleDone || staleEffect ? this.conflict() : { ok: true };
    });
  }

  recordOf(key = KEY): DedupeRecord | undefined {
    return this.entries.get(key)?.record;
  }
}

const KEY = 'kugel-dedupe|pubsub|ledger|e1';
const LEASE_SEC = 30;
const BUDGET_MS = 5_000;

const handler = (dedupe: Partial<ResolvedDedupe> = {}) =>
  ({
    name: 'Ledger.onEntry',
    pubsub: 'pubsub',
    topic: 'ledger',
    dedupe: { store: 'statestore', ttlSec: 60, leaseSec: LEASE_SEC, ...dedupe },
  }) as SubscriptionHandler;

const event = (id: string, data: unknown = {}): DaprEvent => ({
  id,
  data,
  topic: 'ledger',
  pubsub: 'pubsub',
  source: 'cart',
  type: 'com.dapr.event.sent',
  raw: {},
});

const upsert = (key: string, value: unknown, etag?: string): StateTransactionOperation => ({
  operation: 'upsert',
  request: { key, value, ...(etag ? { etag } : {}) },
});

describe('IdempotentConsumer', () => {
  let store: MemoryStore;
  const logger = new Logger('test');
  const consumers: IdempotentConsumer[] = [];
  const replica = () => {
    const c = new IdempotentConsumer(store, logger, { writeBudgetMs: BUDGET_MS });
    consumers.push(c);
    return c;
  };
  let consumer: IdempotentConsumer;

  beforeEach(() => {
    jest.useFakeTimers({ now: 1_000_000 });
    store = new MemoryStore();
    consumer = replica();
    jest.spyOn(logger, 'warn').mockImplementation(() => undefined);
    jest.spyOn(logger, 'error').mockImplementation(() => undefined);
    jest.spyOn(logger, 'log').mockImplementation(() => undefined);
    jest.spyOn(logger, 'debug').mockImplementation(() => undefined);
  });
  afterEach(() => {
    for (const c of consumers.splice(0)) c.abandonAll();
    jest.useRealTimers();
    jest.restoreAllMocks();
  });
  const later = (ms: number) => jest.advanceTimersByTimeAsync(ms);
  const began = async (c: IdempotentConsumer, h = handler(), e = event('e1')) => {
    const verdict = await c.begin(h, e);
    if (!verdict.run) throw new Error(`expected to run, got ${verdict.status} ${verdict.reason}`);
    return verdict;
  };

  it('runs a new event (claim), then turns the claim into its done mark: two round trips', async () => {
    const verdict = await began(consumer);
    expect(verdict.calls).toBe(1);
    expect(await verdict.finish(true)).toBe(1);
    expect(store.ops).toEqual(['insert', 'markDone']);
    expect(store.recordOf()).toMatchObject({ state: 'done', owner: consumer.owner });
    expect(consumer.heldClaims).toBe(0);
  });

  it('answers a processed key SUCCESS without the handler: two round trips', async () => {
    await (await began(consumer)).finish(true);
    store.ops.length = 0;
    expect(await consumer.begin(handler(), event('e1'))).toEqual({
      run: false,
      calls: 2,
      status: 'SUCCESS',
      reason: 'duplicate',
    });
    expect(store.ops).toEqual(['insert', 'read']);
  });

  it('answers a copy whose claim another replica holds RETRY; once that replica crashed and its lease is over, takes it over', async () => {
    const crashed = replica();
    await began(crashed);
    expect(await consumer.begin(handler(), event('e1'))).toMatchObject({
      run: false,
      status: 'RETRY',
      reason: 'in-progress',
    });
    crashed.abandonAll(); // it crashed: nobody renews its claim
    await later(LEASE_SEC * 1000 + 1);
    store.ops.length = 0;
    const taken = await began(consumer);
    expect(taken.calls).toBe(3);
    expect(store.ops).toEqual(['insert', 'read', 'replace']);
    expect(logger.warn).toHaveBeenCalledWith(expect.stringContaining('expired unfinished'));
    expect(store.recordOf()).toMatchObject({ state: 'claimed', owner: consumer.owner });
  });

  it('a take-over is conditional on the record read, so it cannot pass a done mark written in between', async () => {
    const slow = replica();
    const first = await began(slow);
    slow.abandonAll();
    await later(LEASE_SEC * 1000 + 1);
    // The slow replica's done mark lands between the other's read and its take-over: the read ETag is stale.
    const read = store.read.bind(store);
    jest.spyOn(store, 'read').mockImplementationOnce(async (s, k) => {
      const view = await read(s, k);
      store.entries.set(KEY, {
        record: { state: 'done', owner: slow.owner, token: 'x', at: Date.now() },
        etag: 'late',
      });
      return view;
    });
    expect(await consumer.begin(handler(), event('e1'))).toMatchObject({ run: false, status: 'RETRY' });
    expect(await consumer.begin(handler(), event('e1'))).toMatchObject({
      run: false,
      status: 'SUCCESS',
      reason: 'duplicate',
    });
    expect(first.run).toBe(true);
  });

  it('lets only one of two replicas take an expired claim over', async () => {
    const crashed = replica();
    await began(crashed);
    crashed.abandonAll();
    await later(LEASE_SEC * 1000 + 1);
    const other = replica();
    const [a, b] = await Promise.all([consumer.begin(handler(), event('e1')), other.begin(handler(), event('e1'))]);
    expect([a.run, b.run].sort()).toEqual([false, true]);
  });

  it('renews the claim while the handler runs, so no other replica takes it over, and writes the done mark after', async () => {
    const long = await began(consumer);
    const other = replica();
    // Well past the first lease: renewals every lease / 3 kept it.
    await later(LEASE_SEC * 1000 * 3);
    expect(await other.begin(handler(), event('e1'))).toMatchObject({ run: false, reason: 'in-progress' });
    const renewals = store.ops.filter((o) => o === 'replace').length;
    expect(renewals).toBeGreaterThanOrEqual(8);
    expect((store.recordOf() as ClaimRecord).until).toBeGreaterThan(Date.now() + LEASE_SEC * 1000 * 0.6);
    await long.finish(true);
    expect(store.recordOf()).toMatchObject({ state: 'done', owner: consumer.owner });
    // Once settled, nothing renews it any more.
    const ops = store.ops.length;
    await later(LEASE_SEC * 1000);
    expect(store.ops.length).toBe(ops);
  });

  it('a late handler keeps its claim until it settles (renewed past the lease), then its success suppresses copies', async () => {
    const late = await began(consumer);
    await later(LEASE_SEC * 1000 * 2);
    expect(await replica().begin(handler(), event('e1'))).toMatchObject({ reason: 'in-progress' });
    await late.finish(true);
    expect(await replica().begin(handler(), event('e1'))).toMatchObject({ reason: 'duplicate' });
  });

  it('past the time fence the done mark is written by the claim’s ETag (read, then replace)', async () => {
    const verdict = await began(consumer);
    // Renewals fail (the store does not answer): the lease last written ends 30 s after the claim.
    store.mode = 'silent';
    await later(LEASE_SEC * 1000 - BUDGET_MS);
    store.mode = 'ok';
    store.ops.length = 0;
    await verdict.finish(true);
    expect(store.ops).toEqual(['read', 'replace']);
    expect(store.recordOf()).toMatchObject({ state: 'done', owner: consumer.owner });
  });

  it('a late success after its claim passed to another replica writes no done mark over the other’s claim', async () => {
    const a = await began(consumer);
    store.mode = 'silent'; // A cannot renew
    await later(LEASE_SEC * 1000 + 1);
    store.mode = 'ok';
    const b = replica();
    await began(b);
    const bRecord = store.recordOf();
    await a.finish(true);
    expect(store.recordOf()).toEqual(bRecord);
    expect(logger.error).toHaveBeenCalledWith(expect.stringContaining('its done mark was not written'));
  });

  it('a late failure after its claim passed to another replica does not delete the other’s claim', async () => {
    const a = await began(consumer);
    store.mode = 'silent';
    await later(LEASE_SEC * 1000 + 1);
    store.mode = 'ok';
    const b = replica();
    await began(b);
    await a.finish(false);
    expect(store.recordOf()).toMatchObject({ state: 'claimed', owner: b.owner });
    expect(store.ops).not.toContain('remove');
    // And a third replica is still kept out.
    expect(await replica().begin(handler(), event('e1'))).toMatchObject({ run: false, reason: 'in-progress' });
  });

  it('a renewal that finds the claim in other hands reports it lost (ERROR) and stops renewing', async () => {
    await began(consumer);
    store.entries.set(KEY, {
      record: { state: 'claimed', owner: 'x', token: 'y', until: Date.now() + 99_000 },
      etag: 'other',
    });
    await later(LEASE_SEC * 1000);
    expect(logger.error).toHaveBeenCalledWith(
      expect.stringContaining('its claim passed to x while the handler still ran'),
    );
    expect(store.ops.filter((o) => o === 'replace')).toHaveLength(0);
  });

  it('a claim that cannot be renewed lapses a clock margin before its lease ends: the handler is told to stop', async () => {
    const settled: ClaimSettled[] = [];
    const c = new IdempotentConsumer(store, logger, { writeBudgetMs: BUDGET_MS, onSettled: (e) => settled.push(e) });
    consumers.push(c);
    const lost: string[] = [];
    const verdict = await c.begin(handler(), event('e1'), (why) => lost.push(why));
    if (!verdict.run) throw new Error('expected to run');
    store.mode = 'silent';
    await later(LEASE_SEC * 1000 - 1_500);
    expect(lost).toEqual([]);
    await later(600);
    expect(lost).toEqual(['its dedupe claim lapsed: it could not be renewed before its lease ended']);
    // Nobody took it over meanwhile: a handler that ended anyway writes its done mark by the ETag.
    store.mode = 'ok';
    await verdict.finish(true);
    expect(settled.map((e) => e.outcome)).toEqual(['done']);
    expect(store.ops.slice(-2)).toEqual(['read', 'replace']);
    expect(store.recordOf()).toMatchObject({ state: 'done', owner: c.owner });
  });

  it('tells how each claim ended, with its round trips and renewals', async () => {
    const settled: ClaimSettled[] = [];
    const c = new IdempotentConsumer(store, logger, { writeBudgetMs: BUDGET_MS, onSettled: (e) => settled.push(e) });
    consumers.push(c);
    const done = await c.begin(handler(), event('e1'));
    await later(LEASE_SEC * 1000);
    if (done.run) await done.finish(true);
    const released = await c.begin(handler(), event('e2'));
    if (released.run) await released.finish(false);
    store.mode = 'silent';
    const notWritten = await c.begin(handler(), event('e3'));
    expect(notWritten.run).toBe(false);
    store.mode = 'ok';
    const third = await c.begin(handler(), event('e4'));
    store.mode = 'silent';
    if (third.run) await third.finish(true);
    store.mode = 'ok';
    const abandoned = await c.begin(handler(), event('e5'));
    c.abandonAll();
    expect(abandoned.run).toBe(true);
    expect(settled.map((e) => [e.event.id, e.outcome, e.renewals])).toEqual([
      ['e1', 'done', 3],
      ['e2', 'released', 0],
      ['e4', 'not-written', 0],
      ['e5', 'abandoned', 0],
    ]);
    expect(settled[0]).toMatchObject({ key: 'e1', calls: 3 * 2 + 1 });
  });

  it('a failed handler releases its claim by its ETag and leaves no done mark: the next delivery runs it', async () => {
    const first = await began(consumer);
    expect(await first.finish(false)).toBe(2);
    expect(store.ops).toEqual(['insert', 'read', 'remove']);
    expect(store.entries.size).toBe(0);
    expect((await consumer.begin(handler(), event('e1'))).run).toBe(true);
  });

  it('a claim whose write had an unknown outcome and landed is read back and run: no RETRY against its own claim', async () => {
    store.next.push('lands');
    const verdict = await began(consumer);
    expect(verdict.calls).toBe(2);
    expect(store.ops).toEqual(['insert', 'read']);
    await verdict.finish(true);
    expect(store.recordOf()).toMatchObject({ state: 'done' });
  });

  it('a claim write that did not land (unknown outcome) answers RETRY; when it lands late, this replica takes it back at once', async () => {
    store.next.push('lost');
    expect(await consumer.begin(handler(), event('e1'))).toMatchObject({ run: false, reason: 'store-unavailable' });
    // The lost write lands after all (a delayed request): a claim of this replica that no handler holds.
    store.entries.set(KEY, {
      record: { state: 'claimed', owner: consumer.owner, token: 'lost-run', until: Date.now() + LEASE_SEC * 1000 },
      etag: 'late',
    });
    store.ops.length = 0;
    const verdict = await began(consumer);
    expect(store.ops).toEqual(['insert', 'read', 'replace']);
    expect(verdict.calls).toBe(3);
    expect(logger.log).toHaveBeenCalledWith(expect.stringContaining('took back a claim this replica left behind'));
  });

  it('two copies of one event claimed at once in one replica run it once, however the store answers', async () => {
    // The first claim lands but its answer is lost; its read-back is slow, and so is anything the
    // second copy writes: the second must not take the claim back as one left behind.
    store.next.push('lands');
    const read = store.read.bind(store);
    const replace = store.replace.bind(store);
    let reads = 0;
    jest.spyOn(store, 'read').mockImplementation(async (s, k) => {
      if (reads++ === 0) await new Promise((r) => setTimeout(r, 100));
      return read(s, k);
    });
    jest.spyOn(store, 'replace').mockImplementation(async (...args: Parameters<typeof store.replace>) => {
      await new Promise((r) => setTimeout(r, 200));
      return replace(...args);
    });
    const both = Promise.all([consumer.begin(handler(), event('e1')), consumer.begin(handler(), event('e1'))]);
    await later(300);
    const [a, b] = await both;
    expect([a.run, b.run]).toEqual([true, false]);
    expect(b).toMatchObject({ status: 'RETRY', reason: 'in-progress', calls: 0 });
  });

  it('copies of a handled event arriving at once in one replica are each answered SUCCESS (each waits for the one claiming)', async () => {
    await (await began(consumer)).finish(true);
    const copies = await Promise.all(Array.from({ length: 4 }, () => consumer.begin(handler(), event('e1'))));
    expect(copies).toEqual(Array(4).fill({ run: false, calls: 2, status: 'SUCCESS', reason: 'duplicate' }));
  });

  it('a copy delivered to the replica whose handler still runs is answered RETRY (not taken back)', async () => {
    await began(consumer);
    expect(await consumer.begin(handler(), event('e1'))).toMatchObject({ run: false, reason: 'in-progress' });
  });

  it('a done mark whose write had an unknown outcome is read back: landed → done; not landed → written by ETag', async () => {
    const a = await began(consumer);
    store.next.push('lands');
    await a.finish(true);
    expect(store.ops).toEqual(['insert', 'markDone', 'read']);
    expect(store.recordOf()).toMatchObject({ state: 'done' });

    store.entries.clear();
    store.ops.length = 0;
    const b = await began(consumer);
    store.next.push('lost');
    await b.finish(true);
    expect(store.ops).toEqual(['insert', 'markDone', 'read', 'replace']);
    expect(store.recordOf()).toMatchObject({ state: 'done' });
  });

  it.each(['answered', 'silent'] as const)(
    'a store that fails (%s) answers RETRY and never runs the handler',
    async (mode) => {
      store.mode = mode;
      expect(await consumer.begin(handler(), event('e1'))).toMatchObject({
        run: false,
        status: 'RETRY',
        reason: 'store-unavailable',
      });
      // An unanswered claim is not followed by reads: the store is not there.
      expect(store.ops).toEqual(mode === 'silent' ? ['insert'] : ['insert', 'read']);
    },
  );

  it('a done mark that cannot be read is never taken for "not processed"', async () => {
    await (await began(consumer)).finish(true);
    store.mode = 'answered';
    expect(await consumer.begin(handler(), event('e1'))).toMatchObject({
      run: false,
      status: 'RETRY',
      reason: 'store-unavailable',
    });
  });

  it('a done mark the store cannot take now is written again until it lands; copies meanwhile are RETRY, never run', async () => {
    const settled: ClaimSettled[] = [];
    const c = new IdempotentConsumer(store, logger, { writeBudgetMs: BUDGET_MS, onSettled: (e) => settled.push(e) });
    consumers.push(c);
    const verdict = await c.begin(handler(), event('e1'));
    store.mode = 'silent';
    if (verdict.run) expect(await verdict.finish(true)).toBe(2); // the fenced write, then a read: both unanswered
    expect(logger.warn).toHaveBeenCalledWith(expect.stringContaining('its done mark could not be written yet'));
    expect(settled).toEqual([]);
    // While the store is down (longer than the lease), a copy cannot run either.
    await later(LEASE_SEC * 1000 * 1.5);
    expect(await replica().begin(handler(), event('e1'))).toMatchObject({ run: false, reason: 'store-unavailable' });
    // Once it takes writes again, the mark lands at the next try (every third of the lease).
    store.mode = 'ok';
    await later((LEASE_SEC * 1000) / 3);
    expect(store.recordOf()).toMatchObject({ state: 'done', owner: c.owner });
    expect(settled.map((e) => e.outcome)).toEqual(['done']);
    expect(await replica().begin(handler(), event('e1'))).toMatchObject({ run: false, reason: 'duplicate' });
  });

  it('a done mark still pending when its claim passed on (the outage outlasted the lease) ends not-written', async () => {
    const settled: ClaimSettled[] = [];
    const c = new IdempotentConsumer(store, logger, { writeBudgetMs: BUDGET_MS, onSettled: (e) => settled.push(e) });
    consumers.push(c);
    const verdict = await c.begin(handler(), event('e1'));
    store.mode = 'silent';
    if (verdict.run) await verdict.finish(true);
    await later(LEASE_SEC * 1000 + 1);
    store.mode = 'ok';
    const other = replica();
    expect((await other.begin(handler(), event('e1'))).run).toBe(true); // the copy runs again: the window
    await later((LEASE_SEC * 1000) / 3);
    expect(settled.map((e) => e.outcome)).toEqual(['not-written']);
    expect(store.recordOf()).toMatchObject({ state: 'claimed', owner: other.owner });
  });

  it('a done mark never taken is given up after the done mark’s own life (ERROR, not-written), or at shutdown', async () => {
    const settled: ClaimSettled[] = [];
    const c = new IdempotentConsumer(store, logger, { writeBudgetMs: BUDGET_MS, onSettled: (e) => settled.push(e) });
    consumers.push(c);
    const a = await c.begin(handler({ ttlSec: 100 }), event('e1'));
    const b = await c.begin(handler({ ttlSec: 100 }), event('e2'));
    store.mode = 'silent';
    if (a.run) await a.finish(true);
    if (b.run) await b.finish(true);
    await later(100_000 + LEASE_SEC * 1000);
    c.abandonAll(); // e2 is given up at shutdown if it was not yet
    expect(settled.map((e) => [e.event.id, e.outcome])).toEqual([
      ['e1', 'not-written'],
      ['e2', 'not-written'],
    ]);
    expect(logger.error).toHaveBeenCalledWith(expect.stringContaining('its done mark was not written'));
  });

  it('a done mark the store refuses without an ETag is written by the claim’s ETag at once', async () => {
    const verdict = await began(consumer);
    store.next.push('answered'); // e.g. a Redis key flagged by an earlier first-write
    if (verdict.run) await verdict.finish(true);
    expect(store.ops).toEqual(['insert', 'markDone', 'read', 'replace']);
    expect(store.recordOf()).toMatchObject({ state: 'done' });
  });

  it('settles a verdict once', async () => {
    const verdict = await began(consumer);
    await verdict.finish(true);
    expect(await verdict.finish(false)).toBe(0);
    expect(store.ops).toEqual(['insert', 'markDone']);
  });

  it('acknowledges health-check events without the store or the handler', async () => {
    expect(await consumer.begin(handler(), event('hc', { test: 'health-check' }))).toEqual({
      run: false,
      calls: 0,
      status: 'SUCCESS',
      reason: 'health-check',
    });
    expect(store.ops).toEqual([]);
  });

  it('keys on dedupe.key (the publisher id), so a republish with a new CloudEvent id is a copy', async () => {
    const h = handler({ key: (e: DaprEvent) => (e.data as { event_id: string }).event_id });
    await (await began(consumer, h, event('ce-1', { event_id: 'tran-9' }))).finish(true);
    expect(await consumer.begin(h, event('ce-2', { event_id: 'tran-9' }))).toMatchObject({ reason: 'duplicate' });
    expect([...store.entries.keys()]).toEqual(['kugel-dedupe|pubsub|ledger|tran-9']);
  });

  it('drops an event without a key (or whose key function throws) without the handler', async () => {
    const empty = handler({ key: () => '' });
    const throws = handler({
      key: () => {
        throw new Error('no data');
      },
    });
    expect(await consumer.begin(empty, event('e1'))).toMatchObject({
      run: false,
      status: 'DROP',
      reason: 'no-dedupe-key',
    });
    expect(await consumer.begin(throws, event('e2'))).toMatchObject({
      run: false,
      status: 'DROP',
      reason: 'no-dedupe-key',
    });
    expect(store.ops).toEqual([]);
  });

  it('encodes key parts, so no key can reach Dapr\'s reserved "||"', async () => {
    await consumer.begin(handler({ key: () => 'a||b|c' }), event('e1'));
    expect([...store.entries.keys()][0]).toBe('kugel-dedupe|pubsub|ledger|a%7C%7Cb%7Cc');
  });
  /** Another replica's claim on KEY (`until` epoch ms), as if it had written it. */
  const othersClaim = (until: number, owner = 'replica-b', etag = 'b1') =>
    store.entries.set(KEY, { record: { state: 'claimed', owner, token: 'b-run', until }, etag });
  const WHERE = 'Ledger.onEntry: event e1 (key "e1") on pubsub/ledger';

  it('names itself host:pid:8 hex characters in its claims', () => {
    expect(consumer.owner).toMatch(new RegExp(`^${hostname()}:${process.pid}:[0-9a-f]{8}$`));
  });

  it('refuses a handler without dedupe options, naming it', async () => {
    const h = { ...handler(), dedupe: undefined } as SubscriptionHandler;
    await expect(consumer.begin(h, event('e1'))).rejects.toThrow('Ledger.onEntry has no dedupe options');
  });

  it('claims and runs an event without data (only an object can be a health check)', async () => {
    expect((await consumer.begin(handler(), { ...event('e1'), data: undefined })).run).toBe(true);
    expect((await consumer.begin(handler(), event('e2', null))).run).toBe(true);
  });

  it('says why an event without a key is dropped: what the key function gave, or what it threw', async () => {
    const gave = (key: unknown) => handler({ key: () => key as string });
    await consumer.begin(gave(''), event('e1'));
    await consumer.begin(gave(undefined), event('e2'));
    await consumer.begin(gave(7), event('e3'));
    const threw = (thrown: unknown) =>
      handler({
        key: () => {
          throw thrown;
        },
      });
    expect(await consumer.begin(threw(new Error('no data')), event('e4'))).toMatchObject({ status: 'DROP' });
    expect(await consumer.begin(threw(undefined), event('e5'))).toMatchObject({ status: 'DROP' });
    expect(jest.mocked(logger.error).mock.calls.map((c) => c[0])).toEqual([
      'Ledger.onEntry: event e1 on pubsub/ledger has no dedupe key (dedupe.key gave an empty string) → DROP',
      'Ledger.onEntry: event e2 on pubsub/ledger has no dedupe key (dedupe.key gave undefined) → DROP',
      'Ledger.onEntry: event e3 on pubsub/ledger has no dedupe key (dedupe.key gave 7) → DROP',
      'Ledger.onEntry: dedupe.key threw for event e4 on pubsub/ledger: no data → DROP',
      'Ledger.onEntry: dedupe.key threw for event e5 on pubsub/ledger: undefined → DROP',
    ]);
    expect(store.ops).toEqual([]);
  });

  it('writes the claim to live the done mark’s life plus the lease', async () => {
    const insert = jest.spyOn(store, 'insert');
    await began(consumer, handler({ ttlSec: 60, leaseSec: 30 }));
    expect(insert).toHaveBeenCalledWith('statestore', KEY, expect.objectContaining({ state: 'claimed' }), 90);
  });

  it('logs copies at DEBUG with the event, its key and the verdict', async () => {
    othersClaim(Date.now() + 10_000);
    await consumer.begin(handler(), event('e1'));
    store.entries.set(KEY, { record: { state: 'done', owner: 'replica-b', token: 'b-run', at: 1 }, etag: 'b2' });
    await consumer.begin(handler(), event('e1'));
    expect(jest.mocked(logger.debug).mock.calls.map((c) => c[0])).toEqual([
      `${WHERE} is being handled by replica-b → RETRY`,
      `${WHERE} was already handled → SUCCESS`,
    ]);
  });

  it('a lease is over at its until: the claim is taken over then, not a millisecond later', async () => {
    othersClaim(Date.now());
    expect((await consumer.begin(handler(), event('e1'))).run).toBe(true);
    expect(logger.warn).toHaveBeenCalledWith(
      `${WHERE}: the claim of replica-b expired unfinished; running the handler again`,
    );
  });

  it('a claim taken over from a record without an owner names no owner', async () => {
    othersClaim(Date.now() - 1, '');
    expect((await consumer.begin(handler(), event('e1'))).run).toBe(true);
    expect(logger.warn).toHaveBeenCalledWith(
      `${WHERE}: the claim of another replica expired unfinished; running the handler again`,
    );
  });

  it('an expired claim the store gives without an ETag is not taken over (RETRY)', async () => {
    othersClaim(Date.now() - 1);
    const read = store.read.bind(store);
    jest.spyOn(store, 'read').mockImplementation(async (s, k) => ({ ...(await read(s, k)), etag: undefined }));
    expect(await consumer.begin(handler(), event('e1'))).toMatchObject({ run: false, reason: 'store-unavailable' });
    expect(logger.warn).toHaveBeenCalledWith(
      `${WHERE}: the dedupe store cannot be read (the store gave the claim no ETag) → RETRY`,
    );
    expect(store.ops).toEqual(['insert', 'read']);
  });

  it('a take-over whose outcome is unknown is read back: landed → run; not landed → RETRY', async () => {
    othersClaim(Date.now() - 1);
    store.next.push('ok', 'ok', 'lands');
    expect((await consumer.begin(handler(), event('e1'))).run).toBe(true);
    expect(store.ops).toEqual(['insert', 'read', 'replace', 'read']);
    consumer.abandonAll();

    store.ops.length = 0;
    othersClaim(Date.now() - 1);
    store.next.push('ok', 'ok', 'lost');
    expect(await consumer.begin(handler(), event('e1'))).toMatchObject({ run: false, reason: 'in-progress' });
    expect(store.ops).toEqual(['insert', 'read', 'replace', 'read']);
  });

  it('a take-over refused (conflict, or an error answer) is RETRY in-progress without a read; unanswered, store-unavailable', async () => {
    for (const [mode, reason] of [
      ['answered', 'in-progress'],
      ['silent', 'store-unavailable'],
    ] as const) {
      store.ops.length = 0;
      othersClaim(Date.now() - 1);
      store.next.push('ok', 'ok', mode);
      expect(await consumer.begin(handler(), event('e1'))).toMatchObject({ run: false, status: 'RETRY', reason });
      expect(store.ops).toEqual(['insert', 'read', 'replace']);
    }
    // A conflict: another replica replaced the expired claim between this one's read and its write.
    store.ops.length = 0;
    othersClaim(Date.now() - 1);
    const read = store.read.bind(store);
    jest.spyOn(store, 'read').mockImplementationOnce(async (s, k) => {
      const view = await read(s, k);
      othersClaim(Date.now() + 30_000, 'replica-c', 'c1');
      return view;
    });
    expect(await consumer.begin(handler(), event('e1'))).toMatchObject({ run: false, reason: 'in-progress' });
    expect(store.ops).toEqual(['insert', 'read', 'replace']);
  });

  it('a claim write with an unknown outcome, read back as another’s record, is decided as found', async () => {
    othersClaim(Date.now() + 10_000);
    store.next.push('lost');
    expect(await consumer.begin(handler(), event('e1'))).toMatchObject({ run: false, reason: 'in-progress' });
    store.entries.set(KEY, { record: { state: 'done', owner: 'replica-b', token: 'b-run', at: 1 }, etag: 'b2' });
    store.next.push('lost');
    expect(await consumer.begin(handler(), event('e1'))).toMatchObject({ run: false, reason: 'duplicate' });
    // Not there at all when read back: the write did not land, RETRY.
    store.entries.clear();
    store.next.push('lost');
    expect(await consumer.begin(handler(), event('e1'))).toMatchObject({ run: false, reason: 'store-unavailable' });
    expect(logger.warn).toHaveBeenLastCalledWith(
      `${WHERE}: the dedupe store cannot be read (timeout; not there when read back) → RETRY`,
    );
  });

  it('letGo stops renewing a claim while its handler still runs: it lapses with its lease', async () => {
    const lost: string[] = [];
    const verdict = await consumer.begin(handler(), event('e1'), (why) => lost.push(why));
    if (!verdict.run) throw new Error('expected to run');
    verdict.letGo();
    await later(LEASE_SEC * 1000 + 1);
    expect(store.ops).toEqual(['insert']);
    expect(lost).toEqual([]);
    expect((await replica().begin(handler(), event('e1'))).run).toBe(true);
  });
});

describe('IdempotentConsumer: a transactional handler commits its writes with the done mark', () => {
  let store: MemoryStore;
  let consumer: IdempotentConsumer;
  const settled: ClaimSettled[] = [];

  beforeEach(() => {
    store = new MemoryStore();
    settled.length = 0;
    consumer = new IdempotentConsumer(store, new Logger('test'), {
      writeBudgetMs: BUDGET_MS,
      onSettled: (s) => settled.push(s),
    });
  });
  afterEach(() => consumer.abandonAll());

  const claimed = async () => {
    const verdict = await consumer.begin(handler({ transactional: true }), event('e1'));
    if (!verdict.run) throw new Error(`expected to run, got ${verdict.status}`);
    return verdict;
  };

  it('one transaction while the lease holds: the writes and the done mark, no read (one round trip after the claim)', async () => {
    const verdict = await claimed();
    store.ops.length = 0;
    expect(await verdict.commit([upsert('balance|A', 10)])).toEqual({ committed: true, calls: 1, why: undefined });
    expect(store.ops).toEqual(['commit']);
    expect(store.effects.get('balance|A')).toBe(10);
    expect(store.recordOf()).toMatchObject({ state: 'done' });
    expect(settled.map((s) => s.outcome)).toEqual(['done']);
    // finish after commit is a no-op: the claim is settled once.
    expect(await verdict.finish(true)).toBe(0);
  });

  it("a handler's stale ETag: nothing lands, the claim is released, not committed (the redelivery runs it again)", async () => {
    const verdict = await claimed();
    const result = await verdict.commit([upsert('balance|A', 10, 'stale')]);
    expect(result).toMatchObject({ committed: false, why: 'etag mismatch' });
    expect(store.effects.size).toBe(0);
    expect(store.recordOf()).toBeUndefined(); // released
    expect(settled.map((s) => s.outcome)).toEqual(['released']);
  });

  it('a store that does not roll back: the done mark landed though a write failed → committed, logged at ERROR', async () => {
    store.rollsBack = false;
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      const verdict = await claimed();
      const result = await verdict.commit([upsert('balance|A', 10, 'stale'), upsert('balance|B', 5)]);
      expect(result.committed).toBe(true);
      expect(store.effects.get('balance|B')).toBe(5);
      expect(store.effects.has('balance|A')).toBe(false);
      expect(error).toHaveBeenCalledWith(expect.stringContaining('the store applied part of the transaction'));
    } finally {
      error.mockRestore();
    }
  });

  it('an answer lost after the commit landed: read back, committed', async () => {
    const verdict = await claimed();
    store.next.push('lands');
    expect(await verdict.commit([upsert('balance|A', 10)])).toMatchObject({ committed: true, calls: 2 });
    expect(store.ops.slice(-2)).toEqual(['commit', 'read']);
    expect(settled.map((s) => s.outcome)).toEqual(['done']);
  });

  it('a commit lost with its answer: read back (still claimed), released, not committed', async () => {
    const verdict = await claimed();
    store.next.push('lost');
    expect(await verdict.commit([upsert('balance|A', 10)])).toMatchObject({ committed: false, calls: 3 });
    expect(store.ops.slice(-3)).toEqual(['commit', 'read', 'remove']);
    expect(store.effects.size).toBe(0);
    expect(store.recordOf()).toBeUndefined();
  });

  it('a store down at commit and at the read back: not committed; the claim is left to its lease (nothing written later)', async () => {
    const verdict = await claimed();
    store.mode = 'silent';
    expect(await verdict.commit([upsert('balance|A', 10)])).toMatchObject({ committed: false });
    expect(settled.map((s) => s.outcome)).toEqual(['not-written']);
    // Not held any more: no renewal, no later write of this run's outcome.
    expect(consumer.heldClaims).toBe(0);
  });

  it('past the time fence, the done mark goes by the ETag of the claim read just before', async () => {
    let now = 1_000_000;
    const late = new IdempotentConsumer(store, new Logger('test'), { writeBudgetMs: BUDGET_MS, now: () => now });
    try {
      const verdict = await late.begin(handler({ transactional: true }), event('e1'));
      if (!verdict.run) throw new Error('expected to run');
      now += LEASE_SEC * 1000 - BUDGET_MS; // the lease no longer outlasts a write
      store.ops.length = 0;
      expect(await verdict.commit([upsert('balance|A', 10)])).toMatchObject({ committed: true, calls: 2 });
      expect(store.ops).toEqual(['read', 'commit']);
    } finally {
      late.abandonAll();
    }
  });
});
