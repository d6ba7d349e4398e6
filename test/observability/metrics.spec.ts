import { TestingModule } from '@nestjs/testing';
import { Counter, register, Registry } from 'prom-client';
import {
  HttpClientHelper,
  KugelCommsEvents,
  KugelCommsMetrics,
  RequestCompletedEvent,
  RetryScheduledEvent,
} from '../../lib';
import { BreakerStateChangedEvent } from '../../lib/circuit-breaker/breaker-events';
import { fakeDate } from '../support/fake-date';
import { seriesValue } from '../support/metrics';
import { bootKugelComms } from '../support/module-fixture';
import { closedPort, json, startTestServer, TestServer } from '../support/test-server';

type Labels = Record<string, string>;

/** The value of one series, labels matched exactly (0 when the series does not exist). */
const value = async (registry: Registry, name: string, labels: Labels): Promise<number> =>
  (await seriesValue(registry, name, labels)) ?? 0;

/** Every series of a metric as `labels → value`, for exact comparisons. */
async function series(registry: Registry, name: string): Promise<Record<string, number>> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  if (!metric) throw new Error(`no metric ${name}`);
  const out: Record<string, number> = {};
  for (const v of metric.values) {
    const key = Object.entries(v.labels)
      .map(([k, l]) => `${k}=${l}`)
      .join(',');
    out[key] = v.value;
  }
  return out;
}

