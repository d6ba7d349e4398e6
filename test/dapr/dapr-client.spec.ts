import { SECRETS } from '../support/secrets';
import { TestingModule } from '@nestjs/testing';
import * as net from 'node:net';
import { CircuitState, DaprClientHelper, DaprOptions, KugelCommsEvents, RequestCompletedEvent } from '../../lib';
import { fakeDate } from '../support/fake-date';
import { captureLogs } from '../support/log-capture';
import { bootKugelComms } from '../support/module-fixture';
import { waitUntil } from '../support/processes';
import { closedPort } from '../support/test-server';
import { settleWithin } from '../faults/support/scenario';
import { RedisServer } from '../support/redis';
import { Daprd } from './daprd';
import { Delivery, startSubscriber, Subscriber } from './subscriber';

describe('DaprClientHelper on a real daprd (in-memory components)', () => {
  let subscriber: Subscriber;
  let daprd: Daprd;
  let app: TestingModule;
  let dapr: DaprClientHelper;

  beforeAll(async () => {
    subscriber = await startSubscriber([
      { topic: 'orders', route: '/events' },
      { topic: 'orders-raw', route: '/raw-events', metadata: { rawPayload: 'true' } },
    ]);
    daprd = await Daprd.start({ appPort: subscriber.server.port });
    app = await bootKugelComms({ dapr: { httpEndpoint: daprd.httpEndpoint, waitForSidecarMs: 5000, retries: 0 } });
    dapr = app.get(DaprClientHelper);
  });

  afterAll(async () => {
    await app?.close();
    await daprd?.dispose();
    await subscriber?.server.close();
  });

  it('delivers a published event to the subscribing app with its data intact', async () => {
    const order = { orderId: 'o-1', lines: [{ item: 'ü/…?#', qty: 2 }], total: 12.5 };
    await expect(dapr.publishEvent('pubsub', 'orders', order, { metadata: { ttlInSeconds: 60 } })).resolves.toBe(true);
    await waitUntil(async () => subscriber.events.length > 0, 10_000, 'event delivery');
    const event = subscriber.events[0];
    expect(event.data).toEqual(order);
    expect(event.topic).toBe('orders');
    expect(event.pubsubname).toBe('pubsub');
  });

  /** The next delivery to `route` after the first `after` deliveries. */
  async function nextDelivery(route: string, after: number): Promise<Delivery> {
    const find = () => subscriber.deliveries.slice(after).find((d) => d.route === route);
    await waitUntil(async () => find() !== undefined, 10_000, `a delivery to ${route}`);
    return find()!;
  }

  /**
   * What a rawPayload subscription receives is an envelope daprd builds on the subscriber's side
   * (`source: "Dapr"`, a fresh `id`, `datacontenttype: application/octet-stream`) whose
   * `data_base64` holds the message exactly as the broker stored it. Decoded, that is the body the
   * publisher sent: with `rawPayload` on the publish, the event's JSON itself; without it, the
   * CloudEvent the publishing sidecar wrapped it in.
   */
  const brokerBytes = (delivery: Delivery) => Buffer.from(String(delivery.body.data_base64), 'base64').toString('utf8');

  it('publishes the raw body (no CloudEvent envelope) when rawPayload is set; a normal publish is a CloudEvent', async () => {
    const event = { raw: 1, text: 'ü/…?#', nested: { n: [1, 2] } };

    let before = subscriber.deliveries.length;
    await expect(dapr.publishEvent('pubsub', 'orders-raw', event, { rawPayload: true })).resolves.toBe(true);
    const raw = await nextDelivery('/raw-events', before);
    expect(raw.body).toMatchObject({
      source: 'Dapr',
      datacontenttype: 'application/octet-stream',
      topic: 'orders-raw',
    });
    expect(brokerBytes(raw)).toBe(JSON.stringify(event));
    expect(JSON.parse(brokerBytes(raw))).not.toHaveProperty('specversion');

    // The same subscription, a publish without rawPayload: the broker holds the publishing
    // sidecar's CloudEvent, so the check above tells the two apart.
    before = subscriber.deliveries.length;
    await expect(dapr.publishEvent('pubsub', 'orders-raw', event)).resolves.toBe(true);
    const wrapped = JSON.parse(brokerBytes(await nextDelivery('/raw-events', before)));
    expect(wrapped).toMatchObject({ specversion: '1.0', source: 'kugel-test', topic: 'orders-raw', data: event });

    // The normal subscription gets a CloudEvent with the event as its data.
    before = subscriber.deliveries.length;
    await expect(dapr.publishEvent('pubsub', 'orders', event)).resolves.toBe(true);
    const normal = await nextDelivery('/events', before);
    expect(normal.contentType).toMatch(/^application\/cloudevents\+json/);
    expect(normal.body).toMatchObject({ specversion: '1.0', datacontenttype: 'application/json', data: event });
  });

  it('round-trips state, reads a missing key as null and reports the ETag', async () => {
    const value = { name: 'Ringo', tags: ['a', 'b'], nested: { n: 1 } };
    await expect(dapr.saveState('statestore', 'user/1?x#y', value)).resolves.toBe(true);
    await expect(dapr.getState('statestore', 'user/1?x#y')).resolves.toEqual(value);
    await expect(dapr.getState('statestore', 'no-such-key')).resolves.toBeNull();
    const missing = await dapr.detailed.getState('statestore', 'no-such-key');
    expect(missing).toEqual({ ok: true, value: null, etag: undefined });
    const entry = await dapr.detailed.getState<typeof value>('statestore', 'user/1?x#y');
    expect(entry.ok && entry.etag).toEqual(expect.any(String));
  });

  it('answers false to a stale ETag and keeps the breaker closed', async () => {
    await dapr.saveState('statestore', 'etag-key', { v: 1 });
    const first = await dapr.detailed.getState('statestore', 'etag-key');
    if (!first.ok) throw new Error(first.error);
    await expect(dapr.saveState('statestore', 'etag-key', { v: 2 }, { etag: first.etag })).resolves.toBe(true);
    for (let i = 0; i < 5; i += 1) {
      const stale = await dapr.detailed.saveState('statestore', 'etag-key', { v: 3 }, { etag: first.etag });
      expect(stale).toMatchObject({ ok: false, status: 409 });
    }
    await expect(dapr.deleteState('statestore', 'etag-key', { etag: first.etag })).resolves.toBe(false);
    const breaker = dapr.breakerFor('state', 'statestore').snapshot();
    expect(breaker.state).toBe(CircuitState.Closed);
    expect(breaker.consecutiveFailures).toBe(0);
    await expect(dapr.getState('statestore', 'etag-key')).resolves.toEqual({ v: 2 });
  });

  it('logs an ETag conflict at DEBUG (the expected end of an optimistic write its caller handles), not WARN or ERROR', async () => {
    await dapr.saveState('statestore', 'etag-log', { v: 1 });
    const first = await dapr.detailed.getState('statestore', 'etag-log');
    if (!first.ok) throw new Error(first.error);
    await dapr.saveState('statestore', 'etag-log', { v: 2 }, { etag: first.etag });
    const logs = captureLogs();
    try {
      await expect(dapr.saveState('statestore', 'etag-log', { v: 3 }, { etag: first.etag })).resolves.toBe(false);
      await expect(
        dapr.executeStateTransaction('statestore', [{ operation: 'upsert', request: { key: 'etag-log', value: 4, etag: first.etag } }]),
      ).resolves.toBe(false);
      const lines = logs.logger.lines.filter((l) => l.text.includes('etag-log'));
      expect(lines.length).toBeGreaterThanOrEqual(2);
      expect(lines.filter((l) => l.level !== 'debug')).toEqual([]);
      // Another refusal by a sidecar that is fine is still a WARN: a store that does not exist.
      await expect(dapr.saveState('no-such-store', 'k', 1)).resolves.toBe(false);
      expect(logs.logger.lines.some((l) => l.level === 'warn' && l.text.includes('no-such-store'))).toBe(true);
    } finally {
      logs.restore();
    }
  });

  it('deletes with and without an ETag', async () => {
    await dapr.saveState('statestore', 'del-1', 'x');
    const entry = await dapr.detailed.getState('statestore', 'del-1');
    if (!entry.ok) throw new Error(entry.error);
    await expect(dapr.deleteState('statestore', 'del-1', { etag: entry.etag })).resolves.toBe(true);
    await expect(dapr.getState('statestore', 'del-1')).resolves.toBeNull();
    await expect(dapr.deleteState('statestore', 'never-there')).resolves.toBe(true);
  });

  it('gets state in bulk, leaving out missing keys', async () => {
    await dapr.saveState('statestore', 'bulk-a', { a: 1 });
    await dapr.saveState('statestore', 'bulk-b', [1, 2]);
    await expect(dapr.getBulkState('statestore', ['bulk-a', 'bulk-b', 'bulk-missing'])).resolves.toEqual({
      'bulk-a': { a: 1 },
      'bulk-b': [1, 2],
    });
  });

  it('applies a state transaction atomically', async () => {
    await dapr.saveState('statestore', 'tx-old', 1);
    await expect(
      dapr.executeStateTransaction('statestore', [
        { operation: 'upsert', request: { key: 'tx-new', value: { created: true } } },
        { operation: 'delete', request: { key: 'tx-old' } },
      ]),
    ).resolves.toBe(true);
    await expect(dapr.getState('statestore', 'tx-new')).resolves.toEqual({ created: true });
    await expect(dapr.getState('statestore', 'tx-old')).resolves.toBeNull();
  });

  it('answers false to a transaction with a stale ETag and keeps the breaker closed (the sidecar says 500)', async () => {
    await dapr.saveState('statestore', 'tx-etag', 'v1');
    for (let i = 0; i < 5; i += 1) {
      const result = await dapr.detailed.executeStateTransaction('statestore', [
        { operation: 'upsert', request: { key: 'tx-etag', value: 'v2', etag: '999' } },
      ]);
      expect(result).toMatchObject({ ok: false, status: 500, code: 'ERR_STATE_TRANSACTION' });
    }
    expect(dapr.breakerFor('state', 'statestore').snapshot()).toMatchObject({
      state: CircuitState.Closed,
      consecutiveFailures: 0,
    });
    await expect(dapr.getState('statestore', 'tx-etag')).resolves.toBe('v1');
  });

  it('answers false for an unknown store or pub/sub without opening a breaker (4xx)', async () => {
    for (let i = 0; i < 4; i += 1) {
      await expect(dapr.detailed.saveState('no-such-store', 'k', 1)).resolves.toMatchObject({ ok: false, status: 400 });
      await expect(dapr.detailed.publishEvent('no-such-pubsub', 't', {})).resolves.toMatchObject({
        ok: false,
        status: 404,
      });
    }
    expect(dapr.breakerFor('state', 'no-such-store').state).toBe(CircuitState.Closed);
    expect(dapr.breakerFor('pubsub', 'no-such-pubsub').state).toBe(CircuitState.Closed);
  });

  it('refuses bad input without sending anything', async () => {
    const events = app.get(KugelCommsEvents);
    const seen: RequestCompletedEvent[] = [];
    const off = events.requestCompleted.on((e) => seen.push(e));
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await expect(dapr.detailed.saveState('statestore', 'a||b', 1)).resolves.toMatchObject({
      ok: false,
      code: 'ERR_BAD_REQUEST_INPUT',
    });
    await expect(dapr.detailed.saveState('statestore', '..', 1)).resolves.toMatchObject({
      ok: false,
      code: 'ERR_BAD_REQUEST_INPUT',
    });
    await expect(dapr.detailed.saveState('statestore', 'c', circular)).resolves.toMatchObject({
      ok: false,
      code: 'ERR_BAD_REQUEST_INPUT',
    });
    await expect(dapr.detailed.publishEvent('pubsub', 't', { n: BigInt(1) })).resolves.toMatchObject({
      ok: false,
      code: 'ERR_BAD_REQUEST_INPUT',
    });
    off();
    expect(seen).toEqual([]);
  });
});

