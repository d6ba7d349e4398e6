import { TestingModule } from '@nestjs/testing';
import { HttpClientHelper, KugelCommsEvents, KugelCommsModuleOptions, RetryScheduledEvent } from '../../lib';
import { bootKugelComms } from '../support/module-fixture';
import { closedPort, json, startTestServer, TestServer } from '../support/test-server';
import { errorOf } from '../support/errors';
import { captureLogs } from '../support/log-capture';

/** Fails with `status` until `okAfter` requests came to the same URL, then answers 200. */
function flaky(status: number, okAfter = Infinity, headers: Record<string, string> = {}) {
  const seen = new Map<string, number>();
  return (req: { url?: string }, res: import('node:http').ServerResponse) => {
    const n = (seen.get(req.url ?? '') ?? 0) + 1;
    seen.set(req.url ?? '', n);
    if (n > okAfter) return json(res, 200, { n });
    json(res, status, { n }, headers);
  };
}

describe('retries (axios-retry, counted by the server)', () => {
  let server: TestServer;
  let app: TestingModule;
  let status = 503;
  const boot = (opts: KugelCommsModuleOptions = {}) =>
    bootKugelComms({
      services: { peer: server.url },
      http: { backoff: { initialDelayMs: 1 }, ...opts.http },
      dapr: { waitForSidecarMs: 0 },
    });

  beforeAll(async () => {
    server = await startTestServer((req, res) => json(res, status, { status }));
    app = await boot({ http: { retryBudget: false } });
  });
  afterAll(async () => {
    await app.close();
    await server.close();
  });
  const client = () => app.get(HttpClientHelper).getServiceClient('peer');
  const attemptsFor = async (method: 'get' | 'post' | 'put' | 'patch' | 'delete', s: number, options = {}) => {
    status = s;
    const before = server.requests.length;
    const call =
      method === 'get' || method === 'delete'
        ? client()[method]('/r', options)
        : client()[method]('/r', { a: 1 }, options);
    const error = await errorOf(call);
    const seen = server.requests.length - before;
    expect(error.attempts).toBe(seen);
    expect(error.statusCode).toBe(s);
    return seen;
  };

  it.each([429, 502, 503, 504])('GET %i: 1 attempt + 3 retries', async (s) => {
    expect(await attemptsFor('get', s)).toBe(4);
  });

  it.each([400, 401, 403, 404, 409, 422, 500, 501])('GET %i: never retried', async (s) => {
    expect(await attemptsFor('get', s)).toBe(1);
  });

  it.each(['put', 'delete'] as const)('%s 503 is retried (idempotent)', async (m) => {
    expect(await attemptsFor(m, 503)).toBe(4);
  });

  it.each(['post', 'patch'] as const)('%s 503 is not retried (the request reached the server)', async (m) => {
    expect(await attemptsFor(m, 503)).toBe(1);
    expect(await attemptsFor(m, 429)).toBe(1);
  });

  it('POST is retried when the caller opts in, or sends an Idempotency-Key', async () => {
    expect(await attemptsFor('post', 503, { idempotent: true })).toBe(4);
    expect(await attemptsFor('post', 503, { headers: { 'Idempotency-Key': 'k-1' } })).toBe(4);
    expect(server.requests.at(-1)?.headers['idempotency-key']).toBe('k-1');
  });

  it('per-call retries override the default', async () => {
    expect(await attemptsFor('get', 503, { retries: 0 })).toBe(1);
    expect(await attemptsFor('get', 503, { retries: 1 })).toBe(2);
  });

  it('succeeds when a retry succeeds', async () => {
    const peer = await startTestServer(flaky(503, 2));
    const local = await bootKugelComms({
      services: { p: peer.url },
      http: { backoff: { initialDelayMs: 1 } },
      dapr: { waitForSidecarMs: 0 },
    });
    try {
      await expect(local.get(HttpClientHelper).getServiceClient('p').get('/x')).resolves.toEqual({ n: 3 });
      expect(peer.requests).toHaveLength(3);
    } finally {
      await local.close();
      await peer.close();
    }
  });

  it('POST to a peer that refuses connections is retried (it never reached the server)', async () => {
    const port = await closedPort();
    const local = await bootKugelComms({
      services: { down: `http://127.0.0.1:${port}` },
      http: { backoff: { initialDelayMs: 1 }, retryBudget: false },
      dapr: { waitForSidecarMs: 0 },
    });
    try {
      const error = await errorOf(local.get(HttpClientHelper).getServiceClient('down').post('/orders', { id: 1 }));
      expect(error.code).toBe('ECONNREFUSED');
      expect(error.attempts).toBe(4);
      expect(error.statusCode).toBeUndefined();
    } finally {
      await local.close();
    }
  });

  it('backs off exponentially between attempts, each delay capped by backoff.maxDelayMs', async () => {
    const BASE = 50;
    const CAP = 100;
    const RETRIES = 7;
    const peer = await startTestServer((req, res) => json(res, 503, {}));
    const stamps: number[] = [];
    peer.server.on('request', () => stamps.push(performance.now()));
    const local = await bootKugelComms({
      services: { p: { baseUrl: peer.url, retries: RETRIES } },
      http: { backoff: { initialDelayMs: BASE, maxDelayMs: CAP }, retryBudget: false },
      dapr: { waitForSidecarMs: 0 },
    });
    const scheduled: RetryScheduledEvent[] = [];
    local.get(KugelCommsEvents).retryScheduled.on((e) => scheduled.push(e));
    const logs = captureLogs();
    try {
      await errorOf(local.get(HttpClientHelper).getServiceClient('p').get('/x'));
      expect(stamps).toHaveLength(1 + RETRIES);
      // Each retry is one WARN line and one event naming the call and why it is tried again.
      const warned = logs.logger.lines.filter((l) => l.level === 'warn' && l.text.includes(', retry '));
      expect(warned.map((l) => l.text.replace(/^\[[^\]]*\] /, ''))).toEqual(
        [1, 2, 3, 4, 5, 6, 7].map((k) => `GET p /x: 503, retry ${k}`),
      );
      expect(scheduled[0]).toMatchObject({ client: 'p', method: 'GET', route: '/x', reason: '503' });
      // The delay of retry k: the step min(CAP, BASE × 2^(k-1)) minus up to 20 % jitter: 40-50,
      // then 80-100 where 200, 400, ... 3,200 would be (jitter still spreads the delays at the cap).
      const delays = scheduled.map((e) => e.delayMs);
      expect(scheduled.map((e) => e.retry)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      delays.forEach((delay, i) => {
        const step = Math.min(CAP, BASE * 2 ** i);
        expect(delay).toBeGreaterThanOrEqual(Math.floor(step * 0.8));
        expect(delay).toBeLessThanOrEqual(step);
      });
      expect(delays[0]).toBeLessThan(delays[1]); // it grows ...
      expect(Math.max(...delays)).toBeLessThanOrEqual(CAP); // ... up to the cap, never past it
      // The waits at the server: never shorter than the delay (timers do not fire early) ...
      const gaps = stamps.slice(1).map((t, i) => t - stamps[i]);
      gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(delays[i] - 2));
      // ... and, all seven together (about 650 ms), shorter than the last uncapped delay alone
      // would be (3,200 ms): the cap bounds what the caller waits, not just what is reported.
      expect(stamps[RETRIES] - stamps[0]).toBeLessThan(BASE * 2 ** (RETRIES - 1));
    } finally {
      logs.restore();
      await local.close();
      await peer.close();
    }
  });

  it('honours Retry-After, capped by backoff.maxDelayMs', async () => {
    const peer = await startTestServer(flaky(503, 1, { 'Retry-After': '1' }));
    const stamps: number[] = [];
    peer.server.on('request', () => stamps.push(performance.now()));
    const local = await bootKugelComms({
      services: { p: peer.url },
      http: { backoff: { initialDelayMs: 1 } },
      dapr: { waitForSidecarMs: 0 },
    });
    const capped = await startTestServer(flaky(429, 1, { 'Retry-After': '120' }));
    const cappedStamps: number[] = [];
    capped.server.on('request', () => cappedStamps.push(performance.now()));
    const local2 = await bootKugelComms({
      services: { p: capped.url },
      http: { backoff: { initialDelayMs: 1, maxDelayMs: 200 } },
      dapr: { waitForSidecarMs: 0 },
    });
    try {
      await expect(local.get(HttpClientHelper).getServiceClient('p').get('/x')).resolves.toEqual({ n: 2 });
      expect(stamps[1] - stamps[0]).toBeGreaterThanOrEqual(990);
      await expect(local2.get(HttpClientHelper).getServiceClient('p').get('/x')).resolves.toEqual({ n: 2 });
      const waited = cappedStamps[1] - cappedStamps[0];
      expect(waited).toBeGreaterThanOrEqual(190);
      expect(waited).toBeLessThan(2_000);
    } finally {
      await local.close();
      await local2.close();
      await peer.close();
      await capped.close();
    }
  });

  it('the retry budget keeps attempts per call near 1.2 when a peer is down', async () => {
    const peer = await startTestServer((req, res) => json(res, 503, {}));
    const local = await bootKugelComms({
      services: { p: peer.url },
      http: { backoff: { initialDelayMs: 0 }, retryBudget: { ratio: 0.2, minRetriesPerSecond: 0.1 } },
      dapr: { waitForSidecarMs: 0 },
    });
    try {
      const c = local.get(HttpClientHelper).getServiceClient('p');
      const calls = 200;
      for (let i = 0; i < calls; i += 1) await errorOf(c.get('/x'));
      // ratio 0.2 of 200 calls = 40 retries (the floor, 1 per 10 s window, is smaller).
      expect(peer.requests.length).toBeLessThanOrEqual(calls + 41);
      expect(peer.requests.length).toBeGreaterThan(calls);
    } finally {
      await local.close();
      await peer.close();
    }
  });
});
