import { Body, Controller, Injectable, Post } from '@nestjs/common';
import * as http from 'node:http';
import { Socket } from 'node:net';
import { DaprEvent, DaprSubscribe } from '../../lib';
import { captureLogs } from '../support/log-capture';
import {
  bulkDelivery,
  CE,
  JSON_TYPE,
  ListeningApp,
  paddedEvent,
  rawPost,
  startFactoryApp,
  startTestingApp,
} from './support/bodies';
import { PLATFORMS } from './support/subscriber-app';

/** Nest's default JSON body parser limit (body-parser's '100kb'). */
const NEST_JSON_LIMIT = 100 * 1024;
const MIB = 1024 * 1024;

@Injectable()
class Consumer {
  readonly events: DaprEvent[] = [];
  readonly batches: DaprEvent[][] = [];

  @DaprSubscribe('pubsub', 'orders', { deadLetterTopic: 'orders-dlq' })
  onOrder(event: DaprEvent): void {
    this.events.push(event);
  }

  @DaprSubscribe('pubsub', 'batches', { bulk: true, deadLetterTopic: 'batches-dlq' })
  onBatch(events: DaprEvent[]): void {
    this.batches.push(events);
  }
}

/** The app's own route: it keeps Nest's JSON parser, limit included. */
@Controller('own')
class OwnController {
  @Post()
  echo(@Body() body: unknown): unknown {
    return { received: body ?? null };
  }
}

/** Reads the request's body to its end and leaves no `req.body` (a logging or signing middleware, say). */
function drainer(req: http.IncomingMessage, _res: unknown, next: () => void): void {
  req.resume();
  req.on('end', () => next());
}

const logs = captureLogs();
afterAll(() => logs.restore());
// Each test sees only the lines logged while it ran (the apps' boot lines are kept by their beforeAll).
beforeEach(() => {
  logs.logger.lines.length = 0;
});

function errorLines(): string[] {
  return logs.logger.lines.filter((l) => l.level === 'error').map((l) => l.text);
}
const consumerOf = (app: ListeningApp) => app.app.get(Consumer);
const calls = (app: ListeningApp) => consumerOf(app).events.length + consumerOf(app).batches.length;

describe("Express app made by NestFactory.create: deliveries are read ahead of the app's body parsers", () => {
  let app: ListeningApp;
  let boot: string;
  beforeAll(async () => {
    logs.reinstall();
    app = await startFactoryApp({ providers: [Consumer], controllers: [OwnController] });
    boot = logs.logger.text();
  });
  afterAll(() => app?.close());

  it("a bulk delivery of 100 events × 2 KB (over Nest's 100 kB JSON limit) is answered SUCCESS entry by entry", async () => {
    const { body, entryIds } = bulkDelivery('batches', 100, 2048);
    expect(Buffer.byteLength(body)).toBeGreaterThan(2 * NEST_JSON_LIMIT);
    const res = await rawPost(`${app.url}/dapr/events/pubsub/batches`, body, JSON_TYPE);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ statuses: entryIds.map((entryId) => ({ entryId, status: 'SUCCESS' })) });
    const batch = consumerOf(app).batches.at(-1)!;
    expect(batch.map((e) => (e.data as { n: number }).n)).toEqual(entryIds.map((_, n) => n));
    // The app's own routes still have Nest's JSON parser, and its limit.
    expect(await rawPost(`${app.url}/own`, '{"a":1}', JSON_TYPE)).toMatchObject({
      status: 201,
      body: { received: { a: 1 } },
    });
    const big = JSON.stringify({ pad: 'x'.repeat(NEST_JSON_LIMIT) });
    expect((await rawPost(`${app.url}/own`, big, JSON_TYPE)).status).toBe(413);
  });

  it('said at boot that deliveries are read by the routes themselves', () => {
    expect(boot).toContain('each delivery read itself up to 4194304 bytes');
    expect(boot).not.toContain("the routes sit behind the app's JSON body parser");
  });
});

describe.each(PLATFORMS)('%s app made by NestFactory.create: bodies over maxBodyBytes (4 MiB)', (platform) => {
  let app: ListeningApp;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const sockets: Socket[] = [];
  /** Bytes the app's server read off its connections so far. */
  const bytesRead = () => sockets.reduce((sum, s) => sum + s.bytesRead, 0);
  beforeAll(async () => {
    logs.reinstall();
    app = await startFactoryApp({ platform, providers: [Consumer] });
    (app.app.getHttpServer() as http.Server).on('connection', (s) => sockets.push(s));
  });
  afterAll(async () => {
    agent.destroy();
    await app?.close();
  });

  it('a single event over the limit is DROP with an ERROR log, its body read to the end (the connection kept)', async () => {
    const route = `${app.url}/dapr/events/pubsub/orders`;
    const before = calls(app);
    // A first request opens the connection the oversize one then reuses.
    expect((await rawPost(route, JSON.stringify(paddedEvent('small-1', 'orders', 1, 10)), CE, agent)).body).toEqual({
      status: 'SUCCESS',
    });
    // A fifth over the limit: a reader that stops at the limit leaves most of a megabyte unread.
    const big = JSON.stringify(paddedEvent('big-1', 'orders', 2, 5 * MIB));
    // Both with a Content-Length over the limit and chunked (the reader finds out halfway).
    for (const headers of [CE, { ...CE, 'transfer-encoding': 'chunked' }]) {
      const readBefore = bytesRead();
      const res = await rawPost(route, big, headers, agent);
      expect(res).toEqual({ status: 200, body: { status: 'DROP' }, reusedSocket: true });
      // Answered once the whole body was read (and thrown away), not while daprd was still sending it.
      expect(bytesRead() - readBefore).toBeGreaterThan(big.length);
      // The connection is still open and usable.
      const after = await rawPost(route, JSON.stringify(paddedEvent('small', 'orders', 3, 10)), CE, agent);
      expect(after).toEqual({ status: 200, body: { status: 'SUCCESS' }, reusedSocket: true });
    }
    expect(errorLines()).toContainEqual(
      expect.stringMatching(
        /Consumer\.onOrder: delivery on pubsub\/orders cannot be an event: its body \(\d+ bytes\) is over subscriptions\.maxBodyBytes \(4194304 bytes\).* → DROP/,
      ),
    );
    expect(calls(app)).toBe(before + 3);
  });

  it('a bulk body over the limit is answered 413 (every entry retried) with an ERROR log saying what to change', async () => {
    const before = calls(app);
    const { body } = bulkDelivery('batches', 2100, 2048);
    expect(Buffer.byteLength(body)).toBeGreaterThan(4 * MIB);
    const res = await rawPost(`${app.url}/dapr/events/pubsub/batches`, body, JSON_TYPE);
    expect(res.status).toBe(413);
    expect(calls(app)).toBe(before);
    expect(errorLines()).toContainEqual(
      expect.stringContaining(
        'Consumer.onBatch: bulk delivery on pubsub/batches refused: its body (' +
          `${Buffer.byteLength(body)} bytes) is over subscriptions.maxBodyBytes (4194304 bytes) and cannot be split ` +
          'into entries → 413 (daprd retries every entry, then dead-letters them): raise subscriptions.maxBodyBytes ' +
          'or lower bulk.maxMessages (100)',
      ),
    );
  });
});

