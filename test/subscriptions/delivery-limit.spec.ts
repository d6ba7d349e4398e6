import { Injectable } from '@nestjs/common';
import { DaprEvent, DaprSubscribe } from '../../lib';
import { startTestServer, TestServer } from '../support/test-server';
import { cloudEvent, PLATFORMS, post, startSubscriberApp, SubscriberApp } from './support/subscriber-app';

/** Handlers that always fail: a poison event. */
@Injectable()
class Poisoned {
  runs = 0;

  @DaprSubscribe('pubsub', 'bounded', { maxDeliveries: 3, deadLetterTopic: 'bounded-dlq' })
  onBounded(): void {
    this.runs++;
    throw new Error('the ledger refuses this entry');
  }

  /** The default: bounded only because the sidecar says `kafka` is a Kafka component. */
  @DaprSubscribe('kafka', 'orders', { deadLetterTopic: 'orders-dlq' })
  onKafka(): void {
    this.runs++;
    throw new Error('always fails');
  }

  @DaprSubscribe('redis', 'orders', { deadLetterTopic: 'orders-dlq' })
  onRedis(event: DaprEvent): void {
    this.runs++;
    throw new Error(`always fails: ${event.id}`);
  }

  @DaprSubscribe('kafka', 'batches', { bulk: true, maxDeliveries: 2, deadLetterTopic: 'batches-dlq' })
  onBatch(events: DaprEvent<{ ok?: boolean }>[]): Array<'SUCCESS' | 'RETRY'> {
    return events.map((e) => (e.data?.ok ? 'SUCCESS' : 'RETRY'));
  }
}

describe.each(PLATFORMS)('a RETRY that cannot block for ever (maxDeliveries), on %s', (platform) => {
  let sidecar: TestServer;
  let sub: SubscriberApp;

  beforeAll(async () => {
    // The sidecar's metadata: which kind each pub/sub component is (daprd's `GET /v1.0/metadata`).
    sidecar = await startTestServer((req, res) => {
      if (req.url !== '/v1.0/metadata') return res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id: 'ledger',
          components: [
            { name: 'kafka', type: 'pubsub.kafka', version: 'v1', capabilities: [] },
            { name: 'redis', type: 'pubsub.redis', version: 'v1', capabilities: [] },
          ],
        }),
      );
    });
    sub = await startSubscriberApp({
      platform,
      providers: [Poisoned],
      options: { dapr: { httpEndpoint: sidecar.url, waitForSidecarMs: 0 } },
    });
  });
  afterAll(async () => {
    await sub.close();
    await sidecar.close();
  });

  it('answers RETRY, RETRY, then DROP (the dead-letter topic keeps it) with reason retries-exhausted', async () => {
    const body = cloudEvent('poison-1', { n: 1 }, 'bounded');
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push((await post(`${sub.url}/dapr/events/pubsub/bounded`, body)).body.status);
    expect(answers).toEqual(['RETRY', 'RETRY', 'DROP']);
    expect(sub.handled.filter((e) => e.id === 'poison-1').map((e) => e.reason)).toEqual([
      'failed',
      'failed',
      'retries-exhausted',
    ]);
  });

  it('on a Kafka component (as the sidecar names it) with a dead-letter topic, DROP on the tenth failed delivery', async () => {
    const body = cloudEvent('poison-2', {}, 'orders', { pubsubname: 'kafka' });
    const answers = [];
    for (let i = 0; i < 10; i++) answers.push((await post(`${sub.url}/dapr/events/kafka/orders`, body)).body.status);
    expect(answers).toEqual([...Array(9).fill('RETRY'), 'DROP']);
    expect(sidecar.requests.filter((r) => r.url === '/v1.0/metadata').length).toBeGreaterThanOrEqual(1);
  });

  it('on another broker, no bound by default: still RETRY after ten failed deliveries', async () => {
    const body = cloudEvent('poison-3', {}, 'orders', { pubsubname: 'redis' });
    const answers = [];
    for (let i = 0; i < 11; i++) answers.push((await post(`${sub.url}/dapr/events/redis/orders`, body)).body.status);
    expect(answers).toEqual(Array(11).fill('RETRY'));
  });

  it('bulk: each entry is counted by its event id; only the failing one is dropped', async () => {
    const entries = (okFirst: boolean) =>
      JSON.stringify({
        id: 'batch',
        topic: 'batches',
        pubsubname: 'kafka',
        type: 'com.dapr.event.sent',
        entries: [
          { entryId: 'a', event: JSON.parse(cloudEvent('bulk-ok', { ok: okFirst }, 'batches')), contentType: 'application/cloudevents+json' },
          { entryId: 'b', event: JSON.parse(cloudEvent('bulk-poison', {}, 'batches')), contentType: 'application/cloudevents+json' },
        ],
      });
    const url = `${sub.url}/dapr/events/kafka/batches`;
    const first = await post(url, entries(false), { 'content-type': 'application/json' });
    const second = await post(url, entries(true), { 'content-type': 'application/json' });
    expect(first.body.statuses).toEqual([
      { entryId: 'a', status: 'RETRY' },
      { entryId: 'b', status: 'RETRY' },
    ]);
    expect(second.body.statuses).toEqual([
      { entryId: 'a', status: 'SUCCESS' },
      { entryId: 'b', status: 'DROP' },
    ]);
  });
});