describe('DaprClientHelper with DAPR_API_TOKEN', () => {
  let daprd: Daprd;
  afterAll(async () => daprd?.dispose());

  it('sends dapr-api-token on every call and fails (4xx, breaker closed) without it', async () => {
    daprd = await Daprd.start({ apiToken: SECRETS.daprApiToken });
    const withToken = await bootKugelComms({
      dapr: { httpEndpoint: daprd.httpEndpoint, apiToken: SECRETS.daprApiToken, waitForSidecarMs: 0 },
    });
    const without = await bootKugelComms({ dapr: { httpEndpoint: daprd.httpEndpoint, waitForSidecarMs: 0 } });
    try {
      const ok = withToken.get(DaprClientHelper);
      await expect(ok.saveState('statestore', 'k', 1)).resolves.toBe(true);
      await expect(ok.getState('statestore', 'k')).resolves.toBe(1);
      await expect(ok.publishEvent('pubsub', 't', {})).resolves.toBe(true);
      const bad = without.get(DaprClientHelper);
      for (let i = 0; i < 4; i += 1) {
        const result = await bad.detailed.saveState('statestore', 'k', 2);
        expect(result).toMatchObject({ ok: false, status: 401 });
        expect(JSON.stringify(result)).not.toContain(SECRETS.daprApiToken);
      }
      expect(bad.breakerFor('state', 'statestore').state).toBe(CircuitState.Closed);
      await expect(ok.getState('statestore', 'k')).resolves.toBe(1);
    } finally {
      await withToken.close();
      await without.close();
    }
  });
});

