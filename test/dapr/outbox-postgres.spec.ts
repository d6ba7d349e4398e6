import { TestingModule } from '@nestjs/testing';
import { DaprClientHelper } from '../../lib';
import { bootKugelComms } from '../support/module-fixture';
import { PostgresServer } from '../support/postgres';
import { waitUntil } from '../support/processes';
import { RedisServer } from '../support/redis';
import { Daprd } from './daprd';
import { startSubscriber, Subscriber } from './subscriber';

/**
 * Dapr's transactional outbox (`saveStateAndPublish`) on PostgreSQL beside Redis, on real daprd
 * processes: the writer's sidecar has `outboxstore` (state.postgresql v2, topic `orders`) and
 * `redisstore` (state.redis, topic `orders-redis`), both publishing through Redis Streams to a
 * subscriber app with its own sidecar. PostgreSQL and Redis are started by the test on loopback.
 */
describe('transactional outbox on real daprd: PostgreSQL rolls back a stale ETag, Redis publishes anyway', () => {
  let postgres: PostgresServer;
  let redis: RedisServer;
  let subscriber: Subscriber;
  let subscriberSidecar: Daprd;
  let writer: Daprd;
  let app: TestingModule;
  let dapr: DaprClientHelper;

  beforeAll(async () => {
    postgres = await PostgresServer.start();
    redis = await RedisServer.start();
    subscriber = await startSubscriber([
      { topic: 'orders', route: '/postgres' },
      { topic: 'orders-redis', route: '/redis' },
    ]);
    const servers = { redisHost: redis.host, postgresConnection: postgres.connectionString };
    subscriberSidecar = await Daprd.start({
      components: 'postgres-outbox',
      ...servers,
      appPort: subscriber.server.port,
      appId: 'outbox-pg-subscriber',
    });
    writer = await Daprd.start({ components: 'postgres-outbox', ...servers, appId: 'outbox-pg-writer' });
    app = await bootKugelComms({ dapr: { httpEndpoint: writer.httpEndpoint, waitForSidecarMs: 5000, retries: 0 } });
    dapr = app.get(DaprClientHelper);
  }, 90_000);
  afterAll(async () => {
    await app?.close();
    await writer?.dispose();
    await subscriberSidecar?.dispose();
    await subscriber?.server.close();
    await redis?.dispose();
    await postgres?.dispose();
  });

  const delivered = (route: string, id: string) =>
    subscriber.deliveries.filter((d) => d.route === route && (d.body.data as { event_id?: string })?.event_id === id);

  it('PostgreSQL: a committed transaction is stored in the database and published once', async () => {
    expect(await dapr.saveStateAndPublish('outboxstore', 'pg-order-1', { event_id: 'pg-1', total: 300 })).toBe(true);
    await waitUntil(async () => delivered('/postgres', 'pg-1').length > 0, 15_000, 'the event');
    expect(delivered('/postgres', 'pg-1')[0].body).toMatchObject({
      data: { event_id: 'pg-1', total: 300 },
      source: 'outbox-pg-writer',
    });
    // The row is PostgreSQL's (daprd's v2 table "state", the value as bytes, key `<app id>||<key>`), not a cache's.
    expect(JSON.parse(postgres.query("SELECT convert_from(value, 'UTF8') FROM state WHERE key = 'outbox-pg-writer||pg-order-1'"))).toEqual({
      event_id: 'pg-1',
      total: 300,
    });
    await new Promise((r) => setTimeout(r, 1_500));
    expect(delivered('/postgres', 'pg-1')).toHaveLength(1);
  });

  // The same calls on both stores: a stale ETag fails the transaction on both (500
  // ERR_STATE_TRANSACTION, reported as `conflict: true`); PostgreSQL publishes nothing, Redis
  // publishes the write that did not happen (daprd v1.18.1, pinned like test/dapr/outbox.spec.ts).
  it.each([
    { store: 'outboxstore', route: '/postgres', kind: 'PostgreSQL', publishesStale: false },
    { store: 'redisstore', route: '/redis', kind: 'Redis', publishesStale: true },
  ])(
    '$kind: a stale ETag fails the transaction as a conflict, the value kept; published anyway: $publishesStale',
    async ({ store, route, kind, publishesStale }) => {
      const id = (n: number) => `${kind}-stale-${n}`;
      expect(await dapr.saveStateAndPublish(store, 'stale-order', { event_id: id(1) })).toBe(true);
      const read = await dapr.detailed.getState(store, 'stale-order');
      const etag = read.ok ? read.etag : undefined;
      expect(etag).toEqual(expect.any(String));
      expect(await dapr.saveStateAndPublish(store, 'stale-order', { event_id: id(2) }, { etag })).toBe(true);
      const stale = await dapr.detailed.saveStateAndPublish(store, 'stale-order', { event_id: id(3) }, { etag });
      expect(stale).toMatchObject({ ok: false, status: 500, code: 'ERR_STATE_TRANSACTION', conflict: true });
      expect(dapr.breakerFor('state', store).snapshot().consecutiveFailures).toBe(0); // a conflict, not an outage
      await expect(dapr.getState(store, 'stale-order')).resolves.toEqual({ event_id: id(2) });
      // A later commit shows the outbox at work; the stale one's event would have come before it.
      expect(await dapr.saveStateAndPublish(store, 'later-order', { event_id: id(4) })).toBe(true);
      await waitUntil(
        async () => [1, 2, 4].every((n) => delivered(route, id(n)).length === 1),
        15_000,
        'the committed events',
      );
      if (publishesStale) {
        await waitUntil(async () => delivered(route, id(3)).length > 0, 15_000, 'the stale event');
      } else {
        await new Promise((r) => setTimeout(r, 2_500)); // the outbox lag is about 1 s
        expect(delivered(route, id(3))).toHaveLength(0);
      }
    },
    40_000,
  );

  it('a stale ETag is one result on every call: a save (409), a delete (409), a transaction (500) all say conflict', async () => {
    await dapr.saveState('outboxstore', 'pg-plain', 'v1');
    const read = await dapr.detailed.getState('outboxstore', 'pg-plain');
    const etag = read.ok ? read.etag : undefined;
    await dapr.saveState('outboxstore', 'pg-plain', 'v2');
    const save = await dapr.detailed.saveState('outboxstore', 'pg-plain', 'v3', { etag });
    const remove = await dapr.detailed.deleteState('outboxstore', 'pg-plain', { etag });
    const tx = await dapr.detailed.executeStateTransaction('outboxstore', [
      { operation: 'upsert', request: { key: 'pg-plain', value: 'v4', etag } },
    ]);
    const firstWrite = await dapr.detailed.saveState('outboxstore', 'pg-plain', 'v5', { concurrency: 'first-write' });
    expect([save, remove, tx, firstWrite].map((r) => (r.ok ? 'ok' : [r.status, r.code, r.conflict]))).toEqual([
      [409, 'ERR_STATE_SAVE', true],
      [409, 'ERR_STATE_DELETE', true],
      [500, 'ERR_STATE_TRANSACTION', true],
      [500, 'ERR_STATE_SAVE', true],
    ]);
    await expect(dapr.getState('outboxstore', 'pg-plain')).resolves.toBe('v2');
    // A lost race is the caller's: the 500s among them count nothing toward the store's breaker (a
    // first-write refusal that counted opened it for every handler of a replica: copies of an event
    // whose claim another replica holds are refused so).
    for (let i = 0; i < 6; i += 1) {
      await dapr.detailed.saveState('outboxstore', 'pg-plain', 'v6', { concurrency: 'first-write' });
    }
    expect(dapr.breakerFor('state', 'outboxstore').snapshot()).toMatchObject({ consecutiveFailures: 0 });
    // A failure that is not a conflict does not say so: PostgreSQL down.
    await postgres.kill();
    try {
      const down = await dapr.detailed.saveStateAndPublish('outboxstore', 'pg-down', { event_id: 'pg-down' });
      expect(down).toMatchObject({ ok: false, status: 500 });
      expect(down.ok ? undefined : down.conflict).toBeUndefined();
    } finally {
      await postgres.startProcess();
    }
  }, 40_000);
});
