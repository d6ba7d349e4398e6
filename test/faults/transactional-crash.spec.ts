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
    await waitUntil(async () => counts().size >= EVENTS, 120_000, `all ${EVENTS} effects`, 500);
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
    expect(runs).toBeGreaterThanOrEqual(EVENTS);
  }, 240_000);
});
