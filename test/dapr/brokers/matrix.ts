import { Injectable, Type } from '@nestjs/common';
import { BulkHandlerResult, DaprEvent, DaprSubscribe, DropEvent } from '../../../lib';
import { KafkaBroker } from '../../brokers/kafka';
import { RabbitNode } from '../../brokers/rabbitmq';
import { waitUntil } from '../../support/processes';
import { RedisServer } from '../../support/redis';
import { ComponentSet } from '../daprd';
import { startStack, SubscriptionStack } from '../subscription-stack';

/**
 * The broker conformance matrix (issue 24): one suite, run on each pub/sub broker by its own spec
 * file (`<broker>.spec.ts`) so that each starts its broker once and they run one at a time. What
 * each broker does is written down in `EXPECTED` as measured on daprd v1.18.1, and
 * docs/components.md ("Pub/sub brokers") is that table in prose.
 */
export type Broker = 'in-memory' | 'redis-streams' | 'kafka' | 'rabbitmq';

type Mode = 'ok' | 'retry-twice' | 'always-retry' | 'drop';
type Data = { run: string; n: number; mode?: Mode };
/** One call of a handler: which event, the how-manyth of that event, when (ms since the test started). */
type Call = { topic: string; run: string; n: number; attempt: number; at: number; replica: string };

/** What the broker does, as measured; the suite asserts it. */
export interface BrokerFacts {
  /**
   * With the inbound policy: a later event of the same topic waits while one is being retried (the
   * in-memory pub/sub delivers a topic's events one at a time; its publish does not wait).
   */
  retryInPlace: boolean;
  /** Without a policy and without a dead-letter topic: the RETRY is delivered again (and how soon, ms). */
  bareRedelivery: { afterMs: [number, number] } | 'lost';
  /**
   * One key (one partition / queue / stream), published one after the other: handled in order
   * every time (`true`), or in no order the broker promises (seen out of order at least once).
   */
  ordered: true | 'not-guaranteed';
  /**
   * Two replicas (same app id, each with its daprd): the events published through the first one's
   * daprd reach both (`shared`; on one Kafka partition only one replica gets any), or only the
   * first (`not-shared`: the in-memory pub/sub lives inside one daprd).
   */
  replicas: 'shared' | 'not-shared';
}

export const EXPECTED: Record<Broker, BrokerFacts> = {
  'in-memory': { retryInPlace: true, bareRedelivery: 'lost', ordered: true, replicas: 'not-shared' },
  'redis-streams': { retryInPlace: false, bareRedelivery: 'lost', ordered: 'not-guaranteed', replicas: 'shared' },
  kafka: { retryInPlace: true, bareRedelivery: { afterMs: [4000, 6500] }, ordered: true, replicas: 'shared' },
  rabbitmq: { retryInPlace: false, bareRedelivery: 'lost', ordered: 'not-guaranteed', replicas: 'shared' },
};

let t0 = performance.now();
const now = () => Math.round(performance.now() - t0);

/** A subscriber whose handlers answer as each event's `mode` says and record every call. */
function subscriber(
  prefix: string,
  deadLetters: boolean,
  replica: string,
): Type<unknown> & { calls: Call[]; batches: number[] } {
  const calls: Call[] = [];
  /** The size of each bulk batch daprd delivered. */
  const batches: number[] = [];
  const attempts = new Map<string, number>();
  const dlt = (topic: string) => (deadLetters ? { deadLetterTopic: `${topic}-dlq` } : {});
  const handle = (topic: string, event: DaprEvent<Data>, delayMs = 0): Promise<void> | void => {
    const { run, n } = event.data;
    // A dead letter is only recorded (it keeps the mode that sent it there).
    const mode = topic.endsWith('-dlq') ? 'ok' : event.data.mode;
    const key = `${topic}/${run}/${n}`;
    const attempt = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, attempt);
    calls.push({ topic, run, n, attempt, at: now(), replica });
    if (mode === 'drop') throw new DropEvent('dropped by the test');
    if (mode === 'always-retry') throw new Error('always fails');
    if (mode === 'retry-twice' && attempt <= 2) throw new Error(`fails ${attempt}`);
    if (delayMs > 0) return new Promise((resolve) => setTimeout(resolve, delayMs));
  };
  @Injectable()
  class Subscriber {
    static readonly calls = calls;
    static readonly batches = batches;

    @DaprSubscribe('pubsub', `${prefix}retry`, { ...dlt(`${prefix}retry`), maxDeliveries: false })
    onRetry(event: DaprEvent<Data>) {
      return handle(`${prefix}retry`, event);
    }

    @DaprSubscribe('pubsub', `${prefix}ordered`, { ...dlt(`${prefix}ordered`), maxDeliveries: false })
    onOrdered(event: DaprEvent<Data>) {
      // Earlier events take longer: with several workers a later one would overtake.
      return handle(`${prefix}ordered`, event, Math.max(0, 40 - 4 * event.data.n));
    }

    @DaprSubscribe('pubsub', `${prefix}retry-dlq`)
    onDeadLetter(event: DaprEvent<Data>) {
      return handle(`${prefix}retry-dlq`, event);
    }

    /** Bulk: one answer per entry, as each entry's mode says (a dropped one is an Error entry). */
    @DaprSubscribe('pubsub', `${prefix}bulk`, {
      bulk: { maxMessages: 20, maxAwaitMs: 300 },
      ...dlt(`${prefix}bulk`),
      maxDeliveries: false,
    })
    onBulk(events: Array<DaprEvent<Data>>): BulkHandlerResult {
      batches.push(events.length);
      return events.map((event) => {
        try {
          void handle(`${prefix}bulk`, event); // no delay: returns at once
          return undefined;
        } catch (error) {
          return error as Error;
        }
      });
    }

    @DaprSubscribe('pubsub', `${prefix}bulk-dlq`)
    onBulkDeadLetter(event: DaprEvent<Data>) {
      return handle(`${prefix}bulk-dlq`, event);
    }
  }
  return Subscriber;
}

