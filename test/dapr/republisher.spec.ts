import { Controller, Get, INestApplication, Injectable, Module } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import {
  CircuitState,
  DaprClientHelper,
  EventRepublisher,
  EventRepublishers,
  InjectRepublisher,
  KugelCommsModule,
  RepublisherHealthIndicator,
} from '../../lib';
import { InMemoryRepublishSource } from '../../lib/testing';
import { waitUntil } from '../support/processes';
import { Daprd } from './daprd';
import { startSubscriber, Subscriber } from './subscriber';

const MAX_AGE_MS = 3_000;

/** The app's own database of events to deliver (here the in-memory source), one provider. */
@Injectable()
class OrdersOutbox extends InMemoryRepublishSource {}

@Module({ providers: [OrdersOutbox], exports: [OrdersOutbox] })
class OrdersModule {}

@Injectable()
class Probe {
  constructor(@InjectRepublisher('orders') readonly republisher: EventRepublisher) {}
}

@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly republishers: RepublisherHealthIndicator,
  ) {}

  @Get('backlog')
  @HealthCheck()
  backlog() {
    return this.health.check([() => this.republishers.isHealthy('republishers')]);
  }
}

/**
 * A republisher registered the Nest way (`forRepublisherAsync` over one of the app's providers)
 * against a real daprd whose pub/sub delivers to a subscriber: the sidecar dies, the breaker opens
 * and the passes leave the pub/sub alone; health turns 503 when the backlog is too old; the
 * sidecar comes back and everything is republished under its own id.
 */
