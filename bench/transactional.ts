// The transactional consumer's cost per event on PostgreSQL, against plain dedupe on the same
// store: events handled per second and sidecar round trips per event (the handler's own read and
// write included), through Redis Streams and a real daprd whose state store is PostgreSQL.
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { performance } from 'node:perf_hooks';
import {
  DaprClientHelper,
  DaprEvent,
  DaprSubscribe,
  EventHandledEvent,
  KugelCommsEvents,
  KugelCommsModule,
} from '../lib';
import { Daprd } from '../test/dapr/daprd';
import { waitForSubscriptions } from '../test/dapr/subscription-stack';
import { PostgresServer } from '../test/support/postgres';
import { freePort, waitUntil } from '../test/support/processes';
import { RedisServer } from '../test/support/redis';

export interface TransactionalLine {
  name: string;
  eventsPerSec: number;
  /** Sidecar round trips per event: the handler's read and write (plain) or read (transactional), and the dedupe's. */
  callsPerEvent: number;
}

export interface TransactionalBenchResult {
  events: number;
  plain: TransactionalLine;
  transactional: TransactionalLine;
}

type Entry = { n: number };

@Injectable()
class Counters {
  constructor(private readonly dapr: DaprClientHelper) {}

  /** Plain dedupe: the effect is a write of its own, then the done mark (two writes). */
  @DaprSubscribe<Entry>('pubsub', 'bench-plain', { dedupe: { key: (e) => `p-${e.data.n}` } })
  async plain(event: DaprEvent<Entry>): Promise<void> {
    const key = `plain|${event.data.n}`;
    const current = await this.dapr.detailed.getState<number>('statestore', key);
    if (!current.ok) throw new Error(current.error);
    const saved = await this.dapr.detailed.saveState(
      'statestore',
      key,
      (current.value ?? 0) + 1,
      current.etag ? { etag: current.etag } : {},
    );
    if (!saved.ok) throw new Error(saved.error);
  }

  /** Transactional: the effect and the done mark in one transaction. */
  @DaprSubscribe<Entry>('pubsub', 'bench-tx', { dedupe: { key: (e) => `t-${e.data.n}`, transactional: true } })
  async transactional(event: DaprEvent<Entry>): Promise<void> {
    const key = `tx|${event.data.n}`;
    const current = await this.dapr.detailed.getState<number>('statestore', key);
    if (!current.ok) throw new Error(current.error);
    event.transaction!.save(key, (current.value ?? 0) + 1, current.etag ? { etag: current.etag } : {});
  }
}

let sidecar = '';

@Module({
  imports: [
    KugelCommsModule.forRootAsync({
      useFactory: () => ({ dapr: { httpEndpoint: sidecar, waitForSidecarMs: 0, breaker: { resetTimeoutMs: 1_000 } } }),
    }),
  ],
  providers: [Counters],
})
class TransactionalBenchModule {}

export async function benchTransactional(o: { events: number }): Promise<TransactionalBenchResult> {
  const postgres = await PostgresServer.start();
  const redis = await RedisServer.start();
  const servers = { postgresConnection: postgres.connectionString, redisHost: redis.host };
  const publisher = await Daprd.start({ components: 'postgres-streams', ...servers, appId: 'bench-tx-publisher' });
  const appPort = await freePort();
  const consumer = await Daprd.create({ components: 'postgres-streams', ...servers, appPort, appId: 'bench-tx' });
  sidecar = consumer.httpEndpoint;
  const app = await NestFactory.create(TransactionalBenchModule, { logger: ['error'] });
  try {
    const handled: EventHandledEvent[] = [];
    let calls = 0;
    const events = app.get(KugelCommsEvents);
    events.eventHandled.on((e) => handled.push(e));
    events.requestCompleted.on((e) => {
      if (e.client === 'dapr') calls += 1;
    });
    await app.listen(appPort, '127.0.0.1');
    await consumer.startProcess();
    await waitForSubscriptions(consumer, 2);

    const run = async (topic: string, name: string): Promise<TransactionalLine> => {
      handled.length = 0;
      calls = 0;
      for (let start = 0; start < o.events; start += 100) {
        const entries = Array.from({ length: Math.min(100, o.events - start) }, (_, i) => ({
          entryId: String(i),
          event: { n: start + i },
          contentType: 'application/json',
        }));
        const res = await fetch(`${publisher.httpEndpoint}/v1.0-alpha1/publish/bulk/pubsub/${topic}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(entries),
        });
        if (res.status !== 204) throw new Error(`bulk publish answered ${res.status}`);
      }
      const first = performance.now();
      await waitUntil(
        async () => handled.filter((e) => e.topic === topic && e.status === 'SUCCESS').length >= o.events,
        120_000,
        `${o.events} events on ${topic}`,
        10,
      );
      const ms = performance.now() - first;
      return { name, eventsPerSec: (o.events / ms) * 1000, callsPerEvent: calls / o.events };
    };
    // Warm both paths (connections, the dedupe store's one probe), then measure.
    const plain = await run('bench-plain', 'dedupe, the effect a write of its own');
    const transactional = await run('bench-tx', 'dedupe.transactional');
    return { events: o.events, plain, transactional };
  } finally {
    await app.close();
    await consumer.dispose();
    await publisher.dispose();
    await redis.dispose();
    await postgres.dispose();
  }
}

if (require.main === module) {
  const events = Number(process.env.BENCH_TX_EVENTS ?? 1_000);
  benchTransactional({ events }).then(
    (r) => {
      for (const line of [r.plain, r.transactional]) {
        console.log(
          `${line.name}: ${line.eventsPerSec.toFixed(0)} events/s, ${line.callsPerEvent.toFixed(2)} sidecar round trips per event`,
        );
      }
      console.log(
        `transactional / plain throughput: ${(r.transactional.eventsPerSec / r.plain.eventsPerSec).toFixed(2)}×`,
      );
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
