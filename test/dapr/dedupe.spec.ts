import { Injectable, Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { DaprEvent, DaprSubscribe } from '../../lib';
import { DaprDedupeStore } from '../../lib/claims/dapr-dedupe.store';
import { IdempotentConsumer } from '../../lib/subscriptions/dedupe/idempotent-consumer';
import { SubscriptionHandler } from '../../lib/subscriptions/subscription-definition';
import { waitUntil } from '../support/processes';
import { RedisServer } from '../support/redis';
import { cloudEvent, post } from '../subscriptions/support/subscriber-app';
import { ComponentSet } from './daprd';
import { startStack, SubscriptionStack } from './subscription-stack';

type Entry = { event_id?: string; test?: string; failFirst?: boolean; sleepMs?: number };

const LEASE_SEC = 4;
const HANDLER_TIMEOUT_MS = 1_500;

/** The original's consumer: keyed on the publisher's own `event_id`; the effect is counted per key. */
@Injectable()
class Ledger {
  readonly effects = new Map<string, number>();
  readonly calls: string[] = [];
  private readonly failed = new Set<string>();

  @DaprSubscribe('pubsub', 'ledger', {
    dedupe: { key: (e: DaprEvent<Entry>) => e.data.event_id, leaseSec: LEASE_SEC },
    handlerTimeoutMs: HANDLER_TIMEOUT_MS,
    deadLetterTopic: 'ledger-dlq',
  })
  async onEntry(event: DaprEvent<Entry>): Promise<void> {
    const id = event.data.event_id!;
    this.calls.push(id);
    if (event.data.sleepMs) await sleep(event.data.sleepMs);
    if (event.data.failFirst && !this.failed.has(id)) {
      this.failed.add(id);
      throw new Error(`first attempt of ${id} fails`);
    }
    this.effects.set(id, (this.effects.get(id) ?? 0) + 1);
  }

  /** Keyed on the CloudEvent id (the default). */
  @DaprSubscribe('pubsub', 'by-id', { dedupe: true, deadLetterTopic: 'ledger-dlq' })
  onById(event: DaprEvent<Entry>): void {
    this.effects.set(`by-id:${event.id}`, (this.effects.get(`by-id:${event.id}`) ?? 0) + 1);
  }
}

const CASES: Array<{ state: string; components: ComponentSet }> = [
  { state: 'in-memory', components: 'in-memory' },
  { state: 'Redis', components: 'redis-streams' },
];

describe.each(CASES)('dedupe on a real daprd ($state state store)', ({ components }) => {
  let redis: RedisServer | undefined;
  let stack: SubscriptionStack;
  let ledger: Ledger;
  let route: string;

  beforeAll(async () => {
    if (components !== 'in-memory') redis = await RedisServer.start();
    stack = await startStack({
      providers: [Ledger],
      components,
      redisHost: redis?.host,
      // With Redis down, daprd takes seconds to fail a state call: a 1 s timeout answers sooner, and a
      // short breaker reset lets the store-outage test see the store again soon after Redis is back.
      options: { dapr: { timeoutMs: 1_000, breaker: { resetTimeoutMs: 500 } } },
      subscriptions: 2,
    });
    ledger = stack.app.app.get(Ledger);
    route = `${stack.app.url}/dapr/events/pubsub/ledger`;
  });
  afterAll(async () => {
    await stack?.close();
    await redis?.stop();
  });

  const publish = async (topic: string, data: Entry, id?: string) =>
    expect(await stack.dapr.publishEvent('pubsub', topic, data, id ? { metadata: { 'cloudevent.id': id } } : {})).toBe(
      true,
    );

  it('a processed key never reaches the handler again: 2 round trips for the first, 2 for the copy', async () => {
    const base = stack.app.handled.length;
    await publish('ledger', { event_id: 'A' });
    // Redis Streams delivers in parallel: wait for the first to be done before the copy comes (two
    // copies at once are the next test).
    await waitUntil(async () => stack.app.handled.length >= base + 1, 10_000, 'the first answer');
    await publish('ledger', { event_id: 'A' }); // a republish: new CloudEvent id, same event_id
    await waitUntil(async () => stack.app.handled.length >= base + 2, 10_000, 'two answers');
    expect(ledger.effects.get('A')).toBe(1);
    expect(stack.app.handled.slice(base).map((e) => [e.status, e.reason, e.handlerRan, e.dedupeCalls])).toEqual([
      ['SUCCESS', 'handled', true, 2],
      ['SUCCESS', 'duplicate', false, 2],
    ]);
  });

  it('keys on the CloudEvent id by default', async () => {
    await publish('by-id', {}, 'same-cloud-event-id');
    await publish('by-id', {}, 'same-cloud-event-id');
    await publish('by-id', {}, 'other-cloud-event-id');
    // The copy is answered as a duplicate (on Redis Streams it may first meet the original in
    // progress and be answered RETRY, then come back).
    await waitUntil(
      async () =>
        ledger.effects.has('by-id:other-cloud-event-id') &&
        stack.app.handled.some((e) => e.topic === 'by-id' && e.reason === 'duplicate'),
      10_000,
      'the third event and the copy answered',
    );
    expect(ledger.effects.get('by-id:same-cloud-event-id')).toBe(1);
    expect(ledger.effects.get('by-id:other-cloud-event-id')).toBe(1);
  });

  it('two copies arriving at once run the handler once; the other is answered RETRY', async () => {
    const body = cloudEvent('copy-1', { event_id: 'B', sleepMs: 300 }, 'ledger');
    const [first, second] = await Promise.all([post(route, body), post(route, body)]);
    expect([first.body.status, second.body.status].sort()).toEqual(['RETRY', 'SUCCESS']);
    expect(ledger.effects.get('B')).toBe(1);
    expect(ledger.calls.filter((c) => c === 'B')).toHaveLength(1);
    expect(
      stack.app.handled
        .filter((e) => e.id === 'copy-1')
        .map((e) => e.reason)
        .sort(),
    ).toEqual(['handled', 'in-progress']);
    // The redelivery daprd makes after the RETRY finds the done mark.
    expect(await post(route, body)).toEqual({ status: 200, body: { status: 'SUCCESS' } });
    expect(ledger.effects.get('B')).toBe(1);
  });

  it("a burst of copies is answered without counting toward the store's breaker", async () => {
    const body = cloudEvent('burst-1', { event_id: 'G' }, 'ledger');
    expect(await post(route, body)).toEqual({ status: 200, body: { status: 'SUCCESS' } });
    const answers = await Promise.all(Array.from({ length: 6 }, () => post(route, body)));
    expect(answers.map((a) => a.body.status)).toEqual(Array(6).fill('SUCCESS'));
    // A refused claim is a conflict, not a store failure: the breaker has not moved.
    expect(stack.dapr.breakerFor('state', 'statestore').snapshot()).toMatchObject({
      state: 'closed',
      consecutiveFailures: 0,
    });
    expect(ledger.effects.get('G')).toBe(1);
  });

  it('a failed handler leaves no done mark and releases its claim: the redelivery runs it', async () => {
    await publish('ledger', { event_id: 'C', failFirst: true });
    await waitUntil(async () => ledger.effects.get('C') === 1, 10_000, 'the redelivered event C');
    expect(ledger.calls.filter((c) => c === 'C')).toHaveLength(2);
  });

  it('health-check events are acknowledged without the handler', async () => {
    const res = await post(route, cloudEvent('hc-1', { test: 'health-check' }, 'ledger'));
    expect(res).toEqual({ status: 200, body: { status: 'SUCCESS' } });
    expect(stack.app.handled.find((e) => e.id === 'hc-1')).toMatchObject({
      reason: 'health-check',
      handlerRan: false,
      dedupeCalls: 0,
    });
  });

  it('an event without a dedupe key is dropped, not handled', async () => {
    const res = await post(route, cloudEvent('no-key-1', { note: 'no event_id' }, 'ledger'));
    expect(res).toEqual({ status: 200, body: { status: 'DROP' } });
    expect(stack.app.handled.find((e) => e.id === 'no-key-1')).toMatchObject({ reason: 'no-dedupe-key' });
  });

  it('a claim by a crashed replica blocks the event until its lease is over, then the event is taken over', async () => {
    // Another replica claims key D and dies before finishing (its claim is never settled).
    const crashed = new IdempotentConsumer(new DaprDedupeStore(stack.dapr), new Logger('crashed-replica'), {
      writeBudgetMs: 5_000,
    });
    const handler = {
      name: 'Crashed.replica',
      pubsub: 'pubsub',
      topic: 'ledger',
      dedupe: { store: 'statestore', ttlSec: 60, leaseSec: 1, key: (e: DaprEvent<Entry>) => e.data.event_id },
    };
    const claimed = await crashed.begin(handler as SubscriptionHandler, {
      id: 'the-crashed-copy',
      data: { event_id: 'D' },
      topic: 'ledger',
      pubsub: 'pubsub',
      source: '',
      type: '',
      raw: {},
    });
    expect(claimed.run).toBe(true);
    crashed.abandonAll(); // it dies: nothing renews its claim
    const body = cloudEvent('crash-1', { event_id: 'D' }, 'ledger');
    expect(await post(route, body)).toEqual({ status: 200, body: { status: 'RETRY' } });
    expect(ledger.calls).not.toContain('D');
    await sleep(1_300); // past the 1 s lease
    expect(await post(route, body)).toEqual({ status: 200, body: { status: 'SUCCESS' } });
    expect(ledger.effects.get('D')).toBe(1);
    expect(await post(route, body)).toEqual({ status: 200, body: { status: 'SUCCESS' } });
    expect(ledger.effects.get('D')).toBe(1);
    expect(stack.app.handled.filter((e) => e.id === 'crash-1').map((e) => e.reason)).toEqual([
      'in-progress',
      'handled',
      'duplicate',
    ]);
  });

  it('a handler past its timeout is answered RETRY, keeps its claim, and its late success suppresses the redelivery', async () => {
    const base = stack.app.handled.length;
    // Ends 0.8 s after its timeout, well within the 2 s of redeliveries the retry policy makes.
    await publish('ledger', { event_id: 'E', sleepMs: HANDLER_TIMEOUT_MS + 800 });
    const reasons = () => stack.app.handled.slice(base).map((e) => e.reason);
    await waitUntil(async () => reasons().includes('duplicate'), 15_000, 'the redelivery of E answered as a duplicate');
    // timeout → RETRY; redeliveries while the late handler still runs → in-progress; then its done mark.
    expect(reasons()[0]).toBe('timeout');
    expect(
      reasons()
        .slice(1, -1)
        .every((r) => r === 'in-progress'),
    ).toBe(true);
    expect(ledger.calls.filter((c) => c === 'E')).toHaveLength(1);
    expect(ledger.effects.get('E')).toBe(1);
  });

  it('a handler running past its lease keeps its claim (renewed): a copy meanwhile is answered RETRY, never run', async () => {
    const body = cloudEvent('long-1', { event_id: 'L', sleepMs: LEASE_SEC * 1000 + 2_500 }, 'ledger');
    const first = post(route, body); // answered RETRY at the handler timeout; the handler goes on
    await sleep(LEASE_SEC * 1000 + 800); // past the lease the claim was first written with
    expect(await post(route, body)).toEqual({ status: 200, body: { status: 'RETRY' } });
    expect(ledger.calls.filter((c) => c === 'L')).toHaveLength(1);
    expect((await first).body.status).toBe('RETRY');
    await waitUntil(async () => ledger.effects.get('L') === 1, 10_000, 'the long handler of L to end');
    await waitUntil(
      async () => (await post(route, body)).body.status === 'SUCCESS',
      5_000,
      'its done mark to be written',
      100,
    );
    expect(ledger.calls.filter((c) => c === 'L')).toHaveLength(1);
    const answers = stack.app.handled.filter((e) => e.id === 'long-1').map((e) => e.reason);
    expect(answers.slice(0, 2)).toEqual(['timeout', 'in-progress']);
    expect(answers.at(-1)).toBe('duplicate');
  });

  if (components !== 'in-memory') {
    it('a store that cannot be read answers RETRY and never calls the handler', async () => {
      await redis!.stop();
      try {
        const body = cloudEvent('outage-1', { event_id: 'F' }, 'ledger');
        for (let i = 0; i < 4; i += 1) {
          expect(await post(route, body)).toEqual({ status: 200, body: { status: 'RETRY' } });
        }
        expect(ledger.calls).not.toContain('F');
        expect(
          stack.app.handled.filter((e) => e.id === 'outage-1').every((e) => e.reason === 'store-unavailable'),
        ).toBe(true);
      } finally {
        await redis!.startProcess();
      }
      const body = cloudEvent('outage-2', { event_id: 'F' }, 'ledger');
      await waitUntil(
        async () => (await post(route, body)).body.status === 'SUCCESS',
        20_000,
        'the store back: event F handled',
        300,
      );
      expect(ledger.effects.get('F')).toBe(1);
    });
  }
});