describe('DaprClientHelper circuit breaker against a killed and restarted daprd', () => {
  let daprd: Daprd;
  let app: TestingModule;
  afterEach(() => jest.useRealTimers()); // after the test that fakes the date
  afterAll(async () => {
    await app?.close();
    await daprd?.dispose();
  });

  it('opens after 3 failures, answers at once without I/O, and closes after one trial once daprd is back', async () => {
    daprd = await Daprd.start();
    // The reset timeout passes when the test says so: the 40 refused calls below must all see the
    // breaker open however slowly a busy machine makes them.
    const clock = fakeDate();
    const RESET_MS = 60_000;
    app = await bootKugelComms({
      dapr: {
        httpEndpoint: daprd.httpEndpoint,
        waitForSidecarMs: 0,
        retries: 1,
        timeoutMs: 2000,
        breaker: { failureThreshold: 3, resetTimeoutMs: RESET_MS },
      },
      http: { backoff: { initialDelayMs: 1 } },
    });
    const dapr = app.get(DaprClientHelper);
    const changes: string[] = [];
    app.get(KugelCommsEvents).breakerStateChanged.on((c) => changes.push(`${c.breaker}:${c.from}->${c.to}`));
    await expect(dapr.saveState('statestore', 'before', 1)).resolves.toBe(true);

    await daprd.kill();
    for (let i = 0; i < 3; i += 1) {
      const r = await dapr.detailed.saveState('statestore', `k${i}`, i);
      expect(r).toMatchObject({ ok: false, code: 'ECONNREFUSED' });
    }
    const breaker = dapr.breakerFor('state', 'statestore');
    expect(breaker.state).toBe(CircuitState.Open);
    expect(dapr.breakerFor('pubsub', 'pubsub').state).toBe(CircuitState.Closed);

    // Something listens on daprd's port now: an open breaker must not connect to it.
    let connections = 0;
    const listener = net.createServer((s) => {
      connections += 1;
      s.destroy();
    });
    await new Promise<void>((r) => listener.listen(daprd.httpPort, '127.0.0.1', r));
    for (let i = 0; i < 20; i += 1) {
      await expect(dapr.detailed.saveState('statestore', 'x', 1)).resolves.toMatchObject({
        ok: false,
        code: 'ERR_CIRCUIT_OPEN',
      });
      await expect(dapr.getState('statestore', 'before')).resolves.toBeNull();
    }
    expect(connections).toBe(0);
    await new Promise<void>((r) => listener.close(() => r()));

    await daprd.startProcess();
    // daprd is back, the breaker still open until its reset timeout has passed.
    await expect(dapr.detailed.saveState('statestore', 'x', 1)).resolves.toMatchObject({ code: 'ERR_CIRCUIT_OPEN' });
    clock.advance(RESET_MS);
    expect(breaker.state).toBe(CircuitState.HalfOpen);
    const trials = await Promise.all(
      Array.from({ length: 10 }, (_, i) => dapr.detailed.saveState('statestore', `t${i}`, i)),
    );
    expect(trials.filter((t) => t.ok)).toHaveLength(1);
    expect(trials.filter((t) => !t.ok && t.code === 'ERR_CIRCUIT_OPEN')).toHaveLength(9);
    expect(breaker.state).toBe(CircuitState.Closed);
    await expect(dapr.saveState('statestore', 'after', 2)).resolves.toBe(true);
    expect(changes).toEqual([
      'state:statestore:closed->open',
      'state:statestore:open->half_open',
      'state:statestore:half_open->closed',
    ]);
  });

  it('waits (bounded) for a sidecar that starts after the app', async () => {
    const late = await Daprd.start();
    const endpoint = late.httpEndpoint;
    await late.stop();
    const lateApp = await bootKugelComms({ dapr: { httpEndpoint: endpoint, waitForSidecarMs: 15_000 } });
    try {
      const pending = lateApp.get(DaprClientHelper).saveState('statestore', 'early', 1);
      await new Promise((r) => setTimeout(r, 500));
      await late.startProcess();
      await expect(pending).resolves.toBe(true);
    } finally {
      await lateApp.close();
      await late.dispose();
    }
  });
});

