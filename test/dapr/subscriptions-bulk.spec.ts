import { Injectable } from '@nestjs/common';
import { TestingModule } from '@nestjs/testing';
import { BulkHandlerResult, DaprClientHelper, DaprEvent, DaprSubscribe, DropEvent } from '../../lib';
import { bootKugelComms } from '../support/module-fixture';
import { waitUntil } from '../support/processes';
import { RedisServer } from '../support/redis';
import { Daprd } from './daprd';
import { startStack, SubscriptionStack } from './subscription-stack';

const EVENTS = 12;

/** n % 3 == 0: dropped; n % 3 == 1: handled; n % 3 == 2: RETRY on the first delivery, then handled. */
@Injectable()
class Batches {
  readonly batches: number[][] = [];
  readonly handled: number[] = [];
  readonly attempts = new Map<number, number>();
  readonly deadLetters: number[] = [];

  @DaprSubscribe('pubsub', 'batches', { bulk: { maxMessages: 50, maxAwaitMs: 300 }, deadLetterTopic: 'batches-dlq' })
  onBatch(events: Array<DaprEvent<{ n: number }>>): BulkHandlerResult {
    this.batches.push(events.map((e) => e.data.n));
    return events.map((e) => {
      const n = e.data.n;
      const attempt = (this.attempts.get(n) ?? 0) + 1;
      this.attempts.set(n, attempt);
      if (n % 3 === 0) return new DropEvent(`event ${n} is malformed`);
      if (n % 3 === 2 && attempt === 1) return 'RETRY';
      this.handled.push(n);
      return undefined;
    });
  }

  @DaprSubscribe('pubsub', 'batches-dlq')
  onDeadLetter(event: DaprEvent<{ n: number }>): void {
    this.deadLetters.push(event.data.n);
  }
}

describe('bulk subscription on a real daprd (Redis Streams): per-entry answers', () => {
  let redis: RedisServer;
  let publisher: Daprd;
  let publisherApp: TestingModule;
  let stack: SubscriptionStack;

  beforeAll(async () => {
    redis = await RedisServer.start();
    // The events are in the stream before the subscriber starts, so that daprd batches them.
    publisher = await Daprd.start({ components: 'redis-streams', redisHost: redis.host, appId: 'kugel-publisher' });
    publisherApp = await bootKugelComms({ dapr: { httpEndpoint: publisher.httpEndpoint, waitForSidecarMs: 5000 } });
    const dapr = publisherApp.get(DaprClientHelper);
    for (let n = 1; n <= EVENTS; n += 1) expect(await dapr.publishEvent('pubsub', 'batches', { n })).toBe(true);
    stack = await startStack({
      providers: [Batches],
      platform: 'express',
      components: 'redis-streams',
      redisHost: redis.host,
      subscriptions: 2,
    });
    // Redis, two sidecars and an app start here: on a busy 2-core machine that can take longer than
    // Jest's default 30 s for a hook.
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
    await publisherApp?.close();
    await publisher?.dispose();
    await redis?.stop();
  });

  it('acknowledges, retries and drops entry by entry', async () => {
    const batches = stack.app.app.get(Batches);
    const expectHandled = Array.from({ length: EVENTS }, (_, i) => i + 1).filter((n) => n % 3 !== 0);
    const expectDropped = Array.from({ length: EVENTS }, (_, i) => i + 1).filter((n) => n % 3 === 0);
    await waitUntil(
      async () => batches.handled.length >= expectHandled.length && batches.deadLetters.length >= expectDropped.length,
      30_000,
      'every entry handled or dead-lettered',
    );
    expect([...batches.handled].sort((a, b) => a - b)).toEqual(expectHandled);
    expect([...batches.deadLetters].sort((a, b) => a - b)).toEqual(expectDropped);
    // daprd really batched: at least one delivery carried several events.
    expect(Math.max(...batches.batches.map((b) => b.length))).toBeGreaterThan(1);
    for (const n of expectHandled) expect(batches.attempts.get(n)).toBe(n % 3 === 2 ? 2 : 1);
    for (const n of expectDropped) expect(batches.attempts.get(n)).toBe(1);
    const reasons = stack.app.handled.filter((e) => e.bulk).map((e) => `${e.status}:${e.reason}`);
    expect(reasons.filter((r) => r === 'DROP:dropped')).toHaveLength(expectDropped.length);
    expect(reasons.filter((r) => r === 'RETRY:failed')).toHaveLength(expectHandled.filter((n) => n % 3 === 2).length);
    expect(reasons.filter((r) => r === 'SUCCESS:handled')).toHaveLength(expectHandled.length);
  });
});
