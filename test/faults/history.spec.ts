import { TestingModule } from '@nestjs/testing';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DaprClientHelper } from '../../lib';
import { ClaimOutcome } from '../../lib/claims/claim-terms';
import { Daprd } from '../dapr/daprd';
import { waitForSubscriptions } from '../dapr/subscription-stack';
import { FaultProxy, FaultKind } from '../support/fault-proxy';
import { bootKugelComms } from '../support/module-fixture';
import { freePort, probeStatus, spawnLogged, stopProcess, waitUntil } from '../support/processes';
import { RedisServer } from '../support/redis';
import { checkHistory, History, historyTable, Run, Settlement } from './support/history';
import { quietLogs, restoreLogs, RESULTS_DIR } from './support/scenario';

/**
 * A randomized fault history: two replicas of a subscribing app (each with its sidecar), Redis,
 * and a publisher, with fault proxies between every app and its sidecar. 2,000 events are
 * published with dedupe on (keyed on the CloudEvent id the publisher's client gives each publish)
 * while faults are injected at random for a fixed time: latency spikes past the sidecar timeout,
 * resets after a request was read or before it was forwarded, answers swallowed, one sidecar kill,
 * one replica kill, one Redis restart. Each replica writes down every handler run (start, end) and
 * how each claim ended; the checker then reads the history and the done marks left in Redis.
 *
 * `FAULT_SEED` reproduces a run (the seed is printed); `FAULT_HISTORY=long` (what
 * `npm run test:faults` sets) injects faults for 5 minutes instead of 45 s.
 */
const SEED = process.env.FAULT_SEED ?? String(Math.floor(Math.random() * 1e9));
const FAULT_MS = Number(process.env.FAULT_HISTORY_MS ?? (process.env.FAULT_HISTORY === 'long' ? 300_000 : 45_000));
const EVENTS = 2_000;
const APP_ID = 'kugel-history';
const TOPIC = 'history';
const FIXTURE = path.join(__dirname, 'fixtures', 'history-replica.ts');
const COMPONENTS = 'redis-streams-history' as const;

/** A small seeded PRNG (mulberry32): the same seed gives the same events and fault schedule. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One replica slot: its sidecar (restartable on the same ports), the proxy in front of it, its app process. */
class ReplicaSlot {
  app?: ReturnType<typeof spawnLogged>;
  name: string;
  readonly names: string[] = [];
  readonly deaths = new Map<string, number>();

  private constructor(
    readonly slot: string,
    readonly platform: 'express' | 'fastify',
    readonly appPort: number,
    readonly daprd: Daprd,
    readonly proxy: FaultProxy,
    readonly dir: string,
  ) {
    this.name = slot;
  }

  static async create(slot: string, platform: 'express' | 'fastify', redisHost: string, dir: string) {
    const appPort = await freePort();
    const daprd = await Daprd.create({ components: COMPONENTS, redisHost, appPort, appId: APP_ID });
    const proxy = await FaultProxy.start({ upstream: { host: '127.0.0.1', port: daprd.httpPort } });
    return new ReplicaSlot(slot, platform, appPort, daprd, proxy, dir);
  }

  logOf(name: string): string {
    return path.join(this.dir, `${name}.log`);
  }