describe('DaprClientHelper: the bounded start-up wait', () => {
  it('gives up on a sidecar that never comes: calls settle after waitForSidecarMs, waitForSidecar() resolves false', async () => {
    const WAIT_MS = 1_500;
    // Wide: a wait that never gives up leaves both calls pending, however busy the machine is.
    const DEADLINE_MS = WAIT_MS + 10_000;
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const bootedAt = performance.now();
    const app = await bootKugelComms({ dapr: { httpEndpoint: endpoint, waitForSidecarMs: WAIT_MS, retries: 0 } });
    try {
      const dapr = app.get(DaprClientHelper);
      // Made while the module's start-up wait runs: it waits with it, then fails on its own.
      const save = settleWithin(() => dapr.detailed.saveState('statestore', 'early', 1), DEADLINE_MS);
      const wait = settleWithin(() => dapr.waitForSidecar(WAIT_MS), DEADLINE_MS);
      const [saved, waited] = await Promise.all([save, wait]);
      const settledAfter = performance.now() - bootedAt;

      expect(waited).toEqual({ kind: 'value', value: false });
      expect(saved).toEqual({ kind: 'value', value: expect.objectContaining({ ok: false, code: 'ECONNREFUSED' }) });
      // It did wait for the sidecar: the bound is reached before the call is let through.
      expect(settledAfter).toBeGreaterThanOrEqual(WAIT_MS - 50);
    } finally {
      await app.close();
    }
  });
});