export interface BrokerServer {
  options: { redisHost?: string; kafkaBrokers?: string; rabbitmqUrl?: string };
  /** Crash (SIGKILL) and start again on the same ports and data (the fault runs, faults.ts). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startBroker(broker: Broker): Promise<BrokerServer> {
  switch (broker) {
    case 'in-memory':
      return { options: {}, restart: async () => undefined, stop: async () => undefined };
    case 'redis-streams': {
      // Durable (append-only, fsync always): what it acknowledged survives a crash.
      const redis = await RedisServer.start({ durable: true });
      const restart = async () => {
        await redis.stop();
        await redis.startProcess();
      };
      return { options: { redisHost: redis.host }, restart, stop: () => redis.dispose() };
    }
    case 'kafka': {
      const kafka = await KafkaBroker.start();
      const restart = async () => {
        await kafka.kill();
        await kafka.startProcess();
      };
      return { options: { kafkaBrokers: kafka.bootstrap }, restart, stop: () => kafka.dispose() };
    }
    case 'rabbitmq': {
      const rabbit = await RabbitNode.start();
      const restart = async () => {
        await rabbit.kill();
        await rabbit.startProcess();
      };
      return { options: { rabbitmqUrl: rabbit.url }, restart, stop: () => rabbit.dispose() };
    }
  }
}

const SETS: Record<Broker, { policy: ComponentSet; bare: ComponentSet }> = {
  'in-memory': { policy: 'in-memory', bare: 'in-memory-bare' },
  'redis-streams': { policy: 'redis-streams', bare: 'redis-streams-bare' },
  kafka: { policy: 'kafka', bare: 'kafka-bare' },
  rabbitmq: { policy: 'rabbitmq', bare: 'rabbitmq-bare' },
};

/** The subscriptions of `subscriber()`: retry, ordered, retry-dlq, bulk, bulk-dlq. */
const SUBSCRIPTIONS = 5;

/** The events of one run on one topic, in the order the handlers were called. */
const callsOf = (calls: Call[], topic: string, run: string) => calls.filter((c) => c.topic === topic && c.run === run);

/** Figures measured by the suite, printed at its end (for docs/components.md). */
export const figures: Record<string, unknown> = {};

export function brokerMatrix(
  broker: Broker,
  more?: (server: () => BrokerServer) => void,
): void {
  const facts = EXPECTED[broker];
  describe(`pub/sub conformance on ${broker} (daprd v1.18.1)`, () => {
    let server: BrokerServer;
    let stack: SubscriptionStack;
    let bare: SubscriptionStack;
    const main = subscriber('', true, 'a');
    const bareSub = subscriber('bare-', false, 'bare');
    let runs = 0;
    const newRun = () => `r${++runs}-${Date.now()}`;

    const publish = async (s: SubscriptionStack, topic: string, data: Data) =>
      expect(await s.dapr.publishEvent('pubsub', topic, data)).toBe(true);

    beforeAll(async () => {
      t0 = performance.now();
      server = await startBroker(broker);
      stack = await startStack({ providers: [main], components: SETS[broker].policy, ...server.options, subscriptions: SUBSCRIPTIONS });
      bare = await startStack({
        providers: [bareSub],
        components: SETS[broker].bare,
        appId: 'kugel-bare',
        ...server.options,
        subscriptions: SUBSCRIPTIONS,
      });
      // The first event of each topic: a consumer that has not joined yet (Kafka) reads it late.
      const warm = newRun();
      await publish(stack, 'retry', { run: warm, n: 0 });
      await publish(bare, 'bare-retry', { run: warm, n: 0 });
      await publish(stack, 'ordered', { run: warm, n: 0 });
      await publish(stack, 'bulk', { run: warm, n: 0 });
      await waitUntil(
        async () =>
          callsOf(main.calls, 'retry', warm).length > 0 &&
          callsOf(main.calls, 'bulk', warm).length > 0 &&
          callsOf(main.calls, 'ordered', warm).length > 0 &&
          callsOf(bareSub.calls, 'bare-retry', warm).length > 0,
        40_000,
        'the first events',
        50,
      );
      figures.warmupMs = now();
    }, 120_000);

    afterAll(async () => {
      await bare?.close();
      await stack?.close();
      await server?.stop();
      console.log(`${broker} figures: ${JSON.stringify(figures)}`);
    }, 60_000);

    it('a RETRY is delivered again under the inbound policy (250 ms × 8); whether the next event waits', async () => {
      const run = newRun();
      const before = now();
      await publish(stack, 'retry', { run, n: 1, mode: 'retry-twice' });
      figures.publishOfRetriedMs = now() - before;
      await publish(stack, 'retry', { run, n: 2 });
      await waitUntil(async () => callsOf(main.calls, 'retry', run).length >= 4, 15_000, 'events 1 and 2', 20);
      const calls = callsOf(main.calls, 'retry', run);
      const one = calls.filter((c) => c.n === 1);
      const two = calls.find((c) => c.n === 2)!;
      expect(one.map((c) => c.attempt)).toEqual([1, 2, 3]);
      const gaps = [one[1].at - one[0].at, one[2].at - one[1].at];
      figures.policyRetryGapsMs = gaps;
      for (const gap of gaps) {
        expect(gap).toBeGreaterThanOrEqual(200);
        expect(gap).toBeLessThan(1500);
      }
      const waited = two.at >= one[2].at;
      figures.nextEventWaited = waited;
      expect(waited).toBe(facts.retryInPlace);
    });

    it('an event that always fails is delivered 1 + 8 times, then lands on the dead-letter topic', async () => {
      const run = newRun();
      await publish(stack, 'retry', { run, n: 1, mode: 'always-retry' });
      await waitUntil(async () => callsOf(main.calls, 'retry-dlq', run).length > 0, 15_000, 'the dead letter', 20);
      expect(callsOf(main.calls, 'retry', run).length).toBe(9);
    });

    it('DROP goes to the dead-letter topic after one delivery', async () => {
      const run = newRun();
      await publish(stack, 'retry', { run, n: 1, mode: 'drop' });
      await waitUntil(async () => callsOf(main.calls, 'retry-dlq', run).length > 0, 10_000, 'the dead letter', 20);
      expect(callsOf(main.calls, 'retry', run).length).toBe(1);
    });

    it('bulk publish: every entry delivered once', async () => {
      const run = newRun();
      const entries = [1, 2, 3, 4, 5].map((n) => ({ event: { run, n } }));
      expect(await stack.dapr.publishBulk('pubsub', 'retry', entries)).toBe(true);
      await waitUntil(async () => callsOf(main.calls, 'retry', run).length >= 5, 10_000, 'five events', 20);
      await new Promise((r) => setTimeout(r, 500));
      expect(
        callsOf(main.calls, 'retry', run)
          .map((c) => c.n)
          .sort(),
      ).toEqual([1, 2, 3, 4, 5]);
    });

    it('bulk subscribe: each entry answered on its own (handled, RETRY once, DROP), each handled once', async () => {
      const run = newRun();
      // n % 3 == 1: handled; n % 3 == 2: RETRY on its first delivery, then handled; n % 3 == 0: DROP.
      const mode = (n: number): Mode => (n % 3 === 0 ? 'drop' : n % 3 === 2 ? 'retry-twice' : 'ok');
      const ns = Array.from({ length: 12 }, (_, i) => i + 1);
      const batchesBefore = main.batches.length;
      // One by one: the in-memory pub/sub's bulk publish waits for the deliveries (RETRYs included).
      for (const n of ns) await publish(stack, 'bulk', { run, n, mode: mode(n) });
      const dropped = ns.filter((n) => mode(n) === 'drop');
      const handledOnce = ns.filter((n) => mode(n) !== 'drop');
      // Which calls ended handled: an 'ok' entry's first, a 'retry-twice' entry's third.
      const handled = () =>
        callsOf(main.calls, 'bulk', run).filter((c) => (mode(c.n) === 'ok' ? true : mode(c.n) === 'retry-twice' && c.attempt >= 3));
      await waitUntil(
        async () => handled().length >= handledOnce.length && callsOf(main.calls, 'bulk-dlq', run).length >= dropped.length,
        20_000,
        'every entry handled or dead-lettered',
        20,
      );
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const calls = callsOf(main.calls, 'bulk', run);
      const attempts = Object.fromEntries(ns.map((n) => [n, calls.filter((c) => c.n === n).length]));
      figures.bulkAttempts = attempts;
      figures.bulkBatches = main.batches.slice(batchesBefore);
      expect(handled().map((c) => c.n).sort((a, b) => a - b)).toEqual(handledOnce);
      expect(callsOf(main.calls, 'bulk-dlq', run).map((c) => c.n).sort((a, b) => a - b)).toEqual(dropped);
      for (const n of ns) expect([n, attempts[n]]).toEqual([n, mode(n) === 'retry-twice' ? 3 : 1]);
    }, 30_000);

    it('events of one key published one after the other are handled in that order (or not)', async () => {
      const run = newRun();
      for (let n = 1; n <= 10; n++) await publish(stack, 'ordered', { run, n });
      await waitUntil(async () => callsOf(main.calls, 'ordered', run).length >= 10, 15_000, 'ten events', 20);
      const order = callsOf(main.calls, 'ordered', run).map((c) => c.n);
      figures.order = order.join(',');
      expect([...order].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      if (facts.ordered === true) expect(order).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    });

    it('without a policy and without a dead-letter topic: a RETRY is redelivered by the broker, or lost', async () => {
      const run = newRun();
      await publish(bare, 'bare-retry', { run, n: 1, mode: 'retry-twice' });
      await publish(bare, 'bare-retry', { run, n: 2 });
      const r = facts.bareRedelivery;
      if (r === 'lost') {
        await waitUntil(async () => callsOf(bareSub.calls, 'bare-retry', run).length >= 2, 10_000, 'both events', 20);
        await new Promise((resolve) => setTimeout(resolve, 4000));
        const one = callsOf(bareSub.calls, 'bare-retry', run).filter((c) => c.n === 1);
        expect(one.length).toBe(1);
        figures.bareRedelivery = 'lost';
      } else {
        await waitUntil(async () => callsOf(bareSub.calls, 'bare-retry', run).length >= 4, 20_000, 'three deliveries', 20);
        const calls = callsOf(bareSub.calls, 'bare-retry', run);
        const one = calls.filter((c) => c.n === 1);
        expect(one.length).toBe(3);
        const gaps = [one[1].at - one[0].at, one[2].at - one[1].at];
        figures.bareGapsMs = gaps;
        for (const gap of gaps) {
          expect(gap).toBeGreaterThanOrEqual(r.afterMs[0]);
          expect(gap).toBeLessThan(r.afterMs[1]);
        }
        // The next event waited for the third delivery: in place.
        expect(calls.find((c) => c.n === 2)!.at).toBeGreaterThanOrEqual(one[2].at);
      }
    }, 30_000);

    it('two replicas of one app on the broker: each event handled once', async () => {
      const second = subscriber('', true, 'b');
      const replica = await startStack({ providers: [second], components: SETS[broker].policy, ...server.options, subscriptions: SUBSCRIPTIONS });
      try {
        // Kafka hands the partition to one of the two after a rebalance: give it time to settle.
        await new Promise((resolve) => setTimeout(resolve, broker === 'kafka' ? 3000 : 500));
        const run = newRun();
        for (let n = 1; n <= 10; n++) await publish(n % 2 ? stack : replica, 'retry', { run, n });
        const all = () => [...callsOf(main.calls, 'retry', run), ...callsOf(second.calls, 'retry', run)];
        const expected = facts.replicas === 'shared' ? 10 : 5;
        await waitUntil(async () => all().length >= expected, 20_000, `${expected} events`, 20);
        await new Promise((resolve) => setTimeout(resolve, 1500));
        const ns = all()
          .map((c) => c.n)
          .sort((a, b) => a - b);
        figures.replicaShares = { a: callsOf(main.calls, 'retry', run).length, b: callsOf(second.calls, 'retry', run).length };
        if (facts.replicas === 'shared') expect(ns).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        else {
          // Each daprd delivers what was published through it, to its own app only.
          expect(callsOf(main.calls, 'retry', run).map((c) => c.n)).toEqual([1, 3, 5, 7, 9]);
          expect(callsOf(second.calls, 'retry', run).map((c) => c.n)).toEqual([2, 4, 6, 8, 10]);
        }
      } finally {
        await replica.close();
      }
    }, 60_000);

    more?.(() => server);
  });
}