describe('Express: a body that a middleware before the routes read is answered RETRY, never DROP', () => {
  const cases: Array<[string, () => Promise<ListeningApp>]> = [
    [
      'a testing module with app.use() (routes behind it)',
      () => startTestingApp({ providers: [Consumer], afterCompile: logs.reinstall, configure: (a) => a.use(drainer) }),
    ],
    [
      'NestFactory.create on an Express instance that already had the middleware',
      () => startFactoryApp({ providers: [Consumer], onExpress: (adapter) => adapter.use(drainer) }),
    ],
  ];
  describe.each(cases)('%s', (_name, start) => {
    let app: ListeningApp;
    beforeAll(async () => {
      logs.reinstall();
      app = await start();
    });
    afterAll(() => app?.close());

    it('single: 200 {"status":"RETRY"}; bulk: 500; each with an ERROR log naming the cause', async () => {
      const before = calls(app);
      const single = await rawPost(
        `${app.url}/dapr/events/pubsub/orders`,
        JSON.stringify(paddedEvent('c-1', 'orders', 1, 10)),
        CE,
      );
      expect(single).toMatchObject({ status: 200, body: { status: 'RETRY' } });
      const bulk = await rawPost(
        `${app.url}/dapr/events/pubsub/batches`,
        bulkDelivery('batches', 2, 10).body,
        JSON_TYPE,
      );
      expect(bulk.status).toBe(500);
      expect(calls(app)).toBe(before);
      const cause = 'a middleware before the subscription routes read the request body and left no req.body';
      expect(errorLines()).toContainEqual(
        expect.stringContaining(`Consumer.onOrder: delivery on pubsub/orders could not be read: ${cause}`),
      );
      expect(errorLines()).toContainEqual(
        expect.stringMatching(
          /Consumer\.onBatch: bulk delivery on pubsub\/batches could not be read: a middleware .* → 500/,
        ),
      );
    });
  });
});

describe("Express testing module: the routes sit behind the app's body parser, whose refusals are RETRY", () => {
  let app: ListeningApp;
  let boot: string;
  beforeAll(async () => {
    logs.reinstall();
    app = await startTestingApp({
      providers: [Consumer],
      afterCompile: logs.reinstall,
      // A JSON parser that also takes CloudEvents (an app whose own routes read them), Nest's 100 kB limit.
      configure: (a) =>
        (a as unknown as { useBodyParser(t: string, o: object): void }).useBodyParser('json', {
          type: ['application/json', 'application/cloudevents+json'],
        }),
    });
    boot = logs.logger.text();
  });
  afterAll(() => app?.close());

  it("says at boot that the parser's limit applies to bulk deliveries", () => {
    expect(boot).toContain(
      'bulk subscriptions (pubsub/batches) receive application/json bodies, and the HTTP adapter came after this module was built',
    );
  });

  it('a bulk delivery over the parser limit: 500 (every entry retried) and an ERROR log naming the limit', async () => {
    const before = calls(app);
    const res = await rawPost(
      `${app.url}/dapr/events/pubsub/batches`,
      bulkDelivery('batches', 100, 2048).body,
      JSON_TYPE,
    );
    expect(res.status).toBe(500);
    expect(calls(app)).toBe(before);
    expect(errorLines()).toContainEqual(
      expect.stringContaining(
        "Consumer.onBatch: bulk delivery on pubsub/batches could not be read: the app's body parser refused it as " +
          `too large (its limit: ${NEST_JSON_LIMIT} bytes)`,
      ),
    );
  });

  it('a single event over the parser limit: 200 {"status":"RETRY"} and an ERROR log naming the limit', async () => {
    const before = calls(app);
    const event = JSON.stringify(paddedEvent('p-1', 'orders', 1, NEST_JSON_LIMIT));
    const res = await rawPost(`${app.url}/dapr/events/pubsub/orders`, event, CE);
    expect(res).toMatchObject({ status: 200, body: { status: 'RETRY' } });
    expect(calls(app)).toBe(before);
    expect(errorLines()).toContainEqual(
      expect.stringContaining(
        "Consumer.onOrder: delivery on pubsub/orders could not be read: the app's body parser refused it as too large",
      ),
    );
  });
});