/** A redis-server, a daprd with the Redis components on it, and the module; `close()` stops all three. */
async function startWithRedis(dapr: DaprOptions = {}) {
  const redis = await RedisServer.start();
  const daprd = await Daprd.start({ components: 'redis', redisHost: redis.host });
  const app = await bootKugelComms({ dapr: { httpEndpoint: daprd.httpEndpoint, waitForSidecarMs: 0, ...dapr } });
  return {
    redis,
    daprd,
    dapr: app.get(DaprClientHelper),
    close: async () => {
      await app.close();
      await daprd.dispose();
      await redis.stop();
    },
  };
}

describe('DaprClientHelper with the Redis state store across a sidecar crash', () => {
  let stack: Awaited<ReturnType<typeof startWithRedis>> | undefined;
  afterAll(() => stack?.close());

  it('reads back every save that answered true before the crash', async () => {
    stack = await startWithRedis({ retries: 0, breaker: { resetTimeoutMs: 300 } });
    const { daprd, dapr } = stack;
    const results = new Map<string, boolean>();
    const writers = Array.from({ length: 20 }, async (_, w) => {
      for (let i = 0; i < 500; i += 1) {
        const key = `order-${w}-${i}`;
        results.set(key, await dapr.saveState('statestore', key, { w, i }));
      }
    });
    await waitUntil(async () => [...results.values()].filter(Boolean).length >= 200, 20_000, '200 saves');
    await daprd.kill();
    await Promise.all(writers);
    const saved = [...results].filter(([, ok]) => ok).map(([k]) => k);
    expect(saved.length).toBeGreaterThan(0);
    expect(saved.length).toBeLessThan(results.size);

    // The crash opened the state breaker: once daprd is back, the first trial after the reset
    // timeout closes it again.
    expect(dapr.breakerFor('state', 'statestore').state).not.toBe(CircuitState.Closed);
    await daprd.startProcess();
    await waitUntil(
      async () => (await dapr.detailed.getState('statestore', saved[0])).ok,
      5_000,
      'the state breaker to close',
    );
    const lost: string[] = [];
    for (const key of saved) {
      const [, w, i] = key.split('-').map(Number);
      // Compared field by field: the Redis store gives the JSON back with its keys reordered.
      const value = await dapr.getState<{ w: number; i: number }>('statestore', key);
      if (value?.w !== w || value?.i !== i) lost.push(key);
    }
    expect(lost).toEqual([]);
  });
});

