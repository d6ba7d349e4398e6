import { Logger } from '@nestjs/common';
import { DaprEvent } from '../dapr-event.interface';
import { ResolvedDedupe, SubscriptionHandler } from '../subscription-definition';
import { ClaimRecord, DedupeStore, DoneRecord, StoreWrite } from './dedupe-store.interface';
import { IdempotentConsumer } from './idempotent-consumer';

type Entry = { value: unknown; etag: string };

/**
 * A first-write key-value store in memory with switchable failures: the semantics the consumer
 * relies on, without a sidecar (the real one is tested in test/dapr/dedupe.spec.ts).
 */
class MemoryStore implements DedupeStore {
  readonly entries = new Map<string, Entry>();
  /** 'none': answers; 'answered': fails with an error status; 'silent': no answer at all. */
  failing: 'none' | 'answered' | 'silent' = 'none';
  readonly ops: string[] = [];
  private version = 0;

  private fail(): { ok: false; answered: boolean; error: string; calls: number } | undefined {
    if (this.failing === 'none') return undefined;
    return { ok: false, answered: this.failing === 'answered', error: `store ${this.failing}`, calls: 1 };
  }

  private put(key: string, value: unknown): StoreWrite & { calls: number } {
    this.entries.set(key, { value, etag: String(++this.version) });
    return { ok: true, calls: 1 };
  }

  async claim(_store: string, key: string, record: ClaimRecord) {
    this.ops.push('claim');
    const f = this.fail();
    if (f) return f;
    if (this.entries.has(key)) return { ok: false as const, answered: true, error: 'conflict', calls: 1 };
    return this.put(key, record);
  }

  async readDone(_store: string, key: string) {
    this.ops.push('readDone');
    return this.fail() ?? { ok: true as const, done: this.entries.has(key), calls: 1 };
  }

  async readClaim(_store: string, key: string) {
    this.ops.push('readClaim');
    const entry = this.entries.get(key);
    return (
      this.fail() ?? { ok: true as const, claim: entry?.value as ClaimRecord | undefined, etag: entry?.etag, calls: 1 }
    );
  }

  async takeOver(_store: string, key: string, etag: string | undefined, record: ClaimRecord) {
    this.ops.push('takeOver');
    const f = this.fail();
    if (f) return f;
    if (this.entries.get(key)?.etag !== etag) return { ok: false as const, answered: true, error: 'etag', calls: 1 };
    return this.put(key, record);
  }

  async markDone(_store: string, key: string, record: DoneRecord) {
    this.ops.push('markDone');
    return this.fail() ?? this.put(key, record);
  }

  async release(_store: string, key: string) {
    this.ops.push('release');
    const f = this.fail();
    if (f) return f;
    this.entries.delete(key);
    return { ok: true as const, calls: 1 };
  }
}

