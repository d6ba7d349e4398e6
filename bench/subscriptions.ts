// Events handled per second through a real daprd and a broker (Redis Streams, Kafka or RabbitMQ): a
// @DaprSubscribe handler vs the official @dapr/dapr DaprServer subscriber vs a bare Nest controller
// on the same route, and (on Redis) the sidecar round trips dedupe costs per event.
import 'reflect-metadata';
import { CommunicationProtocolEnum, DaprServer, LogLevel } from '@dapr/dapr';
import { Body, Controller, Get, HttpCode, Injectable, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { performance } from 'node:perf_hooks';
import { DaprEvent, DaprSubscribe, EventHandledEvent, KugelCommsEvents, KugelCommsModule } from '../lib';
import * as path from 'node:path';
import { KafkaBroker } from '../test/brokers/kafka';
import { RabbitNode } from '../test/brokers/rabbitmq';
import { Daprd, DaprdOptions } from '../test/dapr/daprd';
import { freePort, waitUntil } from '../test/support/processes';
import { RedisServer } from '../test/support/redis';
import { median } from './support';

export interface SubscriberContenderResult {
  name: string;
  /** Median of the rounds: events handled per second, from the first delivery to the last. */
  eventsPerSec: number;
  /** CPU of this process (where every contender's app runs) per event, µs, median of rounds. */
  cpuUsPerEvent: number;
  rounds: number[];
}

/** The broker between publisher and subscribers. */
export type BenchBroker = 'redis-streams' | 'kafka' | 'rabbitmq';

export interface SubscriptionBenchResult {
  broker: BenchBroker;
  events: number;
  rounds: number;
  contenders: SubscriberContenderResult[];
  /** Measured on Redis Streams only (its state store is the dedupe store). */
  dedupe?: {
    eventsPerSec: number;
    /** Sidecar round trips per new event (claim + done mark). */
    callsPerNewEvent: number;
    /** Sidecar round trips per copy of a handled event (refused claim + done-mark read). */
    callsPerCopy: number;
    copiesSuppressed: number;
  };
}

/**
 * Counts deliveries of events numbered from `from` on and remembers when the first and the last
 * came (an earlier event delivered again, as Kafka may after a restart, is not counted).
 */
class Counter {
  count = 0;
  first = 0;
  last = 0;
  private from = 0;
  hit(n: unknown): void {
    if (typeof n !== 'number' || n < this.from) return;
    const now = performance.now();
    if (this.count === 0) this.first = now;
    this.count += 1;
    this.last = now;
  }
  reset(from: number): void {
    this.count = 0;
    this.from = from;
  }
}

const counters = { kugel: new Counter(), bare: new Counter(), sdk: new Counter(), dedupe: new Counter() };

@Injectable()
class KugelConsumer {
  @DaprSubscribe('pubsub', 'bench-kugel')
  onEvent(event: DaprEvent<{ n: number }>): void {
    counters.kugel.hit(event.data.n);
  }

  @DaprSubscribe('pubsub', 'bench-dedupe', { dedupe: { key: (e: DaprEvent<{ n: number }>) => `n-${e.data.n}` } })
  onDeduped(event: DaprEvent<{ n: number }>): void {
    counters.dedupe.hit(event.data.n);
  }
}

/** The kugel app's sidecar (dedupe writes to its state store); set before the app is created. */
let kugelSidecar = '';

@Module({
  imports: [
    KugelCommsModule.forRootAsync({
      useFactory: () => ({ dapr: { httpEndpoint: kugelSidecar, waitForSidecarMs: 0 } }),
    }),
  ],
  providers: [KugelConsumer],
})
class KugelBenchModule {}

/** What a Nest developer writes by hand: the subscription list and a POST route answering SUCCESS. */
@Controller()
class BareController {
  @Get('dapr/subscribe')
  list(): unknown {
    return [{ pubsubname: 'pubsub', topic: 'bench-bare', route: '/dapr/events/pubsub/bench-bare' }];
  }

  @Post('dapr/events/pubsub/bench-bare')
  @HttpCode(200)
  onEvent(@Body() body: { data?: { n?: number } }): unknown {
    counters.bare.hit(body?.data?.n);
    return { status: 'SUCCESS' };
  }
}

@Module({ controllers: [BareController] })
class BareBenchModule {}

interface Contender {
  name: string;
  topic: string;
  counter: Counter;
  daprd: Daprd;
}

/** Puts `count` events on `topic` with one bulk publish per 100 (before the subscriber's daprd runs). */
async function prepublish(publisher: Daprd, topic: string, count: number, from = 0): Promise<void> {
  for (let start = 0; start < count; start += 100) {
    const entries = Array.from({ length: Math.min(100, count - start) }, (_, i) => ({
      entryId: String(i),
      event: { n: from + start + i, kind: 'tranlog', total: 1280 },
      contentType: 'application/json',
    }));
    const res = await fetch(`${publisher.httpEndpoint}/v1.0-alpha1/publish/bulk/pubsub/${topic}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(entries),
    });
    if (res.status !== 204) throw new Error(`bulk publish to ${topic}: HTTP ${res.status} ${await res.text()}`);
  }
}

/** Starts the contender's daprd on events `from`… already in the broker and times the drain. */
async function drain(c: Contender, events: number, from: number): Promise<{ perSec: number; cpuUs: number }> {
  c.counter.reset(from);
  const cpu0 = process.cpuUsage();
  await c.daprd.startProcess();
  await waitUntil(async () => c.counter.count >= events, 120_000, `${c.name}: ${events} events`, 5).catch(
    (error: Error) => {
      throw new Error(
        `${error.message} (${c.counter.count} counted)\n--- its daprd ---\n${c.daprd.output.slice(-15).join('\n')}`,
      );
    },
  );
  const cpu = process.cpuUsage(cpu0);
  const perSec = ((c.counter.count - 1) * 1000) / Math.max(1, c.counter.last - c.counter.first);
  await c.daprd.stop();
  return { perSec, cpuUs: (cpu.user + cpu.system) / c.counter.count };
}

/**
 * Subscribes `c` once while its daprd runs (an event published until one arrives), then stops the
 * daprd: the subscription (Kafka's consumer group, RabbitMQ's durable queue) exists from then on,
 * and events published while the daprd is down wait for the next drain.
 */
async function prime(publisher: Daprd, c: Contender): Promise<void> {
  c.counter.reset(-1);
  await c.daprd.startProcess();
  const deadline = performance.now() + 90_000;
  while (c.counter.count === 0) {
    if (performance.now() > deadline) throw new Error(`${c.name}: no delivery within 90 s of its daprd's start`);
    await fetch(`${publisher.httpEndpoint}/v1.0/publish/pubsub/${c.topic}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ n: -1 }),
    });
    await new Promise((r) => setTimeout(r, 1_000));
  }
  await c.daprd.stop();
}

/** The broker, started for the run, and how a daprd reaches it. */
async function startBroker(broker: BenchBroker): Promise<{
  sidecar: Pick<DaprdOptions, 'components' | 'componentsDir' | 'redisHost' | 'kafkaBrokers' | 'rabbitmqUrl'>;
  stop: () => Promise<void>;
}> {
  if (broker === 'kafka') {
    const kafka = await KafkaBroker.start();
    return { sidecar: { components: 'kafka', kafkaBrokers: kafka.bootstrap }, stop: () => kafka.dispose() };
  }
  if (broker === 'rabbitmq') {
    const rabbit = await RabbitNode.start();
    return {
      sidecar: { componentsDir: path.join(__dirname, 'components', 'rabbitmq-durable'), rabbitmqUrl: rabbit.url },
      stop: () => rabbit.dispose(),
    };
  }
  const redis = await RedisServer.start();
  return { sidecar: { components: 'redis-streams', redisHost: redis.host }, stop: () => redis.stop() };
}

export async function benchSubscriptions(o: {
  events: number;
  rounds: number;
  broker?: BenchBroker;
}): Promise<SubscriptionBenchResult> {
  const broker = o.broker ?? 'redis-streams';
  const parts = await startBroker(broker);
  const publisher = await Daprd.start({ ...parts.sidecar, appId: 'kugel-bench-pub' });
  const kugelPort = await freePort();
  const barePort = await freePort();
  const sdkPort = await freePort();
  const daprdFor = (appId: string, appPort: number) => Daprd.create({ ...parts.sidecar, appId, appPort });
  const contenders: Contender[] = [
    {
      name: 'kugel @DaprSubscribe',
      topic: 'bench-kugel',
      counter: counters.kugel,
      daprd: await daprdFor('kugel-bench-k', kugelPort),
    },
    {
      name: '@dapr/dapr DaprServer',
      topic: 'bench-sdk',
      counter: counters.sdk,
      daprd: await daprdFor('kugel-bench-s', sdkPort),
    },
    {
      name: 'bare Nest controller',
      topic: 'bench-bare',
      counter: counters.bare,
      daprd: await daprdFor('kugel-bench-b', barePort),
    },
  ];
  kugelSidecar = contenders[0].daprd.httpEndpoint;
  const kugel = await NestFactory.create(KugelBenchModule, { logger: ['error', 'fatal'] });
  const bare = await NestFactory.create<NestExpressApplication>(BareBenchModule, { logger: ['error', 'fatal'] });
  // The hand-written controller must parse CloudEvents itself.
  bare.useBodyParser('json', { type: ['application/json', 'application/cloudevents+json'] });
  await kugel.listen(kugelPort, '127.0.0.1');
  await bare.listen(barePort, '127.0.0.1');
  const sdk = new DaprServer({
    serverHost: '127.0.0.1',
    serverPort: String(sdkPort),
    communicationProtocol: CommunicationProtocolEnum.HTTP,
    clientOptions: { daprHost: '127.0.0.1', daprPort: String(contenders[1].daprd.httpPort) },
    logger: { level: LogLevel.Error },
  });
  await sdk.pubsub.subscribe('pubsub', 'bench-sdk', async (data: { n?: number }) => {
    counters.sdk.hit(data?.n);
  });
  // DaprServer.start() waits for its sidecar: start both together (the daprd is stopped again below).
  await Promise.all([sdk.start(), contenders[1].daprd.startProcess()]);
  await contenders[1].daprd.stop();

  const perSec = contenders.map(() => [] as number[]);
  const cpu = contenders.map(() => [] as number[]);
  // Every drain publishes a fresh range of `n`: what a broker delivers again is not counted.
  let next = 0;
  const batch = async (c: Contender, count: number): Promise<{ perSec: number; cpuUs: number }> => {
    const from = next;
    next += count;
    await prepublish(publisher, c.topic, count, from);
    return drain(c, count, from);
  };
  try {
    // Subscribed once, a warm-up drain each, then interleaved rounds (the order rotates).
    for (const c of contenders) {
      await prime(publisher, c);
      await batch(c, Math.min(500, o.events));
    }
    for (let r = 0; r < o.rounds; r += 1) {
      for (let k = 0; k < contenders.length; k += 1) {
        const i = (k + r) % contenders.length;
        const run = await batch(contenders[i], o.events);
        perSec[i].push(run.perSec);
        cpu[i].push(run.cpuUs);
      }
      process.stdout.write(`  subscriptions (${broker}): round ${r + 1}/${o.rounds} done\n`);
    }
    const result = {
      broker,
      events: o.events,
      rounds: o.rounds,
      contenders: contenders.map((c, i) => ({
        name: c.name,
        eventsPerSec: median(perSec[i]),
        cpuUsPerEvent: median(cpu[i]),
        rounds: perSec[i],
      })),
    };
    if (broker !== 'redis-streams') return result;

    // dedupe: new events (claim + done mark), then the same events again (copies).
    const handled: EventHandledEvent[] = [];
    const off = kugel.get(KugelCommsEvents).eventHandled.on((e) => {
      if (e.topic === 'bench-dedupe') handled.push(e);
    });
    const dedupeDaprd = contenders[0].daprd;
    const dedupeContender = {
      name: 'kugel + dedupe',
      topic: 'bench-dedupe',
      counter: counters.dedupe,
      daprd: dedupeDaprd,
    };
    const from = next;
    await prepublish(publisher, 'bench-dedupe', o.events, from);
    const dedupeRun = await drain(dedupeContender, o.events, from);
    await prepublish(publisher, 'bench-dedupe', o.events, from); // the same n: copies
    await dedupeDaprd.startProcess();
    await waitUntil(async () => handled.length >= 2 * o.events, 120_000, 'copies answered', 20);
    await dedupeDaprd.stop();
    off();
    const fresh = handled.filter((e) => e.reason === 'handled');
    const copies = handled.filter((e) => e.reason === 'duplicate');
    const mean = (list: EventHandledEvent[]) => list.reduce((s, e) => s + e.dedupeCalls, 0) / Math.max(1, list.length);

    return {
      ...result,
      dedupe: {
        eventsPerSec: dedupeRun.perSec,
        callsPerNewEvent: mean(fresh),
        callsPerCopy: mean(copies),
        copiesSuppressed: copies.length,
      },
    };
  } finally {
    await sdk.stop().catch(() => undefined);
    await kugel.close();
    await bare.close();
    for (const c of contenders) await c.daprd.dispose();
    await publisher.dispose();
    await parts.stop();
  }
}