describe('DaprClientHelper with the Redis state store: stale-ETag transactions', () => {
  let stack: Awaited<ReturnType<typeof startWithRedis>> | undefined;
  afterAll(() => stack?.close());

  it('reports the conflict without counting it toward the breaker', async () => {
    stack = await startWithRedis();
    const { redis, dapr } = stack;
    await expect(dapr.saveState('statestore', 'tx-etag', 'v1')).resolves.toBe(true);
    for (const operation of ['upsert', 'delete'] as const) {
      for (let i = 0; i < 3; i += 1) {
        const result = await dapr.detailed.executeStateTransaction('statestore', [
          { operation, request: { key: 'tx-etag', value: 'v2', etag: '999' } },
        ]);
        expect(result).toMatchObject({ ok: false, status: 500, code: 'ERR_STATE_TRANSACTION' });
      }
    }
    expect(dapr.breakerFor('state', 'statestore').snapshot()).toMatchObject({
      state: CircuitState.Closed,
      consecutiveFailures: 0,
    });
    await expect(dapr.getState('statestore', 'tx-etag')).resolves.toBe('v1');

    // A store that is down still counts: Redis stopped behind the running sidecar.
    await redis.stop();
    for (let i = 0; i < 3; i += 1) {
      await expect(
        dapr.executeStateTransaction('statestore', [{ operation: 'upsert', request: { key: 'x', value: 1 } }]),
      ).resolves.toBe(false);
    }
    expect(dapr.breakerFor('state', 'statestore').state).toBe(CircuitState.Open);
  });
});