const handler = (dedupe: Partial<ResolvedDedupe> = {}) =>
  ({
    name: 'Ledger.onEntry',
    pubsub: 'pubsub',
    topic: 'ledger',
    dedupe: { store: 'statestore', ttlSec: 60, leaseSec: 10, ...dedupe },
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

describe('IdempotentConsumer', () => {
  let store: MemoryStore;
  let now: number;
  let consumer: IdempotentConsumer;
  const logger = new Logger('test');

  beforeEach(() => {
    store = new MemoryStore();
    now = 1_000_000;
    consumer = new IdempotentConsumer(store, logger, () => now);
    jest.spyOn(logger, 'warn').mockImplementation(() => undefined);
    jest.spyOn(logger, 'error').mockImplementation(() => undefined);
  });

  it('runs a new event (claim), then marks it done: two round trips', async () => {
    const verdict = await consumer.begin(handler(), event('e1'));
    expect(verdict).toMatchObject({ run: true, calls: 1 });
    if (!verdict.run) throw new Error('unreachable');
    expect(await verdict.finish(true)).toBe(1);
    expect(store.ops).toEqual(['claim', 'markDone']);
  });

  it('answers a processed key SUCCESS without the handler: two round trips', async () => {
    const first = await consumer.begin(handler(), event('e1'));
    if (first.run) await first.finish(true);
    store.ops.length = 0;
    expect(await consumer.begin(handler(), event('e1'))).toEqual({
      run: false,
      calls: 2,
      status: 'SUCCESS',
      reason: 'duplicate',
    });
    expect(store.ops).toEqual(['claim', 'readDone']);
  });

  it('answers a copy whose claim is held RETRY while the lease runs, then takes it over', async () => {
    const first = await consumer.begin(handler(), event('e1'));
    expect(first.run).toBe(true);
    expect(await consumer.begin(handler(), event('e1'))).toMatchObject({
      run: false,
      status: 'RETRY',
      reason: 'in-progress',
    });
    now += 10_001; // the first holder crashed: its lease is over
    const taken = await consumer.begin(handler(), event('e1'));
    expect(taken).toMatchObject({ run: true, calls: 4 });
    expect(store.ops.slice(-4)).toEqual(['claim', 'readDone', 'readClaim', 'takeOver']);
    expect(logger.warn).toHaveBeenCalledWith(expect.stringContaining('expired unfinished'));
  });

  it('lets only one of two replicas take an expired claim over', async () => {
    await consumer.begin(handler(), event('e1'));
    now += 20_000;
    const other = new IdempotentConsumer(store, logger, () => now);
    const [a, b] = await Promise.all([consumer.begin(handler(), event('e1')), other.begin(handler(), event('e1'))]);
    expect([a.run, b.run].sort()).toEqual([false, true]);
  });

  it('a failed handler releases its claim and leaves no done mark: the next delivery runs it', async () => {
    const first = await consumer.begin(handler(), event('e1'));
    if (first.run) await first.finish(false);
    expect([...store.entries.keys()]).toEqual([]);
    expect(await consumer.begin(handler(), event('e1'))).toMatchObject({ run: true });
  });

  it.each(['answered', 'silent'] as const)(
    'a store that fails (%s) answers RETRY and never runs the handler',
    async (mode) => {
      store.failing = mode;
      expect(await consumer.begin(handler(), event('e1'))).toMatchObject({
        run: false,
        status: 'RETRY',
        reason: 'store-unavailable',
      });
      // An unanswered claim is not followed by reads: the store is not there.
      expect(store.ops).toEqual(mode === 'silent' ? ['claim'] : ['claim', 'readDone']);
    },
  );

  it('a done mark that cannot be read is never taken for "not processed"', async () => {
    const first = await consumer.begin(handler(), event('e1'));
    if (first.run) await first.finish(true);
    store.failing = 'answered';
    expect(await consumer.begin(handler(), event('e1'))).toMatchObject({
      run: false,
      status: 'RETRY',
      reason: 'store-unavailable',
    });
  });

  it('a done mark that cannot be written is logged; the claim stays until its lease is over', async () => {
    const verdict = await consumer.begin(handler(), event('e1'));
    store.failing = 'silent';
    if (verdict.run) await verdict.finish(true);
    expect(logger.error).toHaveBeenCalledWith(expect.stringContaining('its done mark could not be written'));
    store.failing = 'none';
    expect(await consumer.begin(handler(), event('e1'))).toMatchObject({ run: false, reason: 'in-progress' });
  });

  it('settles a verdict once', async () => {
    const verdict = await consumer.begin(handler(), event('e1'));
    if (!verdict.run) throw new Error('unreachable');
    await verdict.finish(true);
    expect(await verdict.finish(false)).toBe(0);
    expect(store.ops).toEqual(['claim', 'markDone']);
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
    const first = await consumer.begin(h, event('ce-1', { event_id: 'tran-9' }));
    if (first.run) await first.finish(true);
    expect(await consumer.begin(h, event('ce-2', { event_id: 'tran-9' }))).toMatchObject({ reason: 'duplicate' });
    expect([...store.entries.keys()]).toEqual([
      'kugel-dedupe|pubsub|ledger|tran-9|claim',
      'kugel-dedupe|pubsub|ledger|tran-9|done',
    ]);
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
    const h = handler({ key: () => 'a||b|c' });
    await consumer.begin(h, event('e1'));
    expect([...store.entries.keys()][0]).toBe('kugel-dedupe|pubsub|ledger|a%7C%7Cb%7Cc|claim');
  });
});
