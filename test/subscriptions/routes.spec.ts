import { Body, Controller, Injectable, Post } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { DaprEvent, DaprSubscribe, DropEvent, EventReceivedEvent, HttpClientHelper, KugelCommsEvents } from '../../lib';
import { startTestServer, TestServer } from '../support/test-server';
import { cloudEvent, PLATFORMS, post, startSubscriberApp, SubscriberApp } from './support/subscriber-app';

const MAX_BODY = 2_048;
const TIMEOUT_MS = 300;
const ODD_TOPIC = 'orders/v1 β';

@Injectable()
class Recorder {
  readonly events: DaprEvent[] = [];
  readonly batches: DaprEvent[][] = [];
  /** How the `lookups` handler's peer call ended, and the signal's state then. */
  lookup?: { error: unknown; aborted: boolean; reason: unknown };

  constructor(private readonly http: HttpClientHelper) {}

  @DaprSubscribe('pubsub', 'orders', { deadLetterTopic: 'orders-dlq' })
  async onOrder(event: DaprEvent<{ sleepMs?: number; fail?: boolean; drop?: boolean }>): Promise<void> {
    this.events.push(event);
    if (event.data?.sleepMs) await sleep(event.data.sleepMs);
    if (event.data?.drop) throw new DropEvent('not for us');
    if (event.data?.fail) throw new Error('the report store is down');
  }

  @DaprSubscribe('pubsub', 'batches', { bulk: true, deadLetterTopic: 'batches-dlq' })
  onBatch(events: DaprEvent[]): void {
    this.batches.push(events);
  }

  @DaprSubscribe('pubsub', 'raw', {
    rawPayload: true,
    metadata: { priority: 5, ordered: true },
    deadLetterTopic: 'raw-dlq',
  })
  onRaw(event: DaprEvent<Buffer>): void {
    this.events.push(event);
  }

  @DaprSubscribe('pubsub', ODD_TOPIC, { deadLetterTopic: 'odd-dlq' })
  onOdd(event: DaprEvent): void {
    this.events.push(event);
  }

  /** Calls a peer that never answers, handing the call the event's signal. */
  @DaprSubscribe('pubsub', 'lookups')
  async onLookup(event: DaprEvent): Promise<void> {
    this.events.push(event);
    try {
      await this.http.getServiceClient('stalling').get('/items', { signal: event.signal });
    } catch (error) {
      this.lookup = { error, aborted: event.signal?.aborted ?? false, reason: event.signal?.reason };
      throw error;
    }
  }
}

/** The app's own route: how it parses must not change. */
@Controller('own')
class OwnController {
  @Post()
  echo(@Body() body: unknown): unknown {
    return { received: body ?? null };
  }
}

const CE = { 'content-type': 'application/cloudevents+json' };

/** A POST whose body is streamed in chunks, so no Content-Length announces its size. */
async function postChunked(url: string, body: string): Promise<{ status: number; body: any }> {
  const bytes = Buffer.from(body);
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < bytes.length; i += 512) controller.enqueue(bytes.subarray(i, i + 512));
      controller.close();
    },
  });
  const res = await fetch(url, { method: 'POST', headers: CE, body: stream, duplex: 'half' } as RequestInit);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
const JSON_TYPE = { 'content-type': 'application/json' };

/** Polls `check` every 20 ms for up to 5 s. */
async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 250 && !check(); i++) await sleep(20);
  expect(check()).toBe(true);
}

