import { TestingModule } from '@nestjs/testing';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DaprClientHelper } from '../../lib';
import { Daprd } from '../dapr/daprd';
import { waitForSubscriptions } from '../dapr/subscription-stack';
import { bootKugelComms } from '../support/module-fixture';
import { PostgresServer } from '../support/postgres';
import { freePort, probeStatus, spawnLogged, stopProcess, waitUntil } from '../support/processes';
import { RedisServer } from '../support/redis';

const FIXTURE = path.join(__dirname, 'fixtures', 'ledger-replica.ts');
const EVENTS = 200;
const KILLS = 6;
const APP_ID = 'kugel-ledger';
/** A printed seed picks the kill moments; KILL_SEED replays them (the processes' timing still varies). */
const SEED = Number(process.env.KILL_SEED ?? Date.now() % 1_000_000);

function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4_294_967_296;
  };
}


/** Waits for `done`; on a timeout, the error carries what is missing and the consumer's last words. */
async function waitOrExplain(
  done: () => boolean,
  timeoutMs: number,
  what: string,
  explain: () => Promise<string>,
): Promise<void> {
  try {
    await waitUntil(async () => done(), timeoutMs, what, 500);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${await explain()}`, { cause: error });
  }
}

/** The consumer: an app process and its own daprd, killed together (the pod is gone). */
class Consumer {
  private constructor(
    readonly daprd: Daprd,
    readonly app: ReturnType<typeof spawnLogged>,
  ) {}

  static async start(o: { postgres: string; redisHost: string; log: string }): Promise<Consumer> {
    const appPort = await freePort();
    const daprd = await Daprd.create({
      components: 'postgres-streams',
      postgresConnection: o.postgres,
      redisHost: o.redisHost,
      appPort,
      appId: APP_ID,
    });
    const app = spawnLogged(process.execPath, ['-r', 'ts-node/register/transpile-only', FIXTURE], {
      ...process.env,
      PORT: String(appPort),
      DAPR_HTTP_PORT: String(daprd.httpPort),
      LEDGER_LOG: o.log,
    });
    const consumer = new Consumer(daprd, app);
    app.child.once('exit', () => void daprd.kill());
    try {
      await waitUntil(
        async () => (await probeStatus(`http://127.0.0.1:${appPort}/dapr/subscribe`)) === 200,
        60_000,
        'consumer listening',
        100,
      );
      await daprd.startProcess();
      await waitForSubscriptions(daprd, 1);
    } catch (error) {
      await consumer.kill();
      throw new Error(`${(error as Error).message}\n${app.output.slice(-20).join('\n')}`, { cause: error });
    }
    return consumer;
  }

  /** SIGKILL of the sidecar alone, started again on the same ports a moment later. */
  async restartSidecar(downMs: number): Promise<void> {
    await this.daprd.kill();
    await new Promise((r) => setTimeout(r, downMs));
    await this.daprd.startProcess();
  }

  /** SIGKILL of the app and its daprd: nothing flushed, nothing answered. */
  async kill(): Promise<void> {
    await Promise.all([stopProcess(this.app.child, 'SIGKILL'), this.daprd.kill()]);
  }
}

/** How many events daprd dead-lettered (the length of the dead-letter stream; 0 when it does not exist). */
async function deadLetters(redis: RedisServer): Promise<number> {
  const reply = await redis.command('XLEN', 'ledger-dlq');
  const n = /^:(\d+)/.exec(reply);
  if (!n) throw new Error(`XLEN ledger-dlq answered ${JSON.stringify(reply)}`);
  return Number(n[1]);
}

/** What a failed wait prints: the events not counted, what the consumer logged about them, Redis' pending list. */
async function explain(consumer: Consumer | undefined, log: string, missing: string[], redis: RedisServer): Promise<string> {
  const facts = fs.readFileSync(log, 'utf8').split('\n');
  const ids = new Set(missing);
  for (const l of facts) {
    const [kind, eventId, cloudEventId] = l.split(' ');
    if (kind === 'run' && ids.has(eventId) && cloudEventId) ids.add(cloudEventId);
  }
  const about = facts.filter((l) => l.split(' ').some((w) => ids.has(w)));
  const pending = await redis.command('XPENDING', 'ledger', 'kugel-replicas').catch((e: Error) => e.message);
  const deadLettered = await deadLetters(redis).catch((e: Error) => e.message);
  return [
    `not counted (${missing.length}): ${missing.slice(0, 20).join(' ')}`,
    `--- Redis XPENDING ledger ---`,
    pending,
    `dead-lettered: ${deadLettered}`,
    `--- consumer facts about them ---`,
    ...about.slice(-40),
    `--- consumer log tail ---`,
    ...facts.slice(-25),
    `--- consumer app output ---`,
    ...(consumer?.app.output.slice(-10) ?? []),
    `--- consumer daprd output ---`,
    ...(consumer?.daprd.output.slice(-10) ?? []),
  ].join('\n');
}

/**
 * Exactly-once effects on PostgreSQL: 200 events through Redis Streams to a consumer whose handler
 * increments a counter per event through its event's transaction (dedupe.transactional), committed
 * with the done mark. The consumer and its daprd are SIGKILLed at random moments six times and
 * started again; afterwards the counters are read from PostgreSQL: every event counted, each once.
 */
