import { Injectable } from '@nestjs/common';
import { DaprEvent, DaprSubscribe, EventHandledEvent, KugelCommsEvents } from '../../lib';
import { waitUntil } from '../support/processes';
import { RedisServer } from '../support/redis';
import { ListeningApp, startFactoryApp } from '../subscriptions/support/bodies';
import { Daprd } from './daprd';
import { waitForSubscriptions } from './subscription-stack';

const EVENTS = 100;
const PAD = 2048;
/** Nest's default JSON body parser limit (body-parser's '100kb'). */
const NEST_JSON_LIMIT = 100 * 1024;

@Injectable()
class Batches {
  /** Per handler call: the events' numbers and the size of their CloudEvents as JSON. */
  readonly calls: Array<{ ns: number[]; bytes: number }> = [];

  @DaprSubscribe('pubsub', 'big-batches', {
    bulk: { maxMessages: EVENTS, maxAwaitMs: 1000 },
    deadLetterTopic: 'big-batches-dlq',
  })
  onBatch(events: Array<DaprEvent<{ n: number; pad: string }>>): void {
    this.calls.push({
      ns: events.map((e) => e.data.n),
      bytes: events.reduce((sum, e) => sum + Buffer.byteLength(JSON.stringify(e.raw)), 0),
    });
  }
}

/**
 * The app as `main.ts` makes it (NestFactory.create, Express, Nest's body parsers with their
 * default 100 kB JSON limit), a real daprd and Redis Streams: a backlog of 100 events of 2 KB
 * reaches the bulk handler in batches over that limit, and every entry is answered SUCCESS.
 */
describe('bulk deliveries over 100 kB on a real daprd (Redis Streams), NestFactory Express app', () => {
  let redis: RedisServer;
  let publisher: Daprd;
  let subscriber: Daprd;
  let app: ListeningApp;
  const handled: EventHandledEvent[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    publisher = await Daprd.start({ components: 'redis-streams-batches', redisHost: redis.host, appId: 'kugel-pub' });
    // The backlog is in the stream before the subscriber starts, so that daprd batches it.
    const entries = Array.from({ length: EVENTS }, (_, n) => ({
      entryId: String(n),
      event: { n, pad: 'x'.repeat(PAD) },
      contentType: 'application/json',
    }));
    const res = await fetch(`${publisher.httpEndpoint}/v1.0-alpha1/publish/bulk/pubsub/big-batches`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(entries),
    });
    expect(res.status).toBe(204);

    app = await startFactoryApp({
      providers: [Batches],
      options: { dapr: { retries: 0 } },
      logger: ['error', 'warn', 'fatal'],
    });
    app.app.get(KugelCommsEvents).eventHandled.on((e) => handled.push(e));
    subscriber = await Daprd.create({
      components: 'redis-streams-batches',
      redisHost: redis.host,
      appId: 'kugel-sub',
      appPort: Number(new URL(app.url).port),
    });
    await subscriber.startProcess();
    await waitForSubscriptions(subscriber, 1);
    // Redis, two sidecars and an app on a busy 2-core machine.
  }, 120_000);
  afterAll(async () => {
    await subscriber?.dispose();
    await app?.close();
    await publisher?.dispose();
    await redis?.stop();
  }, 60_000);

  it('answers every entry SUCCESS, batches over 100 kB included', async () => {
    const batches = app.app.get(Batches);
    await waitUntil(
      async () => new Set(batches.calls.flatMap((c) => c.ns)).size >= EVENTS,
      45_000,
      `all ${EVENTS} events handled`,
      100,
    );
    expect([...new Set(batches.calls.flatMap((c) => c.ns))].sort((a, b) => a - b)).toEqual(
      Array.from({ length: EVENTS }, (_, n) => n),
    );
    // daprd batched beyond the JSON parser's limit, or the test proved nothing.
    expect(Math.max(...batches.calls.map((c) => c.bytes))).toBeGreaterThan(NEST_JSON_LIMIT);
    expect(handled.length).toBeGreaterThanOrEqual(EVENTS);
    expect(handled.filter((e) => e.status !== 'SUCCESS')).toEqual([]);
  }, 60_000);
});
