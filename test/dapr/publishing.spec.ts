import { TestingModule } from '@nestjs/testing';
import { DaprClientHelper, KugelCommsEvents, RequestCompletedEvent } from '../../lib';
import { bootKugelComms } from '../support/module-fixture';
import { waitUntil } from '../support/processes';
import { RedisServer } from '../support/redis';
import { json, startTestServer } from '../support/test-server';
import { Daprd } from './daprd';
import { startSubscriber, Subscriber } from './subscriber';

/** Event ids (CloudEvent `id`) of the entries a Redis stream holds, read with XRANGE. */
async function idsInStream(redis: RedisServer, stream: string): Promise<Set<string>> {
  const reply = await redis.command('XRANGE', stream, '-', '+');
  return new Set([...reply.matchAll(/"id":"([^"]+)"/g)].map((m) => m[1]));
}

describe('publishing without loss on a real daprd + Redis: stable event ids, bulk publish', () => {
  let redis: RedisServer;
  let subscriber: Subscriber;
  let daprd: Daprd;
  let app: TestingModule;
  let dapr: DaprClientHelper;
  const completed: RequestCompletedEvent[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    subscriber = await startSubscriber([
      { topic: 'orders', route: '/orders' },
      { topic: 'bulk', route: '/bulk' },
    ]);
    daprd = await Daprd.start({
      components: 'redis-outbox',
      redisHost: redis.host,
      appPort: subscriber.server.port,
      appId: 'kugel-publisher',
    });
    app = await bootKugelComms({
      dapr: { httpEndpoint: daprd.httpEndpoint, waitForSidecarMs: 5000, retries: 0 },
    });
    dapr = app.get(DaprClientHelper);
    app.get(KugelCommsEvents).requestCompleted.on((e) => completed.push(e));
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await daprd?.dispose();
    await subscriber?.server.close();
    await redis?.dispose();
  });
  beforeEach(() => {
    completed.length = 0;
    dapr.breakerFor('pubsub', 'pubsub').tryAcquire()?.success(); // back to 0 consecutive failures
  });

  const deliveredTo = (route: string) =>
    subscriber.deliveries.filter((d) => d.route === route).map((d) => d.body as Record<string, unknown>);

  it('publishEvent with eventId: every (re)publish reaches the consumer under that id', async () => {
    const order = { orderId: 'o-1', total: 12.5 };
    expect(await dapr.publishEvent('pubsub', 'orders', order, { eventId: 'order-o-1' })).toBe(true);
    expect(await dapr.publishEvent('pubsub', 'orders', order, { eventId: 'order-o-1' })).toBe(true);
    expect(await dapr.publishEvent('pubsub', 'orders', order)).toBe(true);
    await waitUntil(async () => deliveredTo('/orders').length === 3, 10_000, 'three deliveries');
    const ids = deliveredTo('/orders').map((e) => e.id);
    expect(ids.filter((id) => id === 'order-o-1')).toHaveLength(2);
    expect(ids.filter((id) => id !== 'order-o-1')).toEqual([expect.stringMatching(/^[0-9a-f-]{36}$/)]);
    expect(deliveredTo('/orders').every((e) => JSON.stringify(e.data) === JSON.stringify(order))).toBe(true);
  });

  it('publishBulk: one call, each entry delivered with its data, content type and id; the call metadata reaches every entry', async () => {
    const entries = [
      ...Array.from({ length: 20 }, (_, i) => ({ event: { n: i }, eventId: `bulk-${i}` })),
      { event: 'plain text', contentType: 'text/plain', eventId: 'bulk-text' },
      { event: { n: 'no-id' } },
    ];
    const result = await dapr.detailed.publishBulk<unknown>('pubsub', 'bulk', entries, {
      metadata: { ttlInSeconds: 120 },
    });
    expect(result).toEqual({ ok: true, published: entries.map((_, i) => String(i)), failed: [] });
    expect(completed.filter((e) => e.route === '/v1.0-alpha1/publish/bulk/:pubsub/:topic')).toHaveLength(1);
    await waitUntil(async () => deliveredTo('/bulk').length === entries.length, 10_000, 'every bulk entry');
    const byId = new Map(deliveredTo('/bulk').map((e) => [e.id as string, e]));
    for (let i = 0; i < 20; i += 1) expect(byId.get(`bulk-${i}`)?.data).toEqual({ n: i });
    expect(byId.get('bulk-text')).toMatchObject({ data: 'plain text', datacontenttype: 'text/plain' });
    expect([...byId.values()].find((e) => (e.data as { n?: unknown })?.n === 'no-id')?.id).toMatch(/^[0-9a-f-]{36}$/);
    // ttlInSeconds on a broker without native TTL becomes the CloudEvent's expiration: on every entry.
    expect(deliveredTo('/bulk').every((e) => typeof e.expiration === 'string')).toBe(true);
  });

  it('a partial failure (Redis out of memory mid-call) reports exactly the entries that are not in the stream, and counts once', async () => {
    const used = Number(/used_memory:(\d+)/.exec(await redis.command('INFO', 'memory'))![1]);
    await redis.command('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
    await redis.command('CONFIG', 'SET', 'maxmemory', String(used + 400_000));
    const entries = Array.from({ length: 100 }, (_, i) => ({
      event: { n: i, pad: 'x'.repeat(10_000) },
      eventId: `oom-${i}`,
      entryId: `entry-${i}`,
    }));
    let result;
    try {
      result = await dapr.detailed.publishBulk('pubsub', 'oom', entries);
    } finally {
      await redis.command('CONFIG', 'SET', 'maxmemory', '0');
    }
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.status).toBe(500);
    expect(result.code).toBe('ERR_PUBSUB_PUBLISH_MESSAGE');
    // Some of each, or the scenario proved nothing (the memory margin is too small or too large).
    expect(result.published.length).toBeGreaterThan(0);
    expect(result.failed.length).toBeGreaterThan(0);
    expect(result.published.length + result.failed.length).toBe(100);
    expect(result.failed[0].error).toMatch(/OOM command not allowed/);
    const inStream = await idsInStream(redis, 'oom');
    const reportedPublished = new Set(result.published.map((id) => `oom-${id.slice('entry-'.length)}`));
    expect(inStream).toEqual(reportedPublished);
    for (const f of result.failed) expect(f.entry).toBe(entries[Number(f.entryId.slice('entry-'.length))]);
    // One logical call: one verdict for the breaker, one event, however many entries failed.
    expect(dapr.breakerFor('pubsub', 'pubsub').snapshot().consecutiveFailures).toBe(1);
    expect(completed).toHaveLength(1);
    expect(await dapr.publishBulk('pubsub', 'oom', [{ event: { after: true } }])).toBe(true);
  });

  it('an unknown pub/sub: every entry failed (404, not counted by the breaker); Redis down: every entry failed, counted once', async () => {
    const notFound = await dapr.detailed.publishBulk('nope', 'bulk', [{ event: 1 }, { event: 2 }]);
    expect(notFound).toMatchObject({ ok: false, status: 404, code: 'ERR_PUBSUB_NOT_FOUND', published: [] });
    expect(notFound.ok ? [] : notFound.failed.map((f) => f.entryId)).toEqual(['0', '1']);
    expect(dapr.breakerFor('pubsub', 'nope').snapshot().consecutiveFailures).toBe(0);

    await redis.stop();
    try {
      const down = await dapr.detailed.publishBulk('pubsub', 'bulk', [{ event: 1 }, { event: 2 }, { event: 3 }]);
      expect(down).toMatchObject({ ok: false, status: 500, published: [] });
      expect(down.ok ? 0 : down.failed.length).toBe(3);
      expect(dapr.breakerFor('pubsub', 'pubsub').snapshot().consecutiveFailures).toBe(1);
    } finally {
      await redis.startProcess();
    }
  });

  it('bad entries are refused before anything is sent, each named', async () => {
    const result = await dapr.detailed.publishBulk('pubsub', 'bulk', [
      { event: 1, entryId: 'a' },
      { event: 2, entryId: 'a' },
    ]);
    expect(result).toMatchObject({ ok: false, code: 'ERR_BAD_REQUEST_INPUT', published: [] });
    expect(result.ok ? '' : result.error).toMatch(/entries\[1\]\.entryId "a" is used twice \(nothing was sent\)/);
    expect(completed).toHaveLength(0);
    expect(await dapr.detailed.publishBulk('pubsub', 'bulk', [])).toEqual({ ok: true, published: [], failed: [] });
  });
});

describe('publishBulk against a sidecar that answers what daprd does not document', () => {
  it.each([
    ['500 with a body that is not JSON', 500, '<html>proxy error</html>'],
    [
      '500 listing an entry that was never sent',
      500,
      JSON.stringify({ failedEntries: [{ entryId: 'zz', error: 'x' }] }),
    ],
    ['502 from a proxy', 502, JSON.stringify({ failedEntries: [{ entryId: '0', error: 'x' }] })],
  ])('%s: every entry reported failed', async (_what, status, body) => {
    const fake = await startTestServer((_req, res) => {
      if (body.startsWith('{')) return json(res, status, JSON.parse(body));
      res.writeHead(status, { 'Content-Type': 'text/html' });
      res.end(body);
    });
    const app = await bootKugelComms({ dapr: { httpEndpoint: fake.url, waitForSidecarMs: 0, retries: 0 } });
    try {
      const result = await app.get(DaprClientHelper).detailed.publishBulk('pubsub', 't', [{ event: 1 }, { event: 2 }]);
      expect(result).toMatchObject({ ok: false, status, published: [] });
      expect(result.ok ? [] : result.failed.map((f) => f.entryId)).toEqual(['0', '1']);
    } finally {
      await app.close();
      await fake.close();
    }
  });
});
