import { Injectable } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import {
  DaprClientHelper,
  DaprEvent,
  DaprSubscribe,
  EventHandledEvent,
  KugelCommsEvents,
  KugelCommsModule,
} from '../../lib';
import { KugelCommsTesting, KugelCommsTestingModule } from '../../lib/testing';

@Injectable()
class Handlers {
  readonly seen: unknown[] = [];

  @DaprSubscribe('pubsub', 'orders', { deadLetterTopic: 'orders-dlq' })
  onOrder(e: DaprEvent) {
    this.seen.push(e.data);
  }

  @DaprSubscribe('pubsub', 'orders-dlq')
  onDead(e: DaprEvent) {
    this.seen.push({ dead: e.data });
  }

  @DaprSubscribe('pubsub', 'lines', { bulk: { maxMessages: 10, maxAwaitMs: 10 } })
  onLines(events: DaprEvent[]) {
    for (const e of events) this.seen.push(e.data);
  }
}

async function boot(app: { token?: string; maxBodyBytes?: number }, sidecarToken?: string): Promise<TestingModule> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      KugelCommsModule.forRoot({
        dapr: { retries: 0, breaker: { failureThreshold: 2 } },
        subscriptions: { appApiToken: app.token, maxBodyBytes: app.maxBodyBytes ?? 1024 },
      }),
      KugelCommsTestingModule.forRoot({ dapr: { appApiToken: sidecarToken } }),
    ],
    providers: [Handlers],
  }).compile();
  await moduleRef.init();
  return moduleRef;
}

describe('the stand-in delivers through the app’s HTTP checks, as daprd’s requests go', () => {
  let moduleRef: TestingModule;
  let kugel: KugelCommsTesting;
  let dapr: DaprClientHelper;
  let handlers: Handlers;
  const handled: EventHandledEvent[] = [];

  beforeAll(async () => {
    moduleRef = await boot({ token: 'app-token', maxBodyBytes: 1024 }, 'app-token');
    kugel = moduleRef.get(KugelCommsTesting);
    dapr = moduleRef.get(DaprClientHelper);
    handlers = moduleRef.get(Handlers);
    moduleRef.get(KugelCommsEvents).eventHandled.on((e) => handled.push(e));
  });
  afterAll(() => moduleRef?.close());
  beforeEach(() => {
    kugel.reset();
    handlers.seen.length = 0;
    handled.length = 0;
  });

  it('with the app token the sidecar sends, deliveries are answered 200 and handled', async () => {
    await dapr.publishEvent('pubsub', 'orders', { n: 1 });
    await expect(kugel.dapr.flush()).resolves.toEqual([
      expect.objectContaining({ status: 'SUCCESS', httpStatus: 200 }),
    ]);
    expect(handlers.seen).toEqual([{ n: 1 }]);
  });

  it('a single event over maxBodyBytes is answered DROP unread: no handler, the dead letter dropped the same way', async () => {
    await dapr.publishEvent('pubsub', 'orders', { big: 'x'.repeat(2_000) });
    const outcomes = await kugel.dapr.flush();
    expect(outcomes.map((o) => `${o.topic} ${o.status} ${o.httpStatus}`)).toEqual([
      'orders DROP 200',
      'orders-dlq DROP 200',
    ]);
    expect(handlers.seen).toEqual([]);
    expect(handled.map((h) => [h.reason, h.handlerRan])).toEqual([
      ['invalid', false],
      ['invalid', false],
    ]);
  });

  it('a bulk delivery over maxBodyBytes is answered 413: every entry RETRY, no handler', async () => {
    for (const n of [1, 2, 3]) await dapr.publishEvent('pubsub', 'lines', { n, pad: 'y'.repeat(400) });
    const outcomes = await kugel.dapr.flush();
    expect(outcomes.map((o) => `${o.status} ${o.httpStatus}`)).toEqual(['RETRY 413', 'RETRY 413', 'RETRY 413']);
    expect(handlers.seen).toEqual([]);
  });

  it.each([
    ['wrong-token', 'RETRY', 401],
    ['content-type', 'RETRY', 415],
    ['oversize', 'DROP', 200],
    ['malformed', 'DROP', 200],
  ] as const)(
    'failDelivery(%s): the app answers it as it answers daprd (%s, HTTP %i), the handler not run',
    async (fault, status, httpStatus) => {
      kugel.dapr.failDelivery('pubsub', 'orders', fault);
      const first = await kugel.dapr.deliver('pubsub', 'orders', { n: 1 });
      expect(first).toMatchObject({ status, httpStatus });
      expect(handlers.seen).toEqual([]);
      // Once by default: the next delivery goes through.
      await expect(kugel.dapr.deliver('pubsub', 'orders', { n: 2 })).resolves.toMatchObject({ status: 'SUCCESS' });
      expect(handlers.seen).toEqual([{ n: 2 }]);
    },
  );
});

