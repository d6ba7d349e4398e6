import { TestingModule } from '@nestjs/testing';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { HttpClientHelper } from '../../lib';
import { bootKugelComms } from '../support/module-fixture';
import { json, startTestServer, TestServer } from '../support/test-server';
import { quietLogs, restoreLogs, Scenario } from './support/scenario';

/**
 * Load on one peer: 1,000 concurrent calls through a pool of `maxSockets` 16. The server counts
 * its open connections (it must never see more than 16 at once), and the heap must come back to
 * its level once the calls are done (measured after forced GCs).
 */
describe('faults: 1,000 concurrent calls to one peer', () => {
  const MAX_SOCKETS = 16;
  const CALLS = 1_000;
  let server: TestServer;
  let app: TestingModule;
  let scenario: Scenario | undefined;

  beforeAll(async () => {
    server = await startTestServer((req, res) => {
      // A short wait so that calls pile up behind the pool.
      setTimeout(() => json(res, 200, { url: req.url, pad: 'p'.repeat(200) }), 2);
    });
    quietLogs();
    app = await bootKugelComms({
      services: { peer: { baseUrl: server.url, maxSockets: MAX_SOCKETS } },
      dapr: { waitForSidecarMs: 0 },
    });
    quietLogs();
  });
  afterEach(() => scenario?.dispose());
  afterAll(async () => {
    await app?.close();
    await server?.close();
    restoreLogs();
  });

  it(`never opens more than maxSockets (${MAX_SOCKETS}) connections, loses no call, and the heap returns to its level`, async () => {
    const client = app.get(HttpClientHelper).getServiceClient('peer');
    const gc = exposeGc();
    const round = (s: Scenario, r: number) =>
      Promise.all(
        Array.from({ length: CALLS }, (_, i) => s.http(() => client.get<{ url: string }>(`/items/${r}-${i}`), 60_000)),
      );
    // Warm-up round: code paths compiled, pool filled.
    await Promise.all(Array.from({ length: CALLS }, (_, i) => client.get(`/items/0-${i}`)));
    // The test server keeps a record of every request in this same process: drop it before each
    // measurement so that only the client's memory is compared.
    server.requests.length = 0;
    const baseline = heapAfterGc(gc);
    scenario = new Scenario(`${CALLS} concurrent GETs × 3 rounds, one peer, maxSockets ${MAX_SOCKETS}`);
    const connectionsBefore = server.connections;
    for (let r = 1; r <= 3; r += 1) {
      const outcomes = await round(scenario, r);
      outcomes.forEach((o, i) => expect(o.ok && o.value.url).toBe(`/items/${r}-${i}`));
    }
    server.requests.length = 0;
    const after = heapAfterGc(gc);
    const growthMb = (after - baseline) / 1024 / 1024;
    const row = await scenario.finish(
      `server saw at most ${server.maxConcurrentConnections} connections at once (${server.connections - connectionsBefore} new during the rounds); ` +
        `heap after GC ${(baseline / 1048576).toFixed(1)} → ${(after / 1048576).toFixed(1)} MB (${growthMb >= 0 ? '+' : ''}${growthMb.toFixed(2)} MB)`,
    );
    expect(server.maxConcurrentConnections).toBeLessThanOrEqual(MAX_SOCKETS);
    expect(row).toMatchObject({
      attempted: 3 * CALLS,
      succeeded: 3 * CALLS,
      failedReported: 0,
      lost: 0,
      unhandledRejections: 0,
    });
    // Loose bound: 3,000 calls must not leave megabytes behind (a leak of 1 KB per call would be ~3 MB).
    expect(growthMb).toBeLessThan(2);
  }, 120_000);
});

/**
 * `global.gc` when Node runs with --expose-gc; otherwise the flag is turned on at run time and
 * the function taken from a fresh context (V8 installs `gc` in contexts created after the flag).
 */
function exposeGc(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === 'function') return existing;
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as (() => void) | undefined;
  if (typeof gc !== 'function') throw new Error('could not expose the garbage collector (run node with --expose-gc)');
  return gc;
}

function heapAfterGc(gc: () => void): number {
  for (let i = 0; i < 3; i += 1) gc();
  return process.memoryUsage().heapUsed;
}
