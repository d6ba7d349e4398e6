import { Injectable } from '@nestjs/common';
import { TestingModule } from '@nestjs/testing';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import { DaprClientHelper, DaprEvent, DaprSubscribe, HttpClientError, HttpClientHelper } from '../../lib';
import { Daprd } from '../dapr/daprd';
import { startSubscriber, Subscriber } from '../dapr/subscriber';
import { waitForSubscriptions } from '../dapr/subscription-stack';
import { FaultProxy, ProxiedRequest } from '../support/fault-proxy';
import { bootKugelComms } from '../support/module-fixture';
import { waitUntil } from '../support/processes';
import { RedisServer } from '../support/redis';
import { json, startTestServer, TestServer } from '../support/test-server';
import { cloudEvent, post, startSubscriberApp, SubscriberApp } from '../subscriptions/support/subscriber-app';
import { appendLatencyRow } from './support/latency-table';
import { quietLogs, restoreLogs } from './support/scenario';

/** The sidecar timeout of every app here; a latency fault holds an answer longer than this. */
const TIMEOUT_MS = 500;
const LATE_MS = TIMEOUT_MS + 700;

const isSave = (r: ProxiedRequest) =>
  r.method === 'POST' && r.path.startsWith('/v1.0/state/statestore') && !r.path.includes('/bulk');
const savesIn = (proxy: FaultProxy) => proxy.requests.filter(isSave).length;

/**
 * The promises under latency, not only crashes: a fault proxy between the app and its peer or its
 * sidecar (real daprd processes, real Redis) answers late after the other side acted, or resets
 * the connection after the request was read. Each scenario writes a row of the latency-fault
 * table (printed at the end of the faults run) before it asserts.
 */