describe('Prometheus metrics and events on real sockets', () => {
  let server: TestServer;
  let flakyLeft = 0;
  let failing = false;

  beforeAll(async () => {
    server = await startTestServer((req, res) => {
      if (req.url === '/missing') return json(res, 404, { detail: 'no' });
      if (req.url === '/flaky' && flakyLeft > 0) {
        flakyLeft -= 1;
        return json(res, 503, {});
      }
      if (req.url === '/down') return json(res, 503, {});
      if (req.url?.startsWith('/guarded') && failing) return json(res, 500, {});
      json(res, 200, { ok: true });
    });
  });
  afterAll(() => server?.close());

  describe('counters, histogram and events after known calls', () => {
    let registry: Registry;
    let app: TestingModule;
    const completed: RequestCompletedEvent[] = [];
    const retries: RetryScheduledEvent[] = [];

    beforeAll(async () => {
      registry = new Registry();
      app = await bootKugelComms({
        services: { peer: server.url },
        http: { backoff: { initialDelayMs: 1 } },
        metrics: { enabled: true, registry, buckets: [0.5, 30] },
      });
      const events = app.get(KugelCommsEvents);
      events.requestCompleted.on((e) => completed.push(e));
      events.retryScheduled.on((e) => retries.push(e));

      const peer = app.get(HttpClientHelper).getServiceClient('peer');
      for (let i = 0; i < 3; i += 1) await peer.get(`/items/${i}`, { route: '/items/:id' });
      await expect(peer.get('/missing')).rejects.toMatchObject({ statusCode: 404 });
      flakyLeft = 2;
      await peer.get('/flaky');
      await expect(peer.get('/down', { retries: 1 })).rejects.toMatchObject({
        statusCode: 503,
        attempts: 2,
      });
      await expect(peer.post('/items', { a: 1 })).resolves.toEqual({ ok: true });
    });
    afterAll(() => app?.close());

    it('counts each logical call once by service, method and status class', async () => {
      expect(await series(registry, 'kugel_comms_requests_total')).toEqual({
        'service=peer,method=GET,status_class=2xx': 4,
        'service=peer,method=GET,status_class=4xx': 1,
        'service=peer,method=GET,status_class=5xx': 1,
        'service=peer,method=POST,status_class=2xx': 1,
      });
      expect(await series(registry, 'kugel_comms_request_errors_total')).toEqual({
        'service=peer,method=GET,status_class=4xx': 1,
        'service=peer,method=GET,status_class=5xx': 1,
      });
    });

    it('counts retries (attempts after the first)', async () => {
      expect(await series(registry, 'kugel_comms_retries_total')).toEqual({
        'service=peer,method=GET': 3,
      });
      // 3 + 1 + 3 (flaky) + 2 (down) + 1 (POST) requests reached the server
      expect(server.requests).toHaveLength(10);
    });

    it('observes every call in the latency histogram, in seconds', async () => {
      const h = 'kugel_comms_request_duration_seconds';
      expect(
        await value(registry, `${h}_count`, {
          service: 'peer',
          method: 'GET',
          status_class: '2xx',
        }),
      ).toBe(4);
      expect(
        await value(registry, `${h}_count`, {
          service: 'peer',
          method: 'GET',
          status_class: '4xx',
        }),
      ).toBe(1);
      expect(
        await value(registry, `${h}_bucket`, {
          service: 'peer',
          method: 'GET',
          status_class: '2xx',
          le: '+Inf',
        }),
      ).toBe(4);
      expect(
        await value(registry, `${h}_bucket`, {
          service: 'peer',
          method: 'GET',
          status_class: '2xx',
          le: '30',
        }),
      ).toBe(4);
      const sum = await value(registry, `${h}_sum`, {
        service: 'peer',
        method: 'GET',
        status_class: '2xx',
      });
      const eventSeconds = completed
        .filter((e) => e.method === 'GET' && e.status === 200)
        .reduce((s, e) => s + e.durationMs / 1000, 0);
      expect(sum).toBeCloseTo(eventSeconds, 6);
      const text = await registry.getSingleMetricAsString(h);
      expect(text).toContain('# TYPE kugel_comms_request_duration_seconds histogram');
      expect(text).toContain('le="0.5"');
    });

    it('emits typed requestCompleted events with route template, status, attempts and outcome', () => {
      expect(completed).toHaveLength(7);
      expect(completed.slice(0, 3)).toEqual(
        [0, 1, 2].map(() => ({
          client: 'peer',
          method: 'GET',
          route: '/items/:id',
          status: 200,
          outcome: 'success',
          errorCode: undefined,
          durationMs: expect.any(Number),
          attempts: 1,
          breaker: undefined,
        })),
      );
      expect(completed[3]).toMatchObject({
        route: '/missing',
        status: 404,
        outcome: 'error',
        attempts: 1,
      });
      expect(completed[4]).toMatchObject({
        route: '/flaky',
        status: 200,
        outcome: 'success',
        attempts: 3,
      });
      expect(completed[5]).toMatchObject({
        route: '/down',
        status: 503,
        outcome: 'error',
        attempts: 2,
      });
      expect(completed[6]).toMatchObject({
        method: 'POST',
        route: '/items',
        status: 200,
        outcome: 'success',
        attempts: 1,
      });
    });

    it('emits a retryScheduled event per retry with its reason', () => {
      expect(retries).toEqual([
        {
          client: 'peer',
          method: 'GET',
          route: '/flaky',
          retry: 1,
          reason: '503',
          delayMs: expect.any(Number),
        },
        {
          client: 'peer',
          method: 'GET',
          route: '/flaky',
          retry: 2,
          reason: '503',
          delayMs: expect.any(Number),
        },
        {
          client: 'peer',
          method: 'GET',
          route: '/down',
          retry: 1,
          reason: '503',
          delayMs: expect.any(Number),
        },
      ]);
    });

    it('labels a call that got no answer status_class="error"', async () => {
      const port = await closedPort();
      const other = await bootKugelComms({
        services: { gone: `http://127.0.0.1:${port}` },
        http: { retries: 0 },
        metrics: { enabled: true, registry },
      });
      try {
        await expect(other.get(HttpClientHelper).getServiceClient('gone').get('/x')).rejects.toMatchObject({
          code: 'ECONNREFUSED',
        });
        expect(
          await value(registry, 'kugel_comms_requests_total', {
            service: 'gone',
            method: 'GET',
            status_class: 'error',
          }),
        ).toBe(1);
        expect(
          await value(registry, 'kugel_comms_request_errors_total', {
            service: 'gone',
            method: 'GET',
            status_class: 'error',
          }),
        ).toBe(1);
      } finally {
        await other.close();
      }
    });
  });

  describe('circuit breaker gauge and transitions', () => {
    it('follows closed → open → half_open → closed, counts the refused call, and emits each change', async () => {
      // The reset timeout passes when the test says so, not while a busy machine runs the scrapes.
      const clock = fakeDate();
      const RESET_MS = 60_000;
      const registry = new Registry();
      const app = await bootKugelComms({
        services: {
          x: {
            baseUrl: server.url,
            retries: 0,
            breaker: { failureThreshold: 2, resetTimeoutMs: RESET_MS },
          },
        },
        metrics: { enabled: true, registry },
      });
      const changes: BreakerStateChangedEvent[] = [];
      app.get(KugelCommsEvents).breakerStateChanged.on((e) => changes.push(e));
      const gauge = () => value(registry, 'kugel_comms_circuit_breaker_state', { breaker: 'http:x' });
      try {
        const x = app.get(HttpClientHelper).getServiceClient('x');
        expect(await gauge()).toBe(0);
        failing = true;
        await expect(x.get('/guarded')).rejects.toMatchObject({ statusCode: 500 });
        expect(await gauge()).toBe(0);
        await expect(x.get('/guarded')).rejects.toMatchObject({ statusCode: 500 });
        expect(await gauge()).toBe(2);
        const sent = server.requests.length;
        await expect(x.get('/guarded')).rejects.toMatchObject({ code: 'ERR_CIRCUIT_OPEN' });
        expect(server.requests).toHaveLength(sent);
        expect(
          await value(registry, 'kugel_comms_requests_total', {
            service: 'x',
            method: 'GET',
            status_class: 'rejected',
          }),
        ).toBe(1);
        expect(
          await value(registry, 'kugel_comms_request_errors_total', {
            service: 'x',
            method: 'GET',
            status_class: 'rejected',
          }),
        ).toBe(1);
        // a refused call did no I/O: it is not a latency sample
        expect(
          await value(registry, 'kugel_comms_request_duration_seconds_count', {
            service: 'x',
            method: 'GET',
            status_class: 'rejected',
          }),
        ).toBe(0);

        // the scrape itself sees the reset timeout pass
        clock.advance(RESET_MS - 1);
        expect(await gauge()).toBe(2);
        clock.advance(1);
        expect(await gauge()).toBe(1);
        failing = false;
        await expect(x.get('/guarded')).resolves.toEqual({ ok: true });
        expect(await gauge()).toBe(0);

        expect(await series(registry, 'kugel_comms_circuit_breaker_transitions_total')).toEqual({
          'breaker=http:x,from=closed,to=open': 1,
          'breaker=http:x,from=open,to=half_open': 1,
          'breaker=http:x,from=half_open,to=closed': 1,
        });
        expect(changes.map(({ breaker, from, to, reason }) => ({ breaker, from, to, reason }))).toEqual([
          { breaker: 'http:x', from: 'closed', to: 'open', reason: 'failure-threshold' },
          { breaker: 'http:x', from: 'open', to: 'half_open', reason: 'reset-timeout' },
          { breaker: 'http:x', from: 'half_open', to: 'closed', reason: 'trial-succeeded' },
        ]);
        const text = await registry.getSingleMetricAsString('kugel_comms_circuit_breaker_state');
        expect(text).toContain(
          '# HELP kugel_comms_circuit_breaker_state Circuit breaker state: 0 closed, 1 half_open, 2 open',
        );
      } finally {
        failing = false;
        clock.restore();
        await app.close();
      }
    });
  });

  describe('registration', () => {
    it('registers nothing and loads nothing when metrics are off (the default)', async () => {
      const registry = new Registry();
      const app = await bootKugelComms({ services: { peer: server.url }, metrics: { registry } });
      try {
        await app.get(HttpClientHelper).getServiceClient('peer').get('/x');
        expect(await registry.getMetricsAsJSON()).toEqual([]);
        expect(app.get(KugelCommsMetrics).enabled).toBe(false);
        expect(app.get(KugelCommsMetrics).registry).toBeUndefined();
      } finally {
        await app.close();
      }
    });

    it('reuses its metrics when a second app boots with the same registry; a closed app stops counting', async () => {
      const registry = new Registry();
      const options = {
        services: { peer: server.url, b: { baseUrl: server.url, breaker: {} } },
        metrics: { enabled: true, registry },
      };
      const first = await bootKugelComms(options);
      await first.get(HttpClientHelper).getServiceClient('peer').get('/x');
      first.get(HttpClientHelper).getServiceClient('b');
      await first.close();
      const second = await bootKugelComms(options);
      const third = await bootKugelComms(options);
      try {
        await second.get(HttpClientHelper).getServiceClient('peer').get('/x');
        expect(
          await value(registry, 'kugel_comms_requests_total', {
            service: 'peer',
            method: 'GET',
            status_class: '2xx',
          }),
        ).toBe(2);
        // the closed app's breaker left the gauge; the live apps' breakers (none created yet) are not there
        expect(await series(registry, 'kugel_comms_circuit_breaker_state')).toEqual({});
        second.get(HttpClientHelper).getServiceClient('b');
        expect(await series(registry, 'kugel_comms_circuit_breaker_state')).toEqual({
          'breaker=http:b': 0,
        });
        expect(second.get(KugelCommsMetrics).registry).toBe(registry);
      } finally {
        await second.close();
        await third.close();
      }
    });

    it("uses prom-client's global register by default, and boots twice in one process", async () => {
      try {
        const first = await bootKugelComms({
          services: { peer: server.url },
          metrics: { enabled: true },
        });
        await first.get(HttpClientHelper).getServiceClient('peer').get('/x');
        await first.close();
        const second = await bootKugelComms({
          services: { peer: server.url },
          metrics: { enabled: true },
        });
        await second.get(HttpClientHelper).getServiceClient('peer').get('/x');
        expect(second.get(KugelCommsMetrics).registry).toBe(register);
        await second.close();
        expect(
          await value(register, 'kugel_comms_requests_total', {
            service: 'peer',
            method: 'GET',
            status_class: '2xx',
          }),
        ).toBe(2);
      } finally {
        register.clear();
      }
    });

    it('applies metrics.prefix', async () => {
      const registry = new Registry();
      const app = await bootKugelComms({
        services: { peer: server.url },
        metrics: { enabled: true, registry, prefix: 'pos_' },
      });
      try {
        await app.get(HttpClientHelper).getServiceClient('peer').get('/x');
        expect((await registry.getMetricsAsJSON()).map((m) => m.name).sort()).toEqual([
          'pos_circuit_breaker_state',
          'pos_circuit_breaker_transitions_total',
          'pos_request_duration_seconds',
          'pos_request_errors_total',
          'pos_requests_total',
          'pos_retries_total',
          'pos_ws_buffered_messages',
          'pos_ws_connections',
          'pos_ws_messages_total',
          'pos_ws_reconnects_total',
          'pos_ws_send_failures_total',
        ]);
        expect(
          await value(registry, 'pos_requests_total', {
            service: 'peer',
            method: 'GET',
            status_class: '2xx',
          }),
        ).toBe(1);
      } finally {
        await app.close();
      }
    });

    it('stops boot when the registry holds a different metric under one of its names', async () => {
      const registry = new Registry();
      new Counter({
        name: 'kugel_comms_requests_total',
        help: 'not ours',
        labelNames: ['route'],
        registers: [registry],
      });
      await expect(
        bootKugelComms({ dapr: { waitForSidecarMs: 0 }, metrics: { enabled: true, registry } }),
      ).rejects.toThrow(
        /metric "kugel_comms_requests_total" is already in the registry as a Counter with labels \[route\]; kugel-comms needs a Counter with labels \[service, method, status_class\]/,
      );
    });
  });

  it('keeps counting when a listener throws', async () => {
    const registry = new Registry();
    const app = await bootKugelComms({
      services: { peer: server.url },
      metrics: { enabled: true, registry },
    });
    try {
      app.get(KugelCommsEvents).requestCompleted.on(() => {
        throw new Error('listener bug');
      });
      await expect(app.get(HttpClientHelper).getServiceClient('peer').get('/x')).resolves.toEqual({
        ok: true,
      });
      expect(
        await value(registry, 'kugel_comms_requests_total', {
          service: 'peer',
          method: 'GET',
          status_class: '2xx',
        }),
      ).toBe(1);
    } finally {
      await app.close();
    }
  });
});
