import { Logger } from '@nestjs/common';
import axios, { AxiosAdapter, AxiosError, AxiosResponse } from 'axios';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { CircuitBreaker } from '../circuit-breaker/circuit-breaker';
import { CircuitState } from '../circuit-breaker/circuit-state';
import { KugelCommsEvents } from '../kugel-comms.events';
import { RetryScheduledEvent } from './call-events';
import { DEFAULTS } from '../options/defaults';
import { CallSpec } from './call-state';
import { createTransport, Transport } from './transport';

/** A real server on 127.0.0.1:0 answering `status` to every request, counting them by path. */
async function server(answer: (path: string) => number) {
  const seen: string[] = [];
  const s = http.createServer((req, res) => {
    seen.push(req.url ?? '');
    res.writeHead(answer(req.url ?? ''), { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ path: req.url }));
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  return { url, seen, close: () => new Promise<void>((resolve) => s.close(() => resolve())) };
}

function transport(baseUrl: string, events: KugelCommsEvents, initialDelayMs: number): Transport {
  return createTransport({
    ...DEFAULTS.http,
    client: 'peer',
    baseUrl,
    backoff: { ...DEFAULTS.http.backoff, initialDelayMs },
    breakerGuard: true,
    parsing: 'json',
    propagateTrace: false,
    events,
    logger: new Logger('call-runner.spec'),
  });
}

describe('CallRunner and the breaker guard interceptor (real sockets)', () => {
  let peer: Awaited<ReturnType<typeof server>>;
  const events = new KugelCommsEvents();
  let t: Transport;
  beforeAll(async () => {
    peer = await server((path) => (path.startsWith('/busy') ? 503 : path.startsWith('/broken') ? 500 : 200));
    t = transport(peer.url, events, 1_000);
  });
  afterAll(async () => {
    t.destroy();
    await peer.close();
  });

  it('does not send a retry into a breaker that opened during its backoff; the call ends with the failure it had', async () => {
    const breaker = new CircuitBreaker('http:peer', { failureThreshold: 1, resetTimeoutMs: 60_000 });
    const retries: RetryScheduledEvent[] = [];
    const off = events.retryScheduled.on((e) => retries.push(e));
    const spec = (route: string): CallSpec => ({ route, repeatable: true, breaker });
    const retryPending = new Promise<void>((resolve) => events.retryScheduled.on(() => resolve()));
    // The first call gets a 503 and waits 1 s (+ jitter) for its retry ...
    const first = t.runner.run({ method: 'GET', url: '/busy/1' }, spec('/busy/1'));
    await retryPending;
    expect(retries).toHaveLength(1);
    // ... while another call's 500 opens the breaker (threshold 1).
    const second = await t.runner.run(
      { method: 'GET', url: '/broken', 'axios-retry': { retries: 0 } },
      spec('/broken'),
    );
    expect(second).toMatchObject({ ok: false, kind: 'status', status: 500 });
    expect(breaker.state).toBe(CircuitState.Open);
    const result = await first;
    off();
    expect(result).toMatchObject({ ok: false, kind: 'status', status: 503, attempts: 1 });
    expect(peer.seen.filter((p) => p === '/busy/1')).toHaveLength(1);
    // And the admission: a new call is refused before axios runs, nothing sent.
    const before = peer.seen.length;
    await expect(t.runner.run({ method: 'GET', url: '/ok' }, spec('/ok'))).resolves.toMatchObject({
      ok: false,
      kind: 'circuit-open',
      code: 'ERR_CIRCUIT_OPEN',
      attempts: 0,
    });
    expect(peer.seen).toHaveLength(before);
  });

  it('settles a permit once per call, after all its attempts (four failed attempts are one failure)', async () => {
    const breaker = new CircuitBreaker('http:peer2', { failureThreshold: 2 });
    const fast = transport(peer.url, events, 1);
    try {
      // Two failed calls (4 attempts each) are two failures, not eight: the breaker opens at the second.
      const a = await fast.runner.run({ method: 'GET', url: '/busy/a' }, { route: '/busy', repeatable: true, breaker });
      expect(a).toMatchObject({ ok: false, status: 503, attempts: 4 });
      expect(breaker.snapshot()).toMatchObject({ state: 'closed', consecutiveFailures: 1 });
      await fast.runner.run({ method: 'GET', url: '/busy/b' }, { route: '/busy', repeatable: true, breaker });
      expect(breaker.state).toBe(CircuitState.Open);
    } finally {
      fast.destroy();
    }
  });

  it('can be driven from an axios config: an axios instance whose adapter hands the call to the runner', async () => {
    // What an `HttpService` over a service's pooled client needs: its requests take the same
    // runner (agent, axios-retry, budget, breaker, events), and come back as axios answers.
    const breaker = new CircuitBreaker('http:facade', { failureThreshold: 1 });
    const viaRunner: AxiosAdapter = async (config) => {
      const result = await t.runner.run(
        { method: config.method, url: config.url, headers: config.headers.toJSON() as Record<string, string> },
        { route: config.url ?? '-', repeatable: config.method === 'get', breaker },
      );
      if (result.ok) {
        return {
          data: result.data,
          status: result.status,
          statusText: '',
          headers: result.headers,
          config,
        } as AxiosResponse;
      }
      const response =
        result.status === undefined
          ? undefined
          : ({
              data: result.response,
              status: result.status,
              statusText: '',
              headers: result.headers ?? {},
              config,
            } as AxiosResponse);
      throw new AxiosError(result.message, result.code, config, undefined, response);
    };
    const facade = axios.create({ adapter: viaRunner, transformResponse: [] });
    const completed: string[] = [];
    const off = events.requestCompleted.on((e) => completed.push(`${e.route} ${e.outcome}`));
    try {
      await expect(facade.get('/facade/ok')).resolves.toMatchObject({ status: 200, data: { path: '/facade/ok' } });
      const failed = await facade.get('/broken/f').catch((e: AxiosError) => e);
      expect(failed).toMatchObject({ response: { status: 500 } });
      const refused = await facade.get('/facade/ok').catch((e: AxiosError) => e);
      expect(refused).toMatchObject({ code: 'ERR_CIRCUIT_OPEN' });
      expect(completed).toEqual(['/facade/ok success', '/broken/f error', '/facade/ok rejected']);
    } finally {
      off();
    }
  });
});
