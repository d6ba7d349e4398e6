import { TestingModule } from '@nestjs/testing';
import * as path from 'node:path';
import { DaprClientHelper } from '../../lib';
import { bootKugelComms } from '../support/module-fixture';
import { exited, spawnLogged, waitUntil } from '../support/processes';
import { RedisServer } from '../support/redis';
import { Daprd } from './daprd';
import { startSubscriber, Subscriber } from './subscriber';

const WRITER = path.join(__dirname, 'fixtures', 'outbox-writer.ts');
const WRITER_ID = 'outbox-writer';
/** The outbox's internal topic on the writer's sidecar: `<namespace><app id><topic>outbox` (daprd v1.18; the namespace is `default` when NAMESPACE is unset). */
const INTERNAL_STREAM = `default${WRITER_ID}ordersoutbox`;

/**
 * Dapr's transactional outbox through `saveStateAndPublish`, on real daprd processes and a real,
 * durable Redis: a writer sidecar (`outboxstore` is state.redis configured for the outbox,
 * `atomicstore` state.in-memory configured for it) and a subscriber app with its own sidecar.
 */
describe('transactional outbox (saveStateAndPublish) on real daprd + Redis', () => {
  let redis: RedisServer;
  let subscriber: Subscriber;
  let subscriberSidecar: Daprd;
  let writer: Daprd;
  let app: TestingModule;
  let dapr: DaprClientHelper;

  beforeAll(async () => {
    redis = await RedisServer.start({ durable: true });
    subscriber = await startSubscriber([
      { topic: 'orders', route: '/orders' },
      { topic: 'orders-atomic', route: '/atomic' },
    ]);
    subscriberSidecar = await Daprd.start({
      components: 'redis-outbox',
      redisHost: redis.host,
      appPort: subscriber.server.port,
      appId: 'outbox-subscriber',
    });
    writer = await Daprd.start({ components: 'redis-outbox', redisHost: redis.host, appId: WRITER_ID });
    app = await bootKugelComms({ dapr: { httpEndpoint: writer.httpEndpoint, waitForSidecarMs: 5000, retries: 0 } });
    dapr = app.get(DaprClientHelper);
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await writer?.dispose();
    await subscriberSidecar?.dispose();
    await subscriber?.server.close();
    await redis?.dispose();
  });

  const delivered = (route: string, match: (data: Record<string, unknown>) => boolean) =>
    subscriber.deliveries.filter((d) => d.route === route && match(d.body.data as Record<string, unknown>));
  const withEventId = (id: string) => (data: Record<string, unknown>) => data?.event_id === id;

  it('a committed transaction is published even though the app SIGKILLs itself right after the call; the projection is what is published', async () => {
    const stored = { cart_id: 'c-1', status: 'billed', lines: [{ item_code: '4901', quantity: 2 }] };
    const event = { event_id: 'ev-killed-app', cart_id: 'c-1', total_amount: 300 };
    const child = spawnLogged(process.execPath, ['-r', 'ts-node/register/transpile-only', WRITER], {
      ...process.env,
      DAPR_HTTP_PORT: String(writer.httpPort),
      OUTBOX_STORE: 'outboxstore',
      OUTBOX_KEY: 'cart-c-1',
      OUTBOX_VALUE: JSON.stringify(stored),
      OUTBOX_EVENT: JSON.stringify(event),
    });
    await exited(child.child);
    expect({ signal: child.child.signalCode, output: child.output }).toEqual({ signal: 'SIGKILL', output: [] });

    await waitUntil(async () => delivered('/orders', withEventId('ev-killed-app')).length > 0, 15_000, 'the event');
    const [delivery] = delivered('/orders', withEventId('ev-killed-app'));
    expect(delivery.body).toMatchObject({ data: event, datacontenttype: 'application/json', source: WRITER_ID });
    expect(delivery.body.id).toMatch(/^outbox-/);
    // The state is what was stored, not the projection.
    await expect(dapr.getState('outboxstore', 'cart-c-1')).resolves.toEqual(stored);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(delivered('/orders', withEventId('ev-killed-app'))).toHaveLength(1);
  });

  it("a committed transaction is published when the writer's sidecar is killed right after the commit and comes back", async () => {
    const result = await dapr.detailed.saveStateAndPublish('outboxstore', 'cart-c-2', {
      event_id: 'ev-killed-sidecar',
      status: 'billed',
    });
    expect(result).toEqual({ ok: true, value: undefined, etag: undefined });
    await writer.kill(); // before its outbox handler (which waits 1 s) has published
    expect(delivered('/orders', withEventId('ev-killed-sidecar'))).toHaveLength(0);
    await writer.startProcess();
    // The internal message is still in Redis: the restarted sidecar takes it up (claimed again after
    // the component's processingTimeout of 5 s when the killed one had read it).
    await waitUntil(async () => delivered('/orders', withEventId('ev-killed-sidecar')).length > 0, 25_000, 'the event');
    expect(delivered('/orders', withEventId('ev-killed-sidecar'))[0].body.data).toEqual({
      event_id: 'ev-killed-sidecar',
      status: 'billed',
    });
  });

  it('a transaction that fails because the store is down publishes nothing and stores nothing', async () => {
    const before = await redis.command('XLEN', INTERNAL_STREAM);
    await redis.stop();
    let result;
    try {
      result = await dapr.detailed.saveStateAndPublish('outboxstore', 'cart-c-3', { event_id: 'ev-store-down' });
    } finally {
      await redis.startProcess();
    }
    expect(result).toMatchObject({ ok: false, status: 500 });
    // daprd publishes its internal message before the commit: with the store down, it never got one.
    expect(await redis.command('XLEN', INTERNAL_STREAM)).toBe(before);
    await expect(dapr.detailed.getState('outboxstore', 'cart-c-3')).resolves.toMatchObject({ ok: true, value: null });
    await new Promise((r) => setTimeout(r, 2_500)); // the outbox lag is about 1 s
    expect(delivered('/orders', withEventId('ev-store-down'))).toHaveLength(0);
  });

  it('a stale ETag on a store whose transactions are atomic (state.in-memory) publishes nothing', async () => {
    const v1 = await dapr.detailed.saveStateAndPublish('atomicstore', 'order-9', { event_id: 'atomic-v1' });
    expect(v1.ok).toBe(true);
    const read = await dapr.detailed.getState('atomicstore', 'order-9');
    const staleEtag = read.ok ? read.etag : undefined;
    expect(staleEtag).toEqual(expect.any(String));
    const v2 = await dapr.detailed.saveStateAndPublish(
      'atomicstore',
      'order-9',
      { event_id: 'atomic-v2' },
      {
        etag: staleEtag,
      },
    );
    expect(v2.ok).toBe(true);
    const v3 = await dapr.detailed.saveStateAndPublish(
      'atomicstore',
      'order-9',
      { event_id: 'atomic-v3' },
      {
        etag: staleEtag,
      },
    );
    expect(v3).toMatchObject({ ok: false, status: 500, code: 'ERR_STATE_TRANSACTION' });
    expect(dapr.breakerFor('state', 'atomicstore').snapshot().consecutiveFailures).toBe(0); // a conflict, not an outage
    // A later transaction commits: its event shows the writer's outbox handler at work.
    expect(await dapr.saveStateAndPublish('atomicstore', 'order-9b', { event_id: 'atomic-v4' })).toBe(true);
    await waitUntil(
      async () =>
        ['atomic-v1', 'atomic-v2', 'atomic-v4'].every((id) => delivered('/atomic', withEventId(id)).length === 1),
      15_000,
      'the three committed events',
    );
    // The failed one's internal message was published before the commit; daprd's handler publishes
    // it only if it finds the transaction's marker, which a committed transaction has when the handler
    // first looks (about 1 s after the commit: the committed events arrive then). The failed one
    // committed nothing, so there is nothing to find, then or later.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(delivered('/atomic', withEventId('atomic-v3'))).toHaveLength(0);
    await expect(dapr.getState('atomicstore', 'order-9')).resolves.toEqual({ event_id: 'atomic-v2' });
  });

  it('state.redis (daprd v1.18.1): a stale ETag fails the transaction, yet its event is published — Redis runs it without rollback (pinned, see docs/components.md)', async () => {
    expect(await dapr.saveStateAndPublish('outboxstore', 'order-10', { event_id: 'redis-v1' })).toBe(true);
    const read = await dapr.detailed.getState('outboxstore', 'order-10');
    const etag = read.ok ? read.etag : undefined;
    expect(await dapr.saveStateAndPublish('outboxstore', 'order-10', { event_id: 'redis-v2' }, { etag })).toBe(true);
    const stale = await dapr.detailed.saveStateAndPublish(
      'outboxstore',
      'order-10',
      { event_id: 'redis-v3' },
      { etag },
    );
    expect(stale).toMatchObject({ ok: false, status: 500, code: 'ERR_STATE_TRANSACTION' });
    await expect(dapr.getState('outboxstore', 'order-10')).resolves.toEqual({ event_id: 'redis-v2' });
    // daprd adds its outbox marker to the same MULTI/EXEC; Redis applies it although the ETag check
    // of the other command failed, so the outbox publishes the write that did not happen.
    await waitUntil(async () => delivered('/orders', withEventId('redis-v3')).length > 0, 15_000, 'the stale event');
  });

  it('bad input is refused before anything is sent', async () => {
    const result = await dapr.detailed.saveStateAndPublish(
      'outboxstore',
      'k',
      { a: 1 },
      {
        metadata: { 'outbox.projection': 'true' },
      },
    );
    expect(result).toMatchObject({ ok: false, code: 'ERR_BAD_REQUEST_INPUT' });
    expect(result.ok ? '' : result.error).toMatch(
      /must not set "outbox.projection": give the message to publish as options.event/,
    );
  });
});
