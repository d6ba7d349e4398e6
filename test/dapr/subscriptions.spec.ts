import { Injectable } from '@nestjs/common';
import { DaprEvent, DaprSubscribe, DropEvent } from '../../lib';
import { waitUntil } from '../support/processes';
import { RedisServer } from '../support/redis';
import { Platform } from '../subscriptions/support/subscriber-app';
import { ComponentSet } from './daprd';
import { startStack, SubscriptionStack } from './subscription-stack';

type Order = { n: number; text?: string; mode?: 'retry-twice' | 'always-retry' | 'drop' };

@Injectable()
class Orders {
  readonly handled: Array<DaprEvent<Order>> = [];
  readonly attempts = new Map<number, number>();
  readonly deadLetters: Array<DaprEvent<Order>> = [];

  @DaprSubscribe('pubsub', 'orders', { deadLetterTopic: 'orders-dlq' })
  onOrder(event: DaprEvent<Order>): void {
    const n = event.data.n;
    const attempt = (this.attempts.get(n) ?? 0) + 1;
    this.attempts.set(n, attempt);
    if (event.data.mode === 'drop') throw new DropEvent('order without a tenant');
    if (event.data.mode === 'always-retry') throw new Error('the database is still down');
    if (event.data.mode === 'retry-twice' && attempt <= 2) throw new Error(`transient failure ${attempt}`);
    this.handled.push(event);
  }

  @DaprSubscribe('pubsub', 'orders-dlq')
  onDeadLetter(event: DaprEvent<Order>): void {
    this.deadLetters.push(event);
  }
}

/**
 * The inbound resiliency policy of the test components (`components/<set>/resiliency.yaml`):
 * 8 retries after the first delivery.
 */
const DELIVERIES_PER_RETRIED_EVENT = 9;

const CASES: Array<{ platform: Platform; components: ComponentSet }> = [
  { platform: 'express', components: 'in-memory' },
  { platform: 'fastify', components: 'redis-streams' },
];

describe.each(CASES)(
  '@DaprSubscribe on a real daprd: $platform app, $components pub/sub',
  ({ platform, components }) => {
    let redis: RedisServer | undefined;
    let stack: SubscriptionStack;
    let orders: Orders;

    beforeAll(async () => {
      if (components !== 'in-memory') redis = await RedisServer.start();
      stack = await startStack({ providers: [Orders], platform, components, redisHost: redis?.host, subscriptions: 2 });
      orders = stack.app.app.get(Orders);
    });
    afterAll(async () => {
      await stack?.close();
      await redis?.stop();
    });

    const publish = async (order: Order) => expect(await stack.dapr.publishEvent('pubsub', 'orders', order)).toBe(true);
    const waitFor = (what: string, probe: () => boolean) => waitUntil(async () => probe(), 20_000, what);

    it('delivers a published event to the decorated handler with its data intact', async () => {
      const text = 'レシート #1 — 1,280 円 ✓';
      await publish({ n: 1, text });
      await waitFor('event 1', () => orders.handled.some((e) => e.data.n === 1));
      const event = orders.handled.find((e) => e.data.n === 1)!;
      expect(event).toMatchObject({
        data: { n: 1, text },
        topic: 'orders',
        pubsub: 'pubsub',
        source: 'kugel-test',
        type: 'com.dapr.event.sent',
        dataContentType: 'application/json',
      });
      expect(event.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(event.raw).toMatchObject({ id: event.id, specversion: '1.0' });
      expect(orders.attempts.get(1)).toBe(1);
      expect(stack.app.handled.filter((e) => e.id === event.id)).toEqual([
        expect.objectContaining({ status: 'SUCCESS', reason: 'handled', handlerRan: true }),
      ]);
    });

    it('a handler that throws is answered RETRY and daprd delivers the event again', async () => {
      await publish({ n: 2, mode: 'retry-twice' });
      await waitFor('event 2 to succeed', () => orders.handled.some((e) => e.data.n === 2));
      expect(orders.attempts.get(2)).toBe(3);
      const answers = stack.app.handled.filter((e) => e.error?.startsWith('transient failure'));
      expect(answers.map((e) => [e.status, e.reason])).toEqual([
        ['RETRY', 'failed'],
        ['RETRY', 'failed'],
      ]);
    });

    it('DropEvent is answered DROP: no retry, the event goes to the dead-letter topic', async () => {
      await publish({ n: 3, mode: 'drop' });
      await waitFor('event 3 on the dead-letter topic', () => orders.deadLetters.some((e) => e.data.n === 3));
      expect(orders.attempts.get(3)).toBe(1);
      expect(orders.handled.some((e) => e.data.n === 3)).toBe(false);
    });

    it('an event that keeps failing is retried by the policy, then dead-lettered', async () => {
      await publish({ n: 4, mode: 'always-retry' });
      await waitFor('event 4 on the dead-letter topic', () => orders.deadLetters.some((e) => e.data.n === 4));
      expect(orders.attempts.get(4)).toBe(DELIVERIES_PER_RETRIED_EVENT);
      // The dead-lettered copy is the original message: same CloudEvent id.
      const failedIds = new Set(stack.app.handled.filter((e) => e.reason === 'failed').map((e) => e.id));
      expect(failedIds.has(orders.deadLetters.find((e) => e.data.n === 4)!.id)).toBe(true);
    });
  },
);
