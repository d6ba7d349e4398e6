import { Injectable } from '@nestjs/common';
import { DaprEvent, DaprSubscribe } from '../../../lib';
import { waitUntil } from '../../support/processes';
import { startStack, SubscriptionStack } from '../subscription-stack';
import { faultsUnderLoad, shutdownInFlight } from './faults';
import { brokerMatrix, figures } from './matrix';

type Data = { n: number; poison?: boolean };

/**
 * A poison event on Kafka: the component set `kafka-forever` retries until it works (the inbound
 * policy with maxRetries -1), so daprd never dead-letters a RETRY on its own and the partition
 * waits behind it. `maxDeliveries` ('broker': 10 on Kafka with a dead-letter topic) frees it.
 */
@Injectable()
class Poison {
  readonly calls: Array<{ topic: string; n: number; at: number }> = [];

  private record(topic: string, event: DaprEvent<Data>): void {
    this.calls.push({ topic, n: event.data.n, at: performance.now() });
    if (event.data.poison && !topic.endsWith('-dlq')) throw new Error('poison');
  }

  @DaprSubscribe('pubsub', 'poison', { deadLetterTopic: 'poison-dlq' })
  onBounded(event: DaprEvent<Data>) {
    this.record('poison', event);
  }

  @DaprSubscribe('pubsub', 'poison-dlq')
  onBoundedDead(event: DaprEvent<Data>) {
    this.record('poison-dlq', event);
  }

  @DaprSubscribe('pubsub', 'unbounded', { deadLetterTopic: 'unbounded-dlq', maxDeliveries: false })
  onUnbounded(event: DaprEvent<Data>) {
    this.record('unbounded', event);
  }

  @DaprSubscribe('pubsub', 'unbounded-dlq')
  onUnboundedDead(event: DaprEvent<Data>) {
    this.record('unbounded-dlq', event);
  }

  of(topic: string, n?: number) {
    return this.calls.filter((c) => c.topic === topic && (n === undefined || c.n === n));
  }
}

brokerMatrix('kafka', (server) => {
  describe('a poison event behind which a partition waits', () => {
    let stack: SubscriptionStack;
    let poison: Poison;

    beforeAll(async () => {
      stack = await startStack({
        providers: [Poison],
        components: 'kafka-forever',
        appId: 'kugel-poison',
        ...server().options,
        subscriptions: 4,
      });
      poison = stack.app.app.get(Poison);
      for (const topic of ['poison', 'unbounded']) await stack.dapr.publishEvent('pubsub', topic, { n: 0 });
      await waitUntil(async () => poison.of('poison', 0).length > 0 && poison.of('unbounded', 0).length > 0, 40_000, 'the first events', 50);
    }, 60_000);
    afterAll(async () => {
      await stack?.close();
    }, 60_000);

    const publish = async (topic: string, data: Data) => expect(await stack.dapr.publishEvent('pubsub', topic, data)).toBe(true);

    it("maxDeliveries 'broker' (10): the poison event goes to the dead-letter topic and the events behind it arrive in order", async () => {
      await publish('poison', { n: 1, poison: true });
      await publish('poison', { n: 2 });
      await publish('poison', { n: 3 });
      await waitUntil(async () => poison.of('poison', 3).length > 0, 20_000, 'the events behind the poison one', 20);
      const p = poison.of('poison', 1);
      expect(p.length).toBe(10);
      await waitUntil(async () => poison.of('poison-dlq', 1).length > 0, 10_000, 'the poison event on the dead-letter topic', 20);
      const last = p[p.length - 1].at;
      const [two, three] = [poison.of('poison', 2)[0], poison.of('poison', 3)[0]];
      expect(two.at).toBeGreaterThanOrEqual(last);
      expect(three.at).toBeGreaterThanOrEqual(two.at);
      expect(poison.of('poison', 2).length).toBe(1);
      figures.poisonBlockedMs = Math.round(two.at - p[0].at);
    }, 30_000);

    it('maxDeliveries false: the poison event is delivered again and again and the event behind it never arrives', async () => {
      await publish('unbounded', { n: 1, poison: true });
      await publish('unbounded', { n: 2 });
      await new Promise((resolve) => setTimeout(resolve, 5000));
      expect(poison.of('unbounded', 1).length).toBeGreaterThan(10);
      expect(poison.of('unbounded', 2)).toEqual([]);
      expect(poison.of('unbounded-dlq')).toEqual([]);
      figures.unboundedDeliveriesIn5s = poison.of('unbounded', 1).length;
    }, 30_000);
  });

  describe('faults', () => {
    shutdownInFlight('kafka', server);
    faultsUnderLoad('kafka', server);
  });
});