describe('exactly-once effects on PostgreSQL: the consumer SIGKILLed at random, effects counted in the store', () => {
  let postgres: PostgresServer;
  let redis: RedisServer;
  let publisherSidecar: Daprd;
  let publisher: TestingModule;
  let dir: string;
  let consumer: Consumer | undefined;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kugel-ledger-'));
    postgres = await PostgresServer.start();
    redis = await RedisServer.start();
    publisherSidecar = await Daprd.start({
      components: 'postgres-streams',
      postgresConnection: postgres.connectionString,
      redisHost: redis.host,
      appId: 'kugel-ledger-publisher',
    });
    publisher = await bootKugelComms({
      dapr: { httpEndpoint: publisherSidecar.httpEndpoint, waitForSidecarMs: 5_000 },
    });
  }, 60_000);
  afterAll(async () => {
    await consumer?.kill();
    await publisher?.close();
    await publisherSidecar?.dispose();
    await redis?.dispose();
    await postgres?.dispose();
  });

  it(`${EVENTS} events, ${KILLS} SIGKILLs of the consumer: every effect in the store exactly once`, async () => {
    const random = prng(SEED);
    const log = path.join(dir, 'consumer.log');
    fs.writeFileSync(log, '');
    const dapr = publisher.get(DaprClientHelper);
    for (let n = 0; n < EVENTS; n++) {
      expect(await dapr.publishEvent('pubsub', 'ledger', { event_id: `e-${n}`, n })).toBe(true);
    }
    /** Each event's counter as PostgreSQL holds it (v2 keeps the value as bytes of JSON). */
    const counts = (): Map<string, number> => {
      const rows = postgres.query(
        `SELECT substr(key, length('${APP_ID}||count|') + 1) || ' ' || convert_from(value, 'UTF8') FROM state ` +
          `WHERE key LIKE '${APP_ID}||count|%'`,
      );
      return new Map(
        rows
          .split('\n')
          .filter(Boolean)
          .map((line) => {
            const [id, value] = line.split(' ');
            return [id, Number(value)] as const;
          }),
      );
    };
    let kills = 0;
    consumer = await Consumer.start({ postgres: postgres.connectionString, redisHost: redis.host, log });
    while (kills < KILLS) {
      await new Promise((r) => setTimeout(r, 300 + Math.floor(random() * 1_500)));
      await consumer.kill();
      kills += 1;
      consumer = await Consumer.start({ postgres: postgres.connectionString, redisHost: redis.host, log });
    }
    await waitOrExplain(() => counts().size >= EVENTS, 120_000, `all ${EVENTS} effects`, () =>
      explain(consumer, log, [...Array(EVENTS).keys()].map((n) => `e-${n}`).filter((id) => !counts().has(id)), redis),
    );
    const final = counts();
    const runs = fs
      .readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('run ')).length;
    const twice = [...final.entries()].filter(([, v]) => v !== 1);
    // The figures of the run, for docs/reliability.md.
    process.stdout.write(
      `transactional crash run (seed ${SEED}): ${EVENTS} events, ${kills} kills, ${runs} handler runs, ` +
        `${final.size} effects, ${twice.length} not exactly once\n`,
    );
    expect(twice).toEqual([]);
    expect(final.size).toBe(EVENTS);
    expect(await deadLetters(redis)).toBe(0);
    expect(runs).toBeGreaterThanOrEqual(EVENTS);
  }, 240_000);

  it("under load: PostgreSQL restarted and the consumer's sidecar killed: no acknowledged event lost, none counted twice", async () => {
    const log = path.join(dir, 'consumer-load.log');
    fs.writeFileSync(log, '');
    await consumer?.kill();
    consumer = await Consumer.start({ postgres: postgres.connectionString, redisHost: redis.host, log });
    const dapr = publisher.get(DaprClientHelper);
    const acknowledged: string[] = [];
    let failed = 0;
    const publishing = (async () => {
      for (let n = 0; n < EVENTS; n++) {
        const id = `load-${n}`;
        if (await dapr.publishEvent('pubsub', 'ledger', { event_id: id, n })) acknowledged.push(id);
        else failed += 1;
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await new Promise((r) => setTimeout(r, 700));
    await postgres.kill(); // a crash of the database, not a clean stop
    await new Promise((r) => setTimeout(r, 1_000));
    await postgres.startProcess();
    await new Promise((r) => setTimeout(r, 700));
    await consumer.restartSidecar(1_000);
    await publishing;
    const counts = (): Map<string, number> => {
      const rows = postgres.query(
        `SELECT substr(key, length('${APP_ID}||count|') + 1) || ' ' || convert_from(value, 'UTF8') FROM state ` +
          `WHERE key LIKE '${APP_ID}||count|load-%'`,
      );
      return new Map(
        rows
          .split('\n')
          .filter(Boolean)
          .map((line) => {
            const [id, value] = line.split(' ');
            return [id, Number(value)] as const;
          }),
      );
    };
    await waitOrExplain(() => acknowledged.every((id) => counts().has(id)), 120_000, 'every acknowledged event counted', () =>
      explain(consumer, log, acknowledged.filter((id) => !counts().has(id)), redis),
    );
    const final = counts();
    const lost = acknowledged.filter((id) => !final.has(id));
    const twice = [...final.entries()].filter(([, v]) => v !== 1);
    process.stdout.write(
      `transactional faults run: ${EVENTS} published, ${acknowledged.length} acknowledged, ${failed} failed publishes, ` +
        `${final.size} effects, ${lost.length} acknowledged lost, ${twice.length} not exactly once\n`,
    );
    expect(lost).toEqual([]);
    expect(twice).toEqual([]);
    expect(await deadLetters(redis)).toBe(0);
  }, 240_000);
});
