import { TestingModule } from '@nestjs/testing';
import * as http from 'node:http';
import { CircuitBreakerHealthIndicator, DaprClientHelper } from '../../lib';
import { bootKugelComms } from '../support/module-fixture';
import { startSilentTcpServer, startTestServer, SilentTcpServer } from '../support/test-server';

/** The default bound of a sidecar probe (`isSidecarHealthy`, `checkSidecarHealth`). */
const DEFAULT_MS = 2_000;
/** Slack for a busy 2-core machine on top of a stated bound. */
const MARGIN_MS = 1_500;

/** Resolves `fn()`'s outcome and how long it took; rejects when it has not settled after `limitMs`. */
async function timed<T>(fn: () => Promise<T>, limitMs: number): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not settled after ${limitMs} ms`)), limitMs);
  });
  try {
    const value = await Promise.race([fn(), limit]);
    return { value, ms: Date.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A sidecar probe is bounded whatever timeout it is given, and has a socket of its own: real local
 * servers on port 0 that accept and never answer (a hung sidecar).
 */
describe('sidecar health probes: bounded, on sockets of their own', () => {
  let app: TestingModule | undefined;
  let silent: SilentTcpServer | undefined;
  afterEach(async () => {
    await app?.close();
    await silent?.close();
    app = undefined;
    silent = undefined;
  });

  it('isSidecarHealthy(key, 0 | NaN | -1 | ±Infinity | "500") against a sidecar that accepts and never answers settles down after the default 2000 ms', async () => {
    silent = await startSilentTcpServer();
    app = await bootKugelComms({ dapr: { httpEndpoint: silent.url, waitForSidecarMs: 0 } });
    const indicator = app.get(CircuitBreakerHealthIndicator);
    const bad = [0, NaN, -1, Infinity, -Infinity, '500' as unknown as number];

    const probes = await Promise.all(
      bad.map((timeoutMs) => timed(() => indicator.isSidecarHealthy('sidecar', timeoutMs), DEFAULT_MS + MARGIN_MS)),
    );
    for (const { value, ms } of probes) {
      expect(value).toEqual({ sidecar: { status: 'down', message: 'sidecar not healthy: ECONNABORTED' } });
      expect(ms).toBeGreaterThanOrEqual(DEFAULT_MS - 50);
    }
    expect(silent.accepted).toBe(bad.length);
    // Each probe's socket is closed when its deadline passes.
    await silent.waitFor(() => silent!.open === 0, 'the probe connections to close');
  });

  it('a valid timeout is kept: isSidecarHealthy(key, 300) settles after about 300 ms; checkSidecarHealth(0) takes the default, never rejects', async () => {
    silent = await startSilentTcpServer();
    app = await bootKugelComms({ dapr: { httpEndpoint: silent.url, waitForSidecarMs: 0 } });
    const indicator = app.get(CircuitBreakerHealthIndicator);
    const short = await timed(() => indicator.isSidecarHealthy('sidecar', 300), 300 + MARGIN_MS);
    expect(short.value.sidecar.status).toBe('down');
    expect(short.ms).toBeLessThan(DEFAULT_MS);

    const dapr = app.get(DaprClientHelper);
    const bad = await timed(() => dapr.checkSidecarHealth(0), DEFAULT_MS + MARGIN_MS);
    expect(bad.value).toEqual({ healthy: false, error: 'ECONNABORTED' });
    expect(bad.ms).toBeGreaterThanOrEqual(DEFAULT_MS - 50);
  });

  it('a hung probe holds no socket of the pool the sidecar calls share (dapr.maxSockets: 1)', async () => {
    // The sidecar: its health endpoint accepts and never answers; publishing answers 204 at once.
    const held: http.ServerResponse[] = [];
    const sidecar = await startTestServer((req, res) => {
      if (req.url?.startsWith('/v1.0/healthz')) held.push(res);
      else res.writeHead(204).end();
    });
    try {
      app = await bootKugelComms({
        dapr: { httpEndpoint: sidecar.url, waitForSidecarMs: 0, maxSockets: 1, retries: 0, timeoutMs: 5_000 },
      });
      const indicator = app.get(CircuitBreakerHealthIndicator);
      const dapr = app.get(DaprClientHelper);

      const probe = indicator.isSidecarHealthy('sidecar', 4_000);
      while (held.length === 0) await new Promise((r) => setTimeout(r, 10));
      // The probe hangs on its own socket; the one socket of the calls' pool is free.
      const publish = await timed(() => dapr.detailed.publishEvent('pubsub', 'orders', { n: 1 }), 4_000);
      expect(publish.value).toMatchObject({ ok: true });
      expect(publish.ms).toBeLessThan(1_000);
      expect(sidecar.requests.map((r) => [r.url.split('?')[0], r.socket])).toEqual([
        ['/v1.0/healthz', 0],
        ['/v1.0/publish/pubsub/orders', 1],
      ]);
      // Two connections open at once: the probe's and the call's.
      expect(sidecar.maxConcurrentConnections).toBe(2);

      await expect(probe).resolves.toEqual({
        sidecar: { status: 'down', message: 'sidecar not healthy: ECONNABORTED' },
      });
    } finally {
      for (const res of held) res.destroy();
      await app?.close();
      app = undefined;
      await sidecar.close();
    }
  });
});
