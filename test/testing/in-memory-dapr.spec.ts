import { Injectable } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import {
  DaprClientHelper,
  DaprEvent,
  DaprSubscribe,
  DropEvent,
  EventHandledEvent,
  KugelCommsEvents,
  KugelCommsModule,
  StateStoreManager,
} from '../../lib';
import { KugelCommsTesting, KugelCommsTestingModule } from '../../lib/testing';

/** Handlers of the app under test, recording what they received. */
@Injectable()
class Consumers {
  readonly seen: Array<{ handler: string; id: string; data: unknown; topic: string; type: string }> = [];
  readonly batches: number[] = [];
  failNext = 0;

  private note(handler: string, e: DaprEvent) {
    this.seen.push({ handler, id: e.id, data: e.data, topic: e.topic, type: e.type });
  }

  @DaprSubscribe('pubsub', 'orders', {
    deadLetterTopic: 'orders-dlq',
    dedupe: { key: (e) => (e.data as { orderId?: string })?.orderId },
  })
  onOrder(e: DaprEvent<{ orderId: string; bad?: boolean }>) {
    this.note('order', e);
    if (e.data.bad) throw new DropEvent('a bad order');
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('the store of the consumer is down');
    }
  }

  @DaprSubscribe('pubsub', 'orders-dlq')
  onDeadOrder(e: DaprEvent) {
    this.note('dead', e);
  }

  @DaprSubscribe('pubsub', 'voids', { match: 'event.type == "void.full"' })
  onFullVoid(e: DaprEvent) {
    this.note('full-void', e);
  }

  @DaprSubscribe('pubsub', 'voids')
  onOtherVoid(e: DaprEvent) {
    this.note('other-void', e);
  }

  @DaprSubscribe('pubsub', 'lines', { bulk: { maxMessages: 2, maxAwaitMs: 10 } })
  onLines(events: Array<DaprEvent<{ n: number }>>) {
    this.batches.push(events.length);
    for (const e of events) this.note('line', e);
    return events.map((e) => (e.data.n === 3 ? 'RETRY' : 'SUCCESS'));
  }

  @DaprSubscribe('pubsub', 'raw', { rawPayload: true })
  onRaw(e: DaprEvent<Buffer>) {
    this.note('raw', e);
  }
}