describe('republisher on a real daprd: breaker, backlog health, metrics, registration', () => {
  let subscriber: Subscriber;
  let daprd: Daprd;
  let app: INestApplication;
  let base: string;
  let outbox: OrdersOutbox;
  const registry = new Registry();

  beforeAll(async () => {
    subscriber = await startSubscriber('orders', '/orders');
    daprd = await Daprd.start({ appPort: subscriber.server.port, appId: 'kugel-republisher' });
    const moduleRef = await Test.createTestingModule({
      imports: [
        TerminusModule,
        KugelCommsModule.forRoot({
          dapr: {
            httpEndpoint: daprd.httpEndpoint,
            waitForSidecarMs: 5000,
            retries: 0,
            timeoutMs: 1000,
            breaker: { failureThreshold: 3, resetTimeoutMs: 1500 },
          },
          metrics: { enabled: true, registry },
        }),
        KugelCommsModule.forRepublisherAsync('orders', {
          imports: [OrdersModule],
          inject: [OrdersOutbox],
          useFactory: (source: OrdersOutbox) => ({
            source,
            intervalMs: 200,
            minAgeMs: 0,
            concurrency: 2,
            backoff: { maxDelayMs: 400 },
            maxUndeliveredAgeMs: MAX_AGE_MS,
          }),
        }),
        OrdersModule,
      ],
      controllers: [HealthController],
      providers: [Probe],
    }).compile();
    app = moduleRef.createNestApplication({ logger: ['error', 'fatal'] });
    app.enableShutdownHooks();
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    outbox = app.get(OrdersOutbox);
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await daprd?.dispose();
    await subscriber?.server.close();
  });

  const health = async () => {
    const res = await fetch(`${base}/health/backlog`);
    return { status: res.status, body: (await res.json()) as any };
  };

  it('is the one the registry holds, injected by name', () => {
    const republisher = app.get(Probe).republisher;
    expect(app.get(EventRepublishers).get('orders')).toBe(republisher);
    expect(republisher.name).toBe('orders');
  });

  it('leaves the pub/sub alone while its breaker is open, reports the backlog, republishes when the sidecar is back', async () => {
    const dapr = app.get(DaprClientHelper);
    const breaker = dapr.breakerFor('pubsub', 'pubsub');
    const calls: string[] = [];
    const republisher = app.get(Probe).republisher;
    republisher.onPass.on((p) => calls.push(`${p.published}/${p.failed}/${p.skipped}`));

    await daprd.kill();
    // What a failed publish leaves in the app's database: the events, each with its own id.
    for (let n = 1; n <= 6; n += 1) {
      outbox.add({ eventId: `order-${n}`, pubsub: 'pubsub', topic: 'orders', data: { n }, createdAt: Date.now() }, [
        'billing',
      ]);
    }
    await waitUntil(async () => breaker.state === CircuitState.Open, 10_000, 'the pub/sub breaker to open');
    const attemptsWhenOpened = outbox.list().reduce((sum, r) => sum + r.attempts, 0);
    // Until the breaker opened: its threshold (3), plus at most one more already in flight (concurrency 2).
    expect(attemptsWhenOpened).toBeGreaterThanOrEqual(3);
    expect(attemptsWhenOpened).toBeLessThanOrEqual(4);
    // While open, passes skip without calling the sidecar or marking anything.
    await waitUntil(async () => calls.includes('0/0/6'), 5_000, 'a pass that skipped everything');
    // The backlog gets older than allowed: 503 with the figures.
    await waitUntil(async () => (await health()).status === 503, 15_000, 'the backlog health to turn 503');
    const down = (await health()).body;
    expect(down.status).toBe('error');
    expect(down.error.republishers).toMatchObject({
      status: 'down',
      message: 'undelivered events older than allowed: orders',
      republishers: {
        orders: {
          undelivered: 6,
          oldestUndeliveredAgeMs: expect.any(Number),
          maxUndeliveredAgeMs: MAX_AGE_MS,
          running: expect.any(Boolean),
          lastPass: { found: 6 },
        },
      },
    });
    expect(down.error.republishers.republishers.orders.oldestUndeliveredAgeMs).toBeGreaterThan(MAX_AGE_MS);

    await daprd.startProcess();
    await waitUntil(async () => subscriber.events.length >= 6, 20_000, 'every event republished');
    const ids = subscriber.events.map((e) => e.id as string).sort();
    expect([...new Set(ids)]).toEqual(['order-1', 'order-2', 'order-3', 'order-4', 'order-5', 'order-6']);
    for (const e of subscriber.events) expect(e.data).toEqual({ n: Number(String(e.id).slice('order-'.length)) });
    // Published is not delivered: until the consumer calls back, the backlog stays.
    expect(outbox.list().every((r) => r.status === 'published')).toBe(true);
    for (let n = 1; n <= 6; n += 1) outbox.recordDelivery(`order-${n}`, { service: 'billing', status: 'received' });
    const up = await health();
    expect(up.status).toBe(200);
    expect(up.body.info.republishers.republishers.orders).toMatchObject({
      undelivered: 0,
      oldestUndeliveredAgeMs: null,
    });

    const text = await registry.metrics();
    expect(text).toMatch(/kugel_comms_republish_events_total\{republisher="orders",outcome="published"\} ([6-9]|\d\d)/);
    expect(text).toMatch(/kugel_comms_republish_events_total\{republisher="orders",outcome="failed"\} [1-9]\d*\n/);
    expect(text).toMatch(/kugel_comms_republish_events_total\{republisher="orders",outcome="skipped"\} \d+/);
    expect(text).toContain('kugel_comms_republish_undelivered_events{republisher="orders"} 0');
    expect(text).toContain('kugel_comms_republish_oldest_undelivered_age_seconds{republisher="orders"} 0');
  }, 120_000);

  it('stops with the application: no pass scheduled afterwards', async () => {
    const republisher = app.get(Probe).republisher;
    expect(republisher.status().nextPassAt).toEqual(expect.any(Number));
    await app.close();
    expect(republisher.status()).toMatchObject({ running: false, nextPassAt: undefined });
    await expect(republisher.runNow()).resolves.toMatchObject({ error: 'the republisher is stopped' });
  });
});
