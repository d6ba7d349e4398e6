// Open breaker: how fast a call is refused once its breaker is open, and proof that the refusal
// opens no socket (a net.Server takes over the dead port after the breaker opened and counts
// connections).
import 'reflect-metadata';
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import { CircuitState, DaprClientHelper, HttpClientHelper, isHttpClientError } from '../lib';
import { bootKugel } from './http';
import { closedPort, quantile } from './support';

export interface BreakerCase {
  name: string;
  calls: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
  /** Connections the listener on the dead port accepted while the calls ran. */
  connections: number;
  /** The listener did count a control connection made after the calls (the probe works). */
  probeVerified: boolean;
  state: string;
}

export interface BreakerBenchResult {
  cases: BreakerCase[];
}

/** Times `calls` sequential calls of `op` (after `warmup` untimed ones). */
async function timeSequential(op: () => Promise<void>, calls: number, warmup: number): Promise<Float64Array> {
  for (let i = 0; i < warmup; i += 1) await op();
  const lat = new Float64Array(calls);
  for (let i = 0; i < calls; i += 1) {
    const t0 = performance.now();
    await op();
    lat[i] = (performance.now() - t0) * 1000;
  }
  return lat.sort();
}

async function listenCounting(
  port: number,
): Promise<{ count: () => number; verify: () => Promise<boolean>; close: () => Promise<void> }> {
  let connections = 0;
  const server = net.createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    count: () => connections,
    // One control connection after the measured calls: it must be counted.
    verify: async () => {
      const before = connections;
      await new Promise<void>((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1', () => socket.end());
        socket.on('close', () => resolve());
        socket.on('error', reject);
      });
      for (let i = 0; i < 100 && connections === before; i += 1) await new Promise((r) => setTimeout(r, 5));
      return connections === before + 1;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export async function benchBreaker(o: { calls: number; warmup: number }): Promise<BreakerBenchResult> {
  const cases: BreakerCase[] = [];

  // 1. ServiceClient guarded by a breaker (kugel defaults otherwise: retries, budget), dead peer.
  {
    const port = await closedPort();
    const app = await bootKugel({
      services: { dead: { baseUrl: `http://127.0.0.1:${port}`, breaker: {} } },
    });
    const client = app.get(HttpClientHelper).getServiceClient('dead');
    // failureThreshold (3) logical calls fail with ECONNREFUSED (after their retries): open.
    await Promise.all([0, 1, 2].map(() => client.get('/item').catch(() => undefined)));
    if (client.breaker?.state !== CircuitState.Open)
      throw new Error(`breaker did not open (state ${client.breaker?.state})`);
    const listener = await listenCounting(port);
    const op = async () => {
      try {
        await client.get('/item');
        throw new Error('an open breaker let a call through');
      } catch (error) {
        if (!isHttpClientError(error) || error.code !== 'ERR_CIRCUIT_OPEN') throw error;
      }
    };
    const lat = await timeSequential(op, o.calls, o.warmup);
    cases.push({
      name: 'ServiceClient.get (breaker open)',
      calls: o.calls,
      p50Us: quantile(lat, 0.5),
      p99Us: quantile(lat, 0.99),
      maxUs: lat[lat.length - 1],
      connections: listener.count(),
      probeVerified: await listener.verify(),
      state: String(client.breaker?.state),
    });
    await listener.close();
    await app.close();
  }

  // 2. DaprClientHelper with the sidecar gone: the state store's breaker opens, getState refuses.
  {
    const port = await closedPort();
    const app = await bootKugel({
      dapr: { httpEndpoint: `http://127.0.0.1:${port}`, waitForSidecarMs: 0 },
    });
    const dapr = app.get(DaprClientHelper);
    await Promise.all([0, 1, 2].map((i) => dapr.saveState('statestore', `k${i}`, i)));
    const breaker = dapr.breakerFor('state', 'statestore');
    if (breaker.state !== CircuitState.Open) throw new Error(`dapr breaker did not open (state ${breaker.state})`);
    const listener = await listenCounting(port);
    const op = async () => {
      const r = await dapr.detailed.getState('statestore', 'cart-1');
      if (r.ok || r.code !== 'ERR_CIRCUIT_OPEN') throw new Error('an open breaker let a call through');
    };
    const lat = await timeSequential(op, o.calls, o.warmup);
    cases.push({
      name: 'DaprClientHelper.getState (breaker open)',
      calls: o.calls,
      p50Us: quantile(lat, 0.5),
      p99Us: quantile(lat, 0.99),
      maxUs: lat[lat.length - 1],
      connections: listener.count(),
      probeVerified: await listener.verify(),
      state: String(breaker.state),
    });
    await listener.close();
    await app.close();
  }

  return { cases };
}