  /** Starts the app process under `name`, then its sidecar, and waits for the subscriptions. */
  async start(name: string): Promise<void> {
    this.name = name;
    this.names.push(name);
    fs.writeFileSync(this.logOf(name), '');
    const app = spawnLogged(process.execPath, ['-r', 'ts-node/register/transpile-only', FIXTURE], {
      ...process.env,
      PORT: String(this.appPort),
      DAPR_HTTP_PORT: String(this.proxy.port),
      REPLICA_NAME: name,
      REPLICA_PLATFORM: this.platform,
      HISTORY_TOPIC: TOPIC,
      HISTORY_LOG: this.logOf(name),
    });
    this.app = app;
    // The pod is gone with its app: a sidecar left running would answer its deliveries with errors.
    app.child.once('exit', () => void this.daprd.kill());
    await waitUntil(
      async () => (await probeStatus(`http://127.0.0.1:${this.appPort}/dapr/subscribe`)) === 200,
      60_000,
      `replica ${name} listening`,
      100,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${app.output.slice(-20).join('\n')}`);
    });
    await this.daprd.startProcess();
    await waitForSubscriptions(this.daprd, 2);
  }

  /** SIGKILL of the app process (its sidecar goes with it). */
  async kill(): Promise<void> {
    if (!this.app) return;
    this.deaths.set(this.name, Date.now());
    await stopProcess(this.app.child, 'SIGKILL');
    await this.daprd.kill();
  }

  async stop(): Promise<void> {
    if (this.app) await stopProcess(this.app.child, 'SIGTERM');
    await this.daprd.dispose();
    await this.proxy.close();
  }

  lines(): Array<{ replica: string; line: string }> {
    return this.names.flatMap((name) =>
      fs
        .readFileSync(this.logOf(name), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => ({ replica: name, line })),
    );
  }
}

/** A fault of the schedule, at `at` ms into the window. */
type Planned =
  | { at: number; kind: 'latency'; target: number; ms: number; forMs: number }
  | { at: number; kind: 'rule'; target: number; fault: Exclude<FaultKind, 'latency' | 'blackhole'> }
  | { at: number; kind: 'sidecar-kill' | 'replica-kill' | 'redis-restart' };

function schedule(random: () => number): Planned[] {
  const plan: Planned[] = [];
  const between = (a: number, b: number) => a + random() * (b - a);
  for (let at = between(1_000, 3_000); at < FAULT_MS - 2_000; at += between(2_000, 5_000)) {
    plan.push({
      at,
      kind: 'latency',
      target: Math.floor(random() * 3),
      ms: between(300, 2_500),
      forMs: between(300, 2_500),
    });
  }
  const rules = ['reset-after-request', 'reset-before-forward', 'blackhole-after-forward'] as const;
  for (let at = between(500, 2_000); at < FAULT_MS - 1_000; at += between(700, 2_500)) {
    plan.push({
      at,
      kind: 'rule',
      target: Math.floor(random() * 3),
      fault: rules[Math.floor(random() * rules.length)],
    });
  }
  plan.push({ at: FAULT_MS * between(0.2, 0.35), kind: 'sidecar-kill' });
  plan.push({ at: FAULT_MS * between(0.45, 0.6), kind: 'replica-kill' });
  plan.push({ at: FAULT_MS * between(0.7, 0.85), kind: 'redis-restart' });
  return plan.sort((a, b) => a.at - b.at);
}

describe(`a randomized fault history (FAULT_SEED=${SEED})`, () => {
  let dir: string;
  let redis: RedisServer;
  let publisherDaprd: Daprd;
  let publisherProxy: FaultProxy;
  let publisherApp: TestingModule;
  let reader: { daprd: Daprd; app: TestingModule } | undefined;
  let a: ReplicaSlot;
  let b: ReplicaSlot;

  beforeAll(async () => {
    console.log(`fault history: FAULT_SEED=${SEED}, faults for ${FAULT_MS / 1000} s`);
    // Kept after the run (under .tmp/faults/history/), for reading when a check fails.
    dir = path.join(RESULTS_DIR, 'history', `seed-${SEED}-${Date.now()}`);
    fs.mkdirSync(dir, { recursive: true });
    redis = await RedisServer.start({ durable: true });
    publisherDaprd = await Daprd.start({
      components: COMPONENTS,
      redisHost: redis.host,
      appId: 'kugel-history-publisher',
    });
    publisherProxy = await FaultProxy.start({ upstream: { host: '127.0.0.1', port: publisherDaprd.httpPort } });
    quietLogs();
    publisherApp = await bootKugelComms({
      dapr: {
        httpEndpoint: publisherProxy.url,
        waitForSidecarMs: 5_000,
        timeoutMs: 1_000,
        retries: 2,
        breaker: { resetTimeoutMs: 500 },
      },
      http: { backoff: { initialDelayMs: 50, maxDelayMs: 200 } },
    });
    quietLogs();
    [a, b] = await Promise.all([
      ReplicaSlot.create('A', 'express', redis.host, dir),
      ReplicaSlot.create('B', 'fastify', redis.host, dir),
    ]);
    await Promise.all([a.start('A'), b.start('B')]);
  }, 180_000);

  afterAll(async () => {
    await publisherApp?.close();
    await Promise.all([a?.stop(), b?.stop()]);
    await reader?.app.close();
    await reader?.daprd.dispose();
    await publisherProxy?.close();
    await publisherDaprd?.dispose();
    await redis?.dispose();
    restoreLogs();
  }, 120_000);

  it(
    'nothing acknowledged is lost, nothing is handled twice, no event runs twice at once',
    async () => {
      const random = prng(Number(SEED) || 1);
      const sleeps = Array.from({ length: EVENTS }, () => {
        const r = random();
        // Mostly quick; some past the renewal interval (2 s) or the handler timeout (2 s: answered
        // RETRY, running on late under the claim); a few past the 6 s lease (only renewals keep
        // their claim), all within the timeout plus a lease (8 s), when a claim is let go.
        if (r < 0.9) return Math.floor(random() * 20);
        if (r < 0.97) return Math.floor(300 + random() * 2_700);
        return Math.floor(6_300 + random() * 1_300);
      });
      const plan = schedule(random);
      const dapr = publisherApp.get(DaprClientHelper);
      const proxies = [publisherProxy, a.proxy, b.proxy];
      const acked = new Map<number, number>();
      const failedPublishes: Array<{ n: number; code: string }> = [];
      const applied: string[] = [];
      const started = Date.now();
      const elapsed = () => Date.now() - started;

      // The publisher: 2,000 publishes spread over the window, at most 20 in flight.
      const publishing = (async () => {
        const interval = (FAULT_MS * 0.85) / EVENTS;
        const inFlight = new Set<Promise<void>>();
        for (let n = 0; n < EVENTS; n += 1) {
          const due = n * interval - elapsed();
          if (due > 0) await sleep(due);
          while (inFlight.size >= 20) await Promise.race(inFlight);
          // Even publishes carry an id of the caller's (so a lost one can be traced in the logs); odd
          // ones the id the client makes (the same on every attempt of the call).
          const options = n % 2 === 0 ? { eventId: idOf(n) } : {};
          const p = dapr.detailed.publishEvent('pubsub', TOPIC, { n, sleepMs: sleeps[n] }, options).then((r) => {
            if (r.ok) acked.set(n, Date.now());
            else failedPublishes.push({ n, code: r.code });
          });
          const tracked = p.finally(() => inFlight.delete(tracked));
          inFlight.add(tracked);
        }
        await Promise.all(inFlight);
      })();

      // The faults, in schedule order.
      const faults = (async () => {
        for (const f of plan) {
          const due = f.at - elapsed();
          if (due > 0) await sleep(due);
          if (f.kind === 'latency') {
            const proxy = proxies[f.target];
            proxy.setLatency(f.ms);
            setTimeout(() => proxy.setLatency(0), f.forMs).unref();
            applied.push('latency');
          } else if (f.kind === 'rule') {
            proxies[f.target].addRule({ fault: { kind: f.fault }, times: 1 });
            applied.push(f.fault);
          } else if (f.kind === 'sidecar-kill') {
            await b.daprd.kill();
            await sleep(1_500);
            await b.daprd.startProcess();
            applied.push('sidecar kill (B)');
          } else if (f.kind === 'replica-kill') {
            await a.kill();
            await sleep(1_000);
            await a.start('A2');
            applied.push('replica kill (A)');
          } else {
            await redis.stop();
            await sleep(1_000);
            await redis.startProcess();
            applied.push('Redis restart');
          }
        }
      })();
      await Promise.all([publishing, faults]);
      for (const p of proxies) {
        p.clearRules();
        p.setLatency(0);
      }

      // Every acknowledged publish handled, then quiet (no new line for 8 s: redeliveries are over).
      const runsOf = () => parseRuns([...a.lines(), ...b.lines()]);
      await waitUntil(
        async () => {
          const done = new Set(
            runsOf()
              .filter((r) => r.result === 'ok')
              .map((r) => r.n),
          );
          return [...acked.keys()].every((n) => done.has(n));
        },
        150_000,
        'every acknowledged publish to be handled',
        1_000,
      ).catch(() => undefined); // the checker reports what is missing
      let lastCount = -1;
      let quietSince = Date.now();
      await waitUntil(
        async () => {
          const count = a.lines().length + b.lines().length;
          if (count !== lastCount) {
            lastCount = count;
            quietSince = Date.now();
          }
          return Date.now() - quietSince >= 8_000;
        },
        120_000,
        'the replicas to go quiet',
        500,
      );

      // The done marks: read from Redis through a sidecar of the app id (keys live under it).
      const lines = [...a.lines(), ...b.lines()];
      const runs = parseRuns(lines);
      reader = await startReader(redis.host);
      const keys = [...new Set(runs.map((r) => r.eventId))];
      const records = new Map<string, 'done' | 'claimed'>();
      const recordKey = (id: string) => ['kugel-dedupe', 'pubsub', TOPIC, id].map(encodeURIComponent).join('|');
      for (let i = 0; i < keys.length; i += 100) {
        const batch = keys.slice(i, i + 100);
        const values = await reader.app
          .get(DaprClientHelper)
          .getBulkState<{ state: 'done' | 'claimed' }>('statestore', batch.map(recordKey));
        expect(values).not.toBeNull();
        for (const id of batch) {
          const value = values![recordKey(id)];
          if (value) records.set(id, value.state);
        }
      }

      const history: History = {
        acked,
        failedPublishes,
        runs,
        settlements: parseSettlements(lines),
        deaths: new Map([...a.deaths, ...b.deaths]),
        records,
        unknownDedupeWrites: countUnknown(lines),
      };
      const report = checkHistory(history);
      // What the stream's consumer group still holds, and what the checker found, for reading a failed run.
      fs.writeFileSync(
        path.join(dir, 'end.json'),
        JSON.stringify(
          {
            pending: await redis.command('XPENDING', TOPIC, 'kugel-replicas', '-', '+', '100'),
            groups: await redis.command('XINFO', 'GROUPS', TOPIC),
            report,
            acked: [...acked.keys()].sort((x, y) => x - y),
            failedPublishes,
          },
          null,
          1,
        ),
      );
      const deadLettered = lines.filter((l) => l.line.startsWith('dead-letter ')).length;
      const kinds = [...new Set(applied)].map((k) => `${k} ×${applied.filter((x) => x === k).length}`);
      const text = historyTable(SEED, FAULT_MS, report, kinds);
      fs.mkdirSync(RESULTS_DIR, { recursive: true });
      fs.writeFileSync(path.join(RESULTS_DIR, 'history-latest.md'), `${text}\n\ndead-lettered: ${deadLettered}\n`);
      console.log(`\nfault history (FAULT_SEED=${SEED}):\n${text}\ndead-lettered: ${deadLettered}\n`);

      // The schedule ran, and the faults did something.
      expect(applied).toEqual(expect.arrayContaining(['sidecar kill (B)', 'replica kill (A)', 'Redis restart']));
      expect(proxies.reduce((sum, p) => sum + p.stats.resets, 0)).toBeGreaterThan(0);
      expect(report.acknowledged).toBeGreaterThan(EVENTS / 2);
      // The promises.
      expect({ neverHandled: report.ackedNeverHandled, traces: traces(report.ackedNeverHandled, lines) }).toEqual({
        neverHandled: [],
        traces: [],
      });
      expect(report.handledMoreThanOnce).toEqual([]);
      expect(report.concurrentRuns).toEqual([]);
      expect(report.handledWithoutDoneMark).toEqual([]);
      expect(deadLettered).toBe(0);
    },
    FAULT_MS + 600_000,
  );
});

/** The event id the publisher gives an even publish. */
function idOf(n: number): string {
  return `history-${SEED}-${n}`;
}

/** Every line the replicas wrote about the events of `ns` (by their ids, when the publisher gave them). */
function traces(ns: number[], lines: Array<{ replica: string; line: string }>): string[] {
  return ns.flatMap((n) =>
    lines
      .filter(({ line }) => line.includes(n % 2 === 0 ? idOf(n) : ` ${n} `))
      .map(({ replica, line }) => `${n} ${replica}: ${line}`),
  );
}

/** A sidecar of the replicas' app id, without an app, and a client on it: to read the done marks. */
async function startReader(redisHost: string): Promise<{ daprd: Daprd; app: TestingModule }> {
  const daprd = await Daprd.start({ components: COMPONENTS, redisHost, appId: APP_ID });
  const app = await bootKugelComms({ dapr: { httpEndpoint: daprd.httpEndpoint, waitForSidecarMs: 5_000 } });
  return { daprd, app };
}

function parseRuns(lines: Array<{ replica: string; line: string }>): Run[] {
  const runs = new Map<string, Run>();
  for (const { replica, line } of lines) {
    const f = line.split(' ');
    if (f[0] === 'start') {
      runs.set(f[3], { replica, n: Number(f[1]), eventId: f[2], runId: f[3], start: Number(f[4]) });
    } else if (f[0] === 'end') {
      const run = runs.get(f[3]);
      if (run) Object.assign(run, { end: Number(f[4]), result: f[5] as Run['result'] });
    }
  }
  return [...runs.values()];
}

function parseSettlements(lines: Array<{ replica: string; line: string }>): Settlement[] {
  return lines
    .filter(({ line }) => line.startsWith('settled '))
    .map(({ replica, line }) => {
      const [, key, outcome, at] = line.split(' ');
      return { replica, key, outcome: outcome as ClaimOutcome, at: Number(at) };
    });
}

function countUnknown(lines: Array<{ replica: string; line: string }>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const { line } of lines) {
    if (!line.startsWith('unknown ')) continue;
    const op = line.slice('unknown '.length);
    out[op] = (out[op] ?? 0) + 1;
  }
  return out;
}