describe('an app token the sidecar does not send', () => {
  it('every delivery is refused 401 (RETRY) and never handled, as with a daprd run without APP_API_TOKEN', async () => {
    const moduleRef = await boot({ token: 'app-token' }, undefined);
    try {
      const kugel = moduleRef.get(KugelCommsTesting);
      await moduleRef.get(DaprClientHelper).publishEvent('pubsub', 'orders', { n: 1 });
      await expect(kugel.dapr.flush()).resolves.toEqual([
        expect.objectContaining({ status: 'RETRY', httpStatus: 401 }),
      ]);
      expect(moduleRef.get(Handlers).seen).toEqual([]);
    } finally {
      await moduleRef.close();
    }
  });
});

describe('making one component, one publish or one bulk entry fail', () => {
  let moduleRef: TestingModule;
  let kugel: KugelCommsTesting;
  let dapr: DaprClientHelper;

  beforeAll(async () => {
    moduleRef = await boot({});
    kugel = moduleRef.get(KugelCommsTesting);
    dapr = moduleRef.get(DaprClientHelper);
  });
  afterAll(() => moduleRef?.close());
  beforeEach(() => kugel.reset());

  it('failComponent(store): every state operation is daprd’s 500 for it, the store’s breaker opens, the pub/sub goes on', async () => {
    await dapr.saveState('statestore', 'k', 1);
    kugel.dapr.failComponent('statestore');
    await expect(dapr.detailed.getState('statestore', 'k')).resolves.toMatchObject({
      ok: false,
      status: 500,
      code: 'ERR_STATE_GET',
    });
    await expect(dapr.detailed.saveState('statestore', 'k', 2)).resolves.toMatchObject({
      ok: false,
      status: 500,
      code: 'ERR_STATE_SAVE',
    });
    expect(kugel.breakers.get('state:statestore').state).toBe('open');
    await expect(dapr.publishEvent('pubsub', 'orders', { n: 1 })).resolves.toBe(true);
    kugel.dapr.restoreComponent('statestore');
    kugel.breakers.close('state:statestore');
    const codes = [];
    kugel.dapr.failComponent('statestore');
    codes.push((await dapr.detailed.deleteState('statestore', 'k')) as { code?: string });
    kugel.breakers.close('state:statestore');
    codes.push((await dapr.detailed.getBulkState('statestore', ['k'])) as { code?: string });
    kugel.breakers.close('state:statestore');
    codes.push(
      (await dapr.detailed.executeStateTransaction('statestore', [{ operation: 'delete', request: { key: 'k' } }])) as {
        code?: string;
      },
    );
    expect(codes.map((c) => c.code)).toEqual(['ERR_STATE_DELETE', 'ERR_STATE_BULK_GET', 'ERR_STATE_TRANSACTION']);
    kugel.dapr.restoreComponent('statestore');
    await expect(dapr.getState('statestore', 'k')).resolves.toBe(1);
  });

  it('failComponent(pubsub, { times: 1 }): the next publish is 500 ERR_PUBSUB_PUBLISH_MESSAGE, nothing recorded, then it works', async () => {
    kugel.dapr.failComponent('pubsub', { times: 1 });
    await expect(dapr.detailed.publishEvent('pubsub', 'orders', { n: 1 })).resolves.toMatchObject({
      ok: false,
      status: 500,
      code: 'ERR_PUBSUB_PUBLISH_MESSAGE',
    });
    await expect(dapr.publishEvent('pubsub', 'orders', { n: 2 })).resolves.toBe(true);
    expect(kugel.dapr.published('pubsub', 'orders')).toEqual([{ n: 2 }]);
    expect(() => kugel.dapr.failComponent('nope')).toThrow('the in-memory sidecar has no component "nope"');
  });

  it('failPublish(match): in a bulk publish only the matching entry fails, reported with its entry; the others are published', async () => {
    kugel.dapr.failPublish('pubsub', 'orders', (data) => (data as { n: number }).n === 2);
    const result = await dapr.detailed.publishBulk('pubsub', 'orders', [
      { event: { n: 1 } },
      { event: { n: 2 } },
      { event: { n: 3 } },
    ]);
    expect(result).toMatchObject({ ok: false, status: 500, code: 'ERR_PUBSUB_PUBLISH_MESSAGE', published: ['0', '2'] });
    expect(result.ok ? [] : result.failed.map((f) => [f.entryId, f.entry.event])).toEqual([['1', { n: 2 }]]);
    expect(kugel.dapr.published('pubsub', 'orders')).toEqual([{ n: 1 }, { n: 3 }]);
    // A single publish of a matching event fails too, and the pub/sub breaker counts both 500s (threshold 2).
    await expect(dapr.publishEvent('pubsub', 'orders', { n: 2 })).resolves.toBe(false);
    expect(kugel.breakers.get('pubsub:pubsub').state).toBe('open');
    kugel.breakers.close('pubsub:pubsub');
    await expect(dapr.publishEvent('pubsub', 'orders', { n: 4 })).resolves.toBe(true);
  });
});
