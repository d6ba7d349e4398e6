import { TestingModule } from '@nestjs/testing';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import { CircuitState, CircuitStateChange, DaprClientHelper, KugelCommsEvents } from '../../lib';
import { Daprd } from '../dapr/daprd';
import { bootKugelComms } from '../support/module-fixture';
import { waitUntil } from '../support/processes';
import { RedisServer } from '../support/redis';
import { quietLogs, restoreLogs, Scenario } from './support/scenario';

/**
 * The sidecar and its store failing under load: a real daprd (the project's test build) killed
 * and restarted while 100 callers publish and save, and Redis stopped behind a running sidecar.
 * Every call must end in `true`/`false` (never a rejection or a hang), and every save that
 * answered `true` must read back once the system has recovered.
 */
describe('faults: the sidecar and its state store', () => {
  const CALLERS = 100;
  const DEADLINE = 15_000;
  let redis: RedisServer;
  let scenario: Scenario | undefined;
  let app: TestingModule | undefined;

  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterEach(async () => {
    scenario?.dispose();
    scenario = undefined;
    await app?.close();
    app = undefined;
    restoreLogs();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  /** Boots kugel-comms against `daprd` with a short breaker reset (300 ms) and records breaker changes. */
  async function boot(daprd: Daprd): Promise<{ dapr: DaprClientHelper; changes: CircuitStateChange[] }> {
    quietLogs();
    app = await bootKugelComms({
      dapr: {
        httpEndpoint: daprd.httpEndpoint,
        waitForSidecarMs: 0,
        timeoutMs: 3_000,
        retries: 1,
        breaker: { resetTimeoutMs: 300 },
      },
      http: { retryDelayMs: 10, maxRetryDelayMs: 50 },
    });
    quietLogs();
    const changes: CircuitStateChange[] = [];
    app.get(KugelCommsEvents).breakerStateChanged.on((c) => changes.push(c));
    return { dapr: app.get(DaprClientHelper), changes };
  }

  interface Acked {
    key: string;
    value: { c: number; i: number; tag: string };
    startedAt: number;
  }

  /** `CALLERS` loops of publish + save (unique keys) until `stop()`. */
  function startLoad(s: Scenario, dapr: DaprClientHelper, tag: string) {
    let running = true;
    const acked: Acked[] = [];
    const publish = { ok: 0, failed: 0 };
    const caller = async (c: number) => {
      for (let i = 0; running; i += 1) {
        const startedAt = Date.now();
        const key = `${tag}-c${c}-${i}`;
        const value = { c, i, tag };
        const [p, saved] = await Promise.all([
          s.dapr(() => dapr.detailed.publishEvent('pubsub', 'faults', value), DEADLINE),
          s.dapr(() => dapr.detailed.saveState('statestore', key, value), DEADLINE),
        ]);
        if (p?.ok) publish.ok += 1;
        else publish.failed += 1;
        if (saved?.ok) acked.push({ key, value, startedAt });
        await sleep(20);
      }
    };
    const done = Promise.all(Array.from({ length: CALLERS }, (_, c) => caller(c)));
    return {
      acked,
      publish,
      stop: async () => {
        running = false;
        await done;
      },
    };
  }

  /** Reads every acknowledged save back (bulk, 100 keys a call); a missing or different value is lost. */
  async function readBack(s: Scenario, dapr: DaprClientHelper, entries: Acked[]): Promise<number> {
    let checked = 0;
    for (let from = 0; from < entries.length; from += 100) {
      const chunk = entries.slice(from, from + 100);
      let values: Record<string, unknown> | null = null;
      await waitUntil(
        async () =>
          (values = await dapr.getBulkState(
            'statestore',
            chunk.map((e) => e.key),
          )) !== null,
        10_000,
        'bulk read-back',
        100,
      );
      for (const e of chunk) {
        checked += 1;
        const got = values![e.key];
        if (!isDeepStrictEqual(got, e.value))
          s.markLost(`save of ${e.key} answered true but reads back as ${JSON.stringify(got)}`);
      }
    }
    return checked;
  }

  const closed = (dapr: DaprClientHelper) =>
    dapr.breakerFor('state', 'statestore').state === CircuitState.Closed &&
    dapr.breakerFor('pubsub', 'pubsub').state === CircuitState.Closed;
  const opened = (changes: CircuitStateChange[], name: string) =>
    changes.some((c) => c.breaker === name && c.to === CircuitState.Open);

  it.each([
    ['in-memory', 'saves acknowledged after the restart (in-memory state dies with the process)'],
    ['redis-state', 'every acknowledged save, before and after the kill (state in Redis)'],
  ] as const)(
    'daprd (%s) killed under 100 callers and restarted: every call reported, acknowledged saves read back',
    async (components, readBackScope) => {
      const daprd = await Daprd.start({ components, redisHost: redis.host });
      try {
        scenario = new Scenario(
          `sidecar (${components}) SIGKILLed under ${CALLERS} callers publishing and saving, then restarted`,
        );
        const { dapr, changes } = await boot(daprd);
        const load = startLoad(scenario, dapr, `kill-${components}`);
        await sleep(400);
        await daprd.kill();
        await sleep(600);
        await daprd.startProcess();
        const restartedAt = Date.now();
        await waitUntil(
          async () => closed(dapr) && load.acked.some((a) => a.startedAt > restartedAt),
          15_000,
          'breakers closed after the restart',
          50,
        );
        await sleep(400);
        await load.stop();
        const toCheck = components === 'redis-state' ? load.acked : load.acked.filter((a) => a.startedAt > restartedAt);
        const checked = await readBack(scenario, dapr, toCheck);
        const row = await scenario.finish(
          `read back ${checked} ${readBackScope}; publish ${load.publish.ok} ok / ${load.publish.failed} reported; ` +
            `breaker changes: ${changes
              .map((c) => `${c.breaker} ${c.to}`)
              .filter((v, i, a) => a.indexOf(v) === i)
              .join(', ')}`,
        );
        expect(opened(changes, 'state:statestore')).toBe(true);
        expect(opened(changes, 'pubsub:pubsub')).toBe(true);
        expect(row.failedReported).toBeGreaterThan(0);
        expect(checked).toBeGreaterThan(0);
        expect(row).toMatchObject({ lost: 0, unhandledRejections: 0 });
        expect(row.succeeded + row.failedReported).toBe(row.attempted);
      } finally {
        await daprd.dispose();
      }
    },
    120_000,
  );

  it('Redis stopped behind a running sidecar: the state breaker opens, publishing goes on, state recovers', async () => {
    const daprd = await Daprd.start({ components: 'redis-state', redisHost: redis.host });
    try {
      scenario = new Scenario(
        `Redis stopped behind a running sidecar (redis-state) under ${CALLERS} callers, then restarted`,
      );
      const { dapr, changes } = await boot(daprd);
      const load = startLoad(scenario, dapr, 'redis-down');
      await sleep(400);
      await redis.stop();
      await waitUntil(async () => opened(changes, 'state:statestore'), 15_000, 'the state breaker to open', 50);
      await sleep(800);
      await redis.startProcess();
      const upAt = Date.now();
      await waitUntil(
        async () => closed(dapr) && load.acked.some((a) => a.startedAt > upAt),
        20_000,
        'the state breaker to close',
        50,
      );
      await sleep(400);
      await load.stop();
      // Redis runs without persistence here, so saves acknowledged before it was killed are gone
      // with it; those made after it came back must all read back.
      const checked = await readBack(
        scenario,
        dapr,
        load.acked.filter((a) => a.startedAt > upAt),
      );
      const row = await scenario.finish(
        `publish ${load.publish.ok} ok / ${load.publish.failed} reported (in-memory pub/sub, own breaker); read back ${checked} saves made after Redis returned; ` +
          `breaker changes: ${changes
            .map((c) => `${c.breaker} ${c.to}`)
            .filter((v, i, a) => a.indexOf(v) === i)
            .join(', ')}`,
      );
      expect(load.publish.failed).toBe(0);
      expect(opened(changes, 'pubsub:pubsub')).toBe(false);
      expect(row.failedReported).toBeGreaterThan(0);
      expect(checked).toBeGreaterThan(0);
      expect(row).toMatchObject({ lost: 0, unhandledRejections: 0 });
    } finally {
      await daprd.dispose();
      if (!(await redisUp(redis))) await redis.startProcess();
    }
  }, 120_000);
});

async function redisUp(redis: RedisServer): Promise<boolean> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const socket = net.connect(redis.port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