describe('latency faults: the other side is slow, or dies after reading the request', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await RedisServer.start();
    quietLogs();
  });
  afterAll(async () => {
    restoreLogs();
    await redis?.dispose();
  });

  describe('a REST peer', () => {
    let peer: TestServer;
    let proxy: FaultProxy;
    let app: TestingModule;
    beforeEach(async () => {
      peer = await startTestServer((req, res) => json(res, 201, { ok: true }));
      proxy = await FaultProxy.start({ upstream: { host: '127.0.0.1', port: peer.port } });
      app = await bootKugelComms({
        services: { peer: proxy.url },
        http: { timeoutMs: TIMEOUT_MS, backoff: { initialDelayMs: 10 }, retryBudget: false },
        dapr: { waitForSidecarMs: 0 },
      });
      quietLogs();
    });
    afterEach(async () => {
      await app?.close();
      await proxy?.close();
      await peer?.close();
    });
    const client = () => app.get(HttpClientHelper).getServiceClient('peer');
    const posts = () => peer.requests.filter((r) => r.method === 'POST').length;

    it('a POST the peer read, then reset, on a kept-alive connection: not sent again', async () => {
      await client().get('/warm'); // the connection the POST will reuse
      proxy.addRule({ match: (r) => r.method === 'POST', fault: { kind: 'reset-after-request' }, times: 1 });
      const error = (await client()
        .post('/orders', { id: 1 })
        .catch((e: unknown) => e)) as HttpClientError | undefined;
      const held = posts() === 1 && error?.code === 'ECONNRESET' && error.attempts === 1;
      appendLatencyRow({
        scenario: 'REST POST on a kept-alive socket, peer acts then resets',
        fault: 'reset after the request was read (reused socket)',
        reached: `${posts()} POST`,
        observed: error ? `${error.code} after ${error.attempts} attempt(s)` : 'resolved (the POST was sent again)',
        held,
      });
      expect(posts()).toBe(1);
      expect(error).toMatchObject({ code: 'ECONNRESET', attempts: 1 });
    });

    it('a POST answered after its timeout (the write happened): not sent again', async () => {
      proxy.addRule({ match: (r) => r.method === 'POST', fault: { kind: 'latency', ms: LATE_MS } });
      const error = (await client()
        .post('/orders', { id: 2 })
        .catch((e: unknown) => e)) as HttpClientError;
      const held = posts() === 1 && error.attempts === 1;
      appendLatencyRow({
        scenario: 'REST POST answered late',
        fault: `answer held ${LATE_MS} ms (timeout ${TIMEOUT_MS} ms)`,
        reached: `${posts()} POST`,
        observed: `${error.code} after ${error.attempts} attempt(s)`,
        held,
      });
      expect(posts()).toBe(1);
      expect(error).toMatchObject({ code: 'ECONNABORTED', attempts: 1 });
    });
  });

  describe('the sidecar (state)', () => {
    let daprd: Daprd;
    let proxy: FaultProxy;
    let app: TestingModule;
    let dapr: DaprClientHelper;
    beforeAll(async () => {
      daprd = await Daprd.start({ components: 'redis-state', redisHost: redis.host, appId: 'latency-state' });
      proxy = await FaultProxy.start({ upstream: { host: '127.0.0.1', port: daprd.httpPort } });
      app = await bootKugelComms({
        dapr: { httpEndpoint: proxy.url, waitForSidecarMs: 5_000, timeoutMs: TIMEOUT_MS, retries: 2 },
        http: { backoff: { initialDelayMs: 10 } },
      });
      quietLogs();
      dapr = app.get(DaprClientHelper);
    }, 60_000);
    afterAll(async () => {
      await app?.close();
      await proxy?.close();
      await daprd?.dispose();
    });

    it('a save with an ETag answered after the timeout: sent once, an unknown outcome (not a 409), and it happened', async () => {
      expect(await dapr.saveState('statestore', 'etag-1', { v: 0 })).toBe(true);
      const read = await dapr.detailed.getState<{ v: number }>('statestore', 'etag-1');
      if (!read.ok) throw new Error(read.error);
      const before = savesIn(proxy);
      proxy.addRule({ match: isSave, fault: { kind: 'latency', ms: LATE_MS }, times: 1 });
      const saved = await dapr.detailed.saveState('statestore', 'etag-1', { v: 1 }, { etag: read.etag });
      const sent = savesIn(proxy) - before;
      const after = await dapr.getState<{ v: number }>('statestore', 'etag-1');
      const code = saved.ok ? 'ok' : `${saved.code}${saved.status ? ` ${saved.status}` : ''}`;
      appendLatencyRow({
        scenario: 'save with an ETag answered late',
        fault: `answer held ${LATE_MS} ms (timeout ${TIMEOUT_MS} ms)`,
        reached: `${sent} save(s); value after: ${JSON.stringify(after)}`,
        observed: code,
        held: sent === 1 && code === 'ERR_UNKNOWN_OUTCOME',
      });
      expect(sent).toBe(1);
      expect(saved).toMatchObject({ ok: false, code: 'ERR_UNKNOWN_OUTCOME' });
      expect(after).toEqual({ v: 1 });
    });

    it('an optimistic-concurrency loop under late answers applies each change once', async () => {
      const key = 'counter-1';
      expect(await dapr.saveState('statestore', key, { count: 0 })).toBe(true);
      const increments = 8;
      // Every other save is answered late.
      const rule = proxy.addRule({
        match: (() => {
          let n = 0;
          return (r: ProxiedRequest) => isSave(r) && n++ % 2 === 0;
        })(),
        fault: { kind: 'latency', ms: LATE_MS },
      });
      const failures: string[] = [];
      try {
        for (let i = 0; i < increments; i += 1)
          await increment(dapr, key).catch((e: Error) => failures.push(e.message));
      } finally {
        rule.remove();
      }
      const final = await dapr.getState<{ count: number }>('statestore', key);
      appendLatencyRow({
        scenario: 'read-modify-write loop with ETags, every other save answered late',
        fault: `answer held ${LATE_MS} ms on every other save`,
        reached: `${rule.hits} late save(s)`,
        observed: `count ${final?.count} after ${increments} increments${failures.length ? ` (${failures.length} gave up)` : ''}`,
        held: final?.count === increments && failures.length === 0,
      });
      expect(failures).toEqual([]);
      expect(final?.count).toBe(increments);
    });
  });

  describe('publishing and the outbox', () => {
    let subscriber: Subscriber;
    let subscriberSidecar: Daprd;
    let writer: Daprd;
    let proxy: FaultProxy;
    let app: TestingModule;
    let dapr: DaprClientHelper;
    beforeAll(async () => {
      subscriber = await startSubscriber([
        { topic: 'orders', route: '/orders' },
        { topic: 'plain', route: '/plain' },
      ]);
      subscriberSidecar = await Daprd.start({
        components: 'redis-outbox',
        redisHost: redis.host,
        appPort: subscriber.server.port,
        appId: 'latency-subscriber',
      });
      writer = await Daprd.start({ components: 'redis-outbox', redisHost: redis.host, appId: 'latency-writer' });
      proxy = await FaultProxy.start({ upstream: { host: '127.0.0.1', port: writer.httpPort } });
      app = await bootKugelComms({
        dapr: { httpEndpoint: proxy.url, waitForSidecarMs: 5_000, timeoutMs: TIMEOUT_MS, retries: 2 },
        http: { backoff: { initialDelayMs: 10 } },
      });
      quietLogs();
      dapr = app.get(DaprClientHelper);
      await waitForSubscriptions(subscriberSidecar, 2);
    }, 60_000);
    afterAll(async () => {
      await app?.close();
      await proxy?.close();
      await writer?.dispose();
      await subscriberSidecar?.dispose();
      await subscriber?.server.close();
    });

    it('a publish answered after the timeout is sent again under the same CloudEvent id', async () => {
      const isPublish = (r: ProxiedRequest) => r.path.startsWith('/v1.0/publish/pubsub/plain');
      proxy.addRule({ match: isPublish, fault: { kind: 'latency', ms: LATE_MS }, times: 1 });
      const published = await dapr.publishEvent('pubsub', 'plain', { order: 'p-1' });
      const sent = proxy.requests.filter(isPublish);
      await waitUntil(
        async () => subscriber.deliveries.filter((d) => d.route === '/plain').length >= sent.length,
        15_000,
        'the copies',
      );
      const ids = subscriber.deliveries.filter((d) => d.route === '/plain').map((d) => String(d.body.id));
      appendLatencyRow({
        scenario: 'publish answered late, retried',
        fault: `answer held ${LATE_MS} ms (timeout ${TIMEOUT_MS} ms)`,
        reached: `${sent.length} publishes, ${new Set(ids).size} CloudEvent id(s)`,
        observed: published ? 'published' : 'failed',
        held: sent.length >= 2 && new Set(ids).size === 1,
      });
      expect(published).toBe(true);
      expect(sent.length).toBeGreaterThanOrEqual(2);
      expect(new Set(ids).size).toBe(1);
    });

    it('a state transaction on an outbox store answered after the timeout is sent once: one event published', async () => {
      const isTransaction = (r: ProxiedRequest) => r.path.startsWith('/v1.0/state/outboxstore/transaction');
      proxy.addRule({ match: isTransaction, fault: { kind: 'latency', ms: LATE_MS }, times: 1 });
      const result = await dapr.detailed.executeStateTransaction('outboxstore', [
        { operation: 'upsert', request: { key: 'o-1', value: { event_id: 'tx-1' }, contentType: 'application/json' } },
      ]);
      const sent = proxy.requests.filter(isTransaction).length;
      const ofTx = () =>
        subscriber.deliveries.filter((d) => (d.body.data as { event_id?: string })?.event_id === 'tx-1');
      await waitUntil(async () => ofTx().length >= 1, 15_000, 'the outbox event');
      await sleep(3_000); // a second commit would publish about a second after it
      const code = result.ok ? 'ok' : result.code;
      appendLatencyRow({
        scenario: 'state transaction on an outbox store answered late',
        fault: `answer held ${LATE_MS} ms (timeout ${TIMEOUT_MS} ms)`,
        reached: `${sent} transaction(s), ${ofTx().length} event(s) published`,
        observed: code,
        held: sent === 1 && ofTx().length === 1,
      });
      expect(sent).toBe(1);
      expect(result).toMatchObject({ ok: false, code: 'ERR_UNKNOWN_OUTCOME' });
      expect(ofTx()).toHaveLength(1);
    });
  });

  describe('the dedupe claim of a subscriber', () => {
    @Injectable()
    class Ledger {
      readonly effects = new Map<string, number>();
      @DaprSubscribe('pubsub', 'ledger', { dedupe: { leaseSec: 3 }, handlerTimeoutMs: 1_000 })
      onEntry(event: DaprEvent): void {
        this.effects.set(event.id, (this.effects.get(event.id) ?? 0) + 1);
      }
    }
    let daprd: Daprd;
    let proxy: FaultProxy;
    let sub: SubscriberApp;
    beforeAll(async () => {
      daprd = await Daprd.create({ components: 'redis-state', redisHost: redis.host, appId: 'latency-ledger' });
      proxy = await FaultProxy.start({ upstream: { host: '127.0.0.1', port: daprd.httpPort } });
      sub = await startSubscriberApp({
        providers: [Ledger],
        options: { dapr: { httpEndpoint: proxy.url, waitForSidecarMs: 0, timeoutMs: TIMEOUT_MS, retries: 2 } },
      });
      await daprd.startProcess();
      quietLogs();
    }, 60_000);
    afterAll(async () => {
      await sub?.close();
      await proxy?.close();
      await daprd?.dispose();
    });

    it('a claim answered after the timeout is not sent again: the event runs at once, not RETRY against its own claim', async () => {
      const route = `${sub.url}/dapr/events/pubsub/ledger`;
      // A first event sets up the store (its first-write form is learnt once per store).
      expect((await post(route, cloudEvent('warm-1', {}, 'ledger'))).body).toEqual({ status: 'SUCCESS' });
      const before = savesIn(proxy);
      proxy.addRule({ match: isSave, fault: { kind: 'latency', ms: LATE_MS }, times: 1 });
      const first = await post(route, cloudEvent('slow-claim-1', {}, 'ledger'));
      const claims = savesIn(proxy) - before;
      const ledger = sub.app.get(Ledger);
      appendLatencyRow({
        scenario: 'dedupe claim answered late',
        fault: `answer held ${LATE_MS} ms (timeout ${TIMEOUT_MS} ms)`,
        reached: `${claims} state write(s) for the delivery`,
        observed: `first delivery answered ${first.body.status}; handler ran ${ledger.effects.get('slow-claim-1') ?? 0}×`,
        held: first.body.status === 'SUCCESS' && ledger.effects.get('slow-claim-1') === 1,
      });
      expect(first.body).toEqual({ status: 'SUCCESS' });
      expect(ledger.effects.get('slow-claim-1')).toBe(1);
      // A copy finds the done mark.
      expect((await post(route, cloudEvent('slow-claim-1', {}, 'ledger'))).body).toEqual({ status: 'SUCCESS' });
      expect(ledger.effects.get('slow-claim-1')).toBe(1);
    });
  });
});

/**
 * One increment as docs/dapr.md tells an app to write it with ETags: read, write with the ETag; on a
 * conflict, read again and retry; on an unknown outcome, read back whether the write landed.
 */
async function increment(dapr: DaprClientHelper, key: string): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const read = await dapr.detailed.getState<{ count: number }>('statestore', key);
    if (!read.ok || !read.value) continue;
    const next = { count: read.value.count + 1 };
    const saved = await dapr.detailed.saveState('statestore', key, next, { etag: read.etag });
    if (saved.ok) return;
    if (saved.code === 'ERR_UNKNOWN_OUTCOME') {
      const now = await dapr.detailed.getState<{ count: number }>('statestore', key);
      if (now.ok && isDeepStrictEqual(now.value, next)) return;
    }
  }
  throw new Error(`the increment of ${key} did not land`);
}