describe('KugelCommsTestingModule: the in-memory Dapr stand-in', () => {
  let moduleRef: TestingModule;
  let kugel: KugelCommsTesting;
  let dapr: DaprClientHelper;
  let consumers: Consumers;
  const handled: EventHandledEvent[] = [];

  beforeAll(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [
        KugelCommsModule.forRoot({ dapr: { retries: 0, breaker: { failureThreshold: 2 } } }),
        KugelCommsTestingModule.forRoot({
          dapr: { stores: ['statestore', 'carts'], state: { carts: { 'cart-1': { total: 10 } } } },
        }),
      ],
      providers: [Consumers],
    }).compile();
    await moduleRef.init();
    kugel = moduleRef.get(KugelCommsTesting);
    dapr = moduleRef.get(DaprClientHelper);
    consumers = moduleRef.get(Consumers);
    moduleRef.get(KugelCommsEvents).eventHandled.on((e) => handled.push(e));
  });
  afterAll(() => moduleRef?.close());
  beforeEach(() => {
    kugel.reset();
    consumers.seen.length = 0;
    consumers.batches.length = 0;
    handled.length = 0;
  });

  it('keeps the boolean/null contract and the DaprResult shapes, ETags included', async () => {
    await expect(dapr.getState('carts', 'cart-1')).resolves.toEqual({ total: 10 });
    await expect(dapr.getState('statestore', 'nope')).resolves.toBeNull();
    await expect(dapr.saveState('statestore', 'k', { a: 1 })).resolves.toBe(true);
    const read = await dapr.detailed.getState('statestore', 'k');
    expect(read).toEqual({ ok: true, value: { a: 1 }, etag: expect.any(String) });
    const etag = (read as { etag: string }).etag;
    await expect(dapr.saveState('statestore', 'k', { a: 2 }, { etag })).resolves.toBe(true);
    // The ETag read before that save is stale now.
    await expect(dapr.saveState('statestore', 'k', { a: 3 }, { etag })).resolves.toBe(false);
    await expect(dapr.detailed.saveState('statestore', 'k', { a: 3 }, { etag })).resolves.toMatchObject({
      ok: false,
      status: 409,
      code: 'ERR_STATE_SAVE',
    });
    await expect(dapr.getBulkState('statestore', ['k', 'nope'])).resolves.toEqual({ k: { a: 2 } });
    await expect(dapr.saveState('nostore', 'k', 1)).resolves.toBe(false);
    await expect(dapr.detailed.getState('nostore', 'k')).resolves.toMatchObject({
      ok: false,
      status: 400,
      code: 'ERR_STATE_STORE_NOT_FOUND',
    });
    expect(kugel.dapr.state()).toEqual({ k: { a: 2 } });
  });

  it('the managers read it as they read daprd: "no such key" is not "the store could not be read"', async () => {
    const manager = moduleRef.get(StateStoreManager);
    await expect(manager.getState('absent')).resolves.toMatchObject({ ok: true, found: false });
    kugel.dapr.down();
    await expect(manager.getState('absent')).resolves.toMatchObject({ ok: false });
    kugel.dapr.up();
  });

  it('records what was published, in order, as the data a handler gets and as CloudEvents', async () => {
    await expect(dapr.publishEvent('pubsub', 'bills', { cartId: 'c1', total: 10 })).resolves.toBe(true);
    await expect(
      dapr.publishEvent('pubsub', 'bills', { cartId: 'c2', total: 5 }, { metadata: { ttlInSeconds: 60 } }),
    ).resolves.toBe(true);
    await expect(dapr.publishEvent('nopubsub', 'bills', {})).resolves.toBe(false);
    expect(kugel.dapr.published('pubsub', 'bills')).toEqual([
      { cartId: 'c1', total: 10 },
      { cartId: 'c2', total: 5 },
    ]);
    const [first, second] = kugel.dapr.messages('pubsub', 'bills');
    expect(first.cloudEvent).toMatchObject({
      id: expect.any(String),
      source: 'kugel-comms-testing',
      type: 'com.dapr.event.sent',
      specversion: '1.0',
      datacontenttype: 'application/json',
      topic: 'bills',
      pubsubname: 'pubsub',
      data: { cartId: 'c1', total: 10 },
    });
    // Every publish goes with its CloudEvent id (a UUID the client made, the same on each attempt).
    expect(second.metadata).toEqual({ ttlInSeconds: '60', 'cloudevent.id': second.cloudEvent!.id });
    expect(first.cloudEvent!.id).not.toBe(second.cloudEvent!.id);
  });

  it('a sidecar that is down fails the calls (false / null) and opens the component breaker', async () => {
    kugel.dapr.down();
    await expect(dapr.publishEvent('pubsub', 'bills', { n: 1 })).resolves.toBe(false);
    await expect(dapr.detailed.publishEvent('pubsub', 'bills', { n: 2 })).resolves.toMatchObject({
      ok: false,
      code: 'ECONNREFUSED',
    });
    await expect(dapr.detailed.publishEvent('pubsub', 'bills', { n: 3 })).resolves.toMatchObject({
      ok: false,
      code: 'ERR_CIRCUIT_OPEN',
    });
    expect(kugel.breakers.get('pubsub:pubsub').state).toBe('open');
    expect(kugel.dapr.published('pubsub', 'bills')).toEqual([]);
  });

  it('flush() hands published events to the handlers: SUCCESS, RETRY, DROP to the dead-letter topic', async () => {
    consumers.failNext = 1; // the first handler run throws
    await dapr.publishEvent('pubsub', 'orders', { orderId: 'o1' });
    await dapr.publishEvent('pubsub', 'orders', { orderId: 'o2', bad: true });
    await dapr.publishEvent('pubsub', 'orders', { orderId: 'o3' });
    const outcomes = await kugel.dapr.flush();
    expect(outcomes.map((o) => `${o.topic} ${o.handler} ${o.status}`)).toEqual([
      'orders Consumers.onOrder RETRY',
      'orders Consumers.onOrder DROP',
      'orders Consumers.onOrder SUCCESS',
      'orders-dlq Consumers.onDeadOrder SUCCESS',
    ]);
    // The dead letter keeps the original event (id and topic), as daprd republishes it.
    const dropped = consumers.seen.find((s) => s.handler === 'order' && (s.data as { bad?: boolean }).bad);
    expect(consumers.seen.at(-1)).toMatchObject({ handler: 'dead', id: dropped!.id, topic: 'orders' });
    await expect(kugel.dapr.flush()).resolves.toEqual([]);
  });

  it('dedupe runs through the in-memory store: a copy of a handled event is answered SUCCESS without the handler', async () => {
    await expect(kugel.dapr.deliver('pubsub', 'orders', { orderId: 'o9' })).resolves.toMatchObject({
      status: 'SUCCESS',
    });
    await expect(kugel.dapr.deliver('pubsub', 'orders', { orderId: 'o9' })).resolves.toMatchObject({
      status: 'SUCCESS',
    });
    expect(consumers.seen.filter((s) => s.handler === 'order')).toHaveLength(1);
    expect(handled.map((h) => h.reason)).toEqual(['handled', 'duplicate']);
    // The handler failed: no done mark, the next delivery runs it.
    consumers.failNext = 1;
    await expect(kugel.dapr.deliver('pubsub', 'orders', { orderId: 'o10' })).resolves.toMatchObject({
      status: 'RETRY',
    });
    await expect(kugel.dapr.deliver('pubsub', 'orders', { orderId: 'o10' })).resolves.toMatchObject({
      status: 'SUCCESS',
    });
    expect(consumers.seen.filter((s) => (s.data as { orderId: string }).orderId === 'o10')).toHaveLength(2);
  });

  it('routing rules pick the handler (event.type); bulk handlers get batches of maxMessages; raw handlers the bytes', async () => {
    await kugel.dapr.deliver('pubsub', 'voids', { n: 1 }, { type: 'void.full' });
    await kugel.dapr.deliver('pubsub', 'voids', { n: 2 }, { type: 'void.line' });
    expect(consumers.seen.map((s) => s.handler)).toEqual(['full-void', 'other-void']);

    for (const n of [1, 2, 3]) await dapr.publishEvent('pubsub', 'lines', { n });
    await dapr.publishEvent('pubsub', 'raw', { r: 1 }, { rawPayload: true });
    const outcomes = await kugel.dapr.flush();
    expect(consumers.batches).toEqual([2, 1]);
    expect(outcomes.map((o) => `${o.topic} ${o.status}`)).toEqual([
      'lines SUCCESS',
      'lines SUCCESS',
      'lines RETRY',
      'raw SUCCESS',
    ]);
    const raw = consumers.seen.find((s) => s.handler === 'raw')!;
    expect(Buffer.isBuffer(raw.data)).toBe(true);
    expect(JSON.parse((raw.data as Buffer).toString('utf8'))).toEqual({ r: 1 });
  });

  it('an event no handler takes: flush reports it UNROUTED, deliver throws naming the subscriptions', async () => {
    await dapr.publishEvent('pubsub', 'nobody', { x: 1 });
    await expect(kugel.dapr.flush()).resolves.toEqual([{ pubsub: 'pubsub', topic: 'nobody', status: 'UNROUTED' }]);
    await expect(kugel.dapr.deliver('pubsub', 'nobody', {})).rejects.toThrow(
      /no @DaprSubscribe handler takes this event on pubsub\/nobody \(the app subscribes to pubsub\/orders, /,
    );
    await expect(kugel.dapr.deliver('other', 'orders', {})).rejects.toThrow(
      'the in-memory sidecar has no pub/sub component "other"',
    );
  });

  it('a routing rule it cannot evaluate is an error naming the rule, not a guess', async () => {
    const { evaluateRule } = await import('../../lib/testing/routing-rule');
    expect(evaluateRule('event.data.kind == "a" && event.type != \'x\'', { type: 'y', data: { kind: 'a' } })).toBe(
      true,
    );
    expect(evaluateRule('event.data.n == 3 || event.data.urgent == true', { data: { n: 2, urgent: false } })).toBe(
      false,
    );
    expect(() => evaluateRule('event.data.total > 10', { data: { total: 11 } })).toThrow(
      'kugel-comms/testing cannot evaluate the routing rule "event.data.total > 10"',
    );
  });
});

describe('KugelCommsTestingModule before init', () => {
  it('flush() says to initialise the module first', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [KugelCommsModule.forRoot({}), KugelCommsTestingModule.forRoot()],
    }).compile();
    try {
      await expect(moduleRef.get(KugelCommsTesting).dapr.flush()).rejects.toThrow(
        '@DaprSubscribe handlers are found when the module initialises: call `await moduleRef.init()` (or `app.init()`) first',
      );
    } finally {
      await moduleRef.close();
    }
  });
});