describe.each(PLATFORMS)('subscription routes on %s (no daprd: requests straight to the app)', (platform) => {
  let app: SubscriberApp;
  let recorder: Recorder;
  let registry: Registry;
  const received: EventReceivedEvent[] = [];
  const route = (topic = 'orders') => `${app.url}/dapr/events/pubsub/${encodeURIComponent(topic)}`;
  const calls = () => recorder.events.length + recorder.batches.length;

  let stalling: TestServer;

  beforeAll(async () => {
    registry = new Registry();
    // A peer that takes requests and never answers (the handler's call can only end by its signal).
    stalling = await startTestServer(() => new Promise(() => undefined));
    app = await startSubscriberApp({
      platform,
      providers: [Recorder],
      controllers: [OwnController],
      options: {
        subscriptions: { maxBodyBytes: MAX_BODY, handlerTimeoutMs: TIMEOUT_MS },
        services: { stalling: { baseUrl: stalling.url, timeoutMs: 60_000, retries: 0 } },
        metrics: { enabled: true, registry },
      },
    });
    recorder = app.app.get(Recorder);
    app.app.get(KugelCommsEvents).eventReceived.on((e) => received.push(e));
  });
  afterAll(async () => {
    await app?.close();
    stalling?.server.closeAllConnections();
    await stalling?.close();
  });

  it('GET /dapr/subscribe answers exactly 200 with the subscriptions, metadata values as strings', async () => {
    const res = await fetch(`${app.url}/dapr/subscribe`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual([
      { pubsubname: 'pubsub', topic: 'orders', route: '/dapr/events/pubsub/orders', deadLetterTopic: 'orders-dlq' },
      {
        pubsubname: 'pubsub',
        topic: 'batches',
        route: '/dapr/events/pubsub/batches',
        deadLetterTopic: 'batches-dlq',
        bulkSubscribe: { enabled: true, maxMessagesCount: 100, maxAwaitDurationMs: 1000 },
      },
      {
        pubsubname: 'pubsub',
        topic: 'raw',
        route: '/dapr/events/pubsub/raw',
        deadLetterTopic: 'raw-dlq',
        metadata: { priority: '5', ordered: 'true', rawPayload: 'true' },
      },
      {
        pubsubname: 'pubsub',
        topic: ODD_TOPIC,
        route: `/dapr/events/pubsub/${encodeURIComponent(ODD_TOPIC)}`,
        deadLetterTopic: 'odd-dlq',
      },
      { pubsubname: 'pubsub', topic: 'lookups', route: '/dapr/events/pubsub/lookups' },
    ]);
  });

  it('delivers a CloudEvent and answers {"status":"SUCCESS"}', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const res = await post(route(), cloudEvent('ok-1', { n: 1 }), { ...CE, traceparent });
    expect(res).toEqual({ status: 200, body: { status: 'SUCCESS' } });
    expect(recorder.events.at(-1)).toMatchObject({ id: 'ok-1', data: { n: 1 }, topic: 'orders', traceparent });
    expect(received.at(-1)).toEqual({
      pubsub: 'pubsub',
      topic: 'orders',
      handler: 'Recorder.onOrder',
      id: 'ok-1',
      bulk: false,
    });
  });

  it('answers a handler that throws RETRY, and one that throws DropEvent DROP', async () => {
    expect(await post(route(), cloudEvent('fail-1', { fail: true }))).toEqual({
      status: 200,
      body: { status: 'RETRY' },
    });
    expect(await post(route(), cloudEvent('drop-1', { drop: true }))).toEqual({
      status: 200,
      body: { status: 'DROP' },
    });
    expect(app.handled.filter((e) => e.id === 'fail-1' || e.id === 'drop-1').map((e) => [e.reason, e.error])).toEqual([
      ['failed', 'the report store is down'],
      ['dropped', 'not for us'],
    ]);
  });

  it('serves a topic whose name needs percent-encoding', async () => {
    const res = await post(route(ODD_TOPIC), cloudEvent('odd-1', {}, ODD_TOPIC));
    expect(res).toEqual({ status: 200, body: { status: 'SUCCESS' } });
    expect(recorder.events.at(-1)).toMatchObject({ id: 'odd-1', topic: ODD_TOPIC });
  });

  it('gives a raw-payload handler the message bytes', async () => {
    const bytes = Buffer.from('{"legacy":true}');
    const res = await post(
      route('raw'),
      cloudEvent('raw-1', undefined, 'raw', { data_base64: bytes.toString('base64') }),
    );
    expect(res).toEqual({ status: 200, body: { status: 'SUCCESS' } });
    const data = recorder.events.at(-1)!.data as Buffer;
    expect(Buffer.isBuffer(data) && data.equals(bytes)).toBe(true);
  });

  it('answers a bulk delivery per entry; an entry that is not an event is dropped', async () => {
    const body = JSON.stringify({
      id: 'b',
      topic: 'batches',
      pubsubname: 'pubsub',
      type: 'com.dapr.event.sent.bulk',
      entries: [
        {
          entryId: 'e1',
          event: JSON.parse(cloudEvent('b-1', { n: 1 }, 'batches')),
          contentType: 'application/cloudevents+json',
        },
        { entryId: 'e2', event: { data: 'no id' }, contentType: 'application/cloudevents+json' },
        {
          entryId: 'e3',
          event: JSON.parse(cloudEvent('b-2', { n: 2 }, 'batches')),
          contentType: 'application/cloudevents+json',
        },
      ],
    });
    expect(await post(route('batches'), body, JSON_TYPE)).toEqual({
      status: 200,
      body: {
        statuses: [
          { entryId: 'e1', status: 'SUCCESS' },
          { entryId: 'e2', status: 'DROP' },
          { entryId: 'e3', status: 'SUCCESS' },
        ],
      },
    });
    const batch = recorder.batches.at(-1)!;
    expect(batch.map((e) => e.id)).toEqual(['b-1', 'b-2']);
    // One handler call, one signal for its events.
    expect(batch[0].signal).toBeInstanceOf(AbortSignal);
    expect(batch[1].signal).toBe(batch[0].signal);
  });

  it('answers a handler still running after the timeout RETRY', async () => {
    const res = await post(route(), cloudEvent('slow-1', { sleepMs: TIMEOUT_MS + 300 }));
    expect(res).toEqual({ status: 200, body: { status: 'RETRY' } });
    expect(app.handled.find((e) => e.id === 'slow-1')).toMatchObject({
      status: 'RETRY',
      reason: 'timeout',
      handlerRan: true,
    });
  });

  it("aborts the event's signal at the timeout: a peer call given it stops, its socket closed", async () => {
    const res = await post(route('lookups'), cloudEvent('lookup-1', {}, 'lookups'));
    expect(res).toEqual({ status: 200, body: { status: 'RETRY' } });
    await waitFor(() => recorder.lookup !== undefined);
    expect(recorder.lookup!.aborted).toBe(true);
    expect(recorder.lookup!.reason).toMatchObject({ name: 'TimeoutError' });
    expect(recorder.lookup!.error).toMatchObject({ code: 'ERR_CANCELED' });
    expect(stalling.requests.filter((r) => r.url === '/items')).toHaveLength(1);
    await waitFor(() => stalling.openConnections === 0);
  });

  it('leaves the signal of a handler that ended in time alone, and out of the event as data', async () => {
    const res = await post(route(), cloudEvent('quick-1', {}));
    expect(res).toEqual({ status: 200, body: { status: 'SUCCESS' } });
    const event = recorder.events.find((e) => e.id === 'quick-1')!;
    expect(event.signal).toBeInstanceOf(AbortSignal);
    expect(event.signal!.aborted).toBe(false);
    expect(Object.keys(event)).not.toContain('signal');
    expect(JSON.parse(JSON.stringify(event))).not.toHaveProperty('signal');
  });

  describe('bad input: each gets its documented answer and the handler is not called', () => {
    const big = cloudEvent('big-1', { pad: 'x'.repeat(MAX_BODY) });
    const cases: Array<[string, () => Promise<{ status: number; body: any }>, number, unknown]> = [
      ['not JSON', () => post(route(), '{"id": "broken', CE), 200, { status: 'DROP' }],
      ['a JSON array', () => post(route(), '[1,2]', CE), 200, { status: 'DROP' }],
      ['no id', () => post(route(), JSON.stringify({ specversion: '1.0', data: {} }), CE), 200, { status: 'DROP' }],
      ['an empty body', () => post(route(), '', CE), 200, { status: 'DROP' }],
      [
        'a wrong content type',
        () => post(route(), cloudEvent('t-1', {}), { 'content-type': 'text/plain' }),
        415,
        expect.anything(),
      ],
      ['no content type', () => post(route(), Buffer.from(cloudEvent('t-2', {})), {}), 415, expect.anything()],
      ['a body over the size limit (dropped: it can never fit)', () => post(route(), big, CE), 200, { status: 'DROP' }],
      [
        'a chunked body over the size limit (no Content-Length)',
        () => postChunked(route(), big),
        200,
        { status: 'DROP' },
      ],
      ['an unknown route', () => post(route('nope'), cloudEvent('u-1', {}), CE), 404, expect.anything()],
      ['a bulk body without entries', () => post(route('batches'), '{"id":"b"}', JSON_TYPE), 400, expect.anything()],
    ];
    it.each(cases)('%s', async (_name, send, status, body) => {
      const before = calls();
      const res = await send();
      expect(res.status).toBe(status);
      expect(res.body).toEqual(body);
      expect(calls()).toBe(before);
    });
  });

  it("leaves the app's own routes parsing as before", async () => {
    expect(await post(`${app.url}/own`, '{"a":1}', JSON_TYPE)).toEqual({ status: 201, body: { received: { a: 1 } } });
    const ce = await post(`${app.url}/own`, '{"a":1}', CE);
    // Express' JSON parser leaves application/cloudevents+json unread; Fastify refuses it (415).
    if (platform === 'express') expect(ce).toEqual({ status: 201, body: { received: null } });
    else expect(ce.status).toBe(415);
  });

  it('counts events received and their outcomes in Prometheus metrics', async () => {
    const text = await registry.metrics();
    expect(text).toMatch(/kugel_comms_events_received_total\{pubsub="pubsub",topic="orders"\} [1-9]/);
    expect(text).toMatch(
      /kugel_comms_event_outcomes_total\{pubsub="pubsub",topic="orders",outcome="success",reason="handled"\} [1-9]/,
    );
    expect(text).toMatch(
      /kugel_comms_event_outcomes_total\{pubsub="pubsub",topic="orders",outcome="drop",reason="invalid"\} [1-9]/,
    );
    expect(text).toMatch(
      /kugel_comms_event_outcomes_total\{pubsub="pubsub",topic="orders",outcome="retry",reason="timeout"\} 1/,
    );
    expect(text).toMatch(
      /kugel_comms_event_handler_duration_seconds_count\{pubsub="pubsub",topic="orders",outcome="success"\} [1-9]/,
    );
  });
});
