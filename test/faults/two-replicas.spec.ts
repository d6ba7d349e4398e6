import { TestingModule } from '@nestjs/testing';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DaprClientHelper } from '../../lib';
import { ComponentSet, Daprd } from '../dapr/daprd';
import { waitForSubscriptions } from '../dapr/subscription-stack';
import { bootKugelComms } from '../support/module-fixture';
import { freePort, probeStatus, spawnLogged, stopProcess, waitUntil } from '../support/processes';
import { RedisServer } from '../support/redis';
import { appendDeliveryRow, DeliveryRow } from './support/delivery-table';

const FIXTURE = path.join(__dirname, 'fixtures', 'replica-app.ts');
const EVENTS = 1_000;
/** Both replicas run under one app id, so their daprds share the Redis Streams consumer group. */
const APP_ID = 'kugel-replica';
const GROUP = 'kugel-replicas';
/** `processingTimeout` + `redeliverInterval` of the redis-streams component sets, plus a margin. */
const QUIET_MS = 7_000;

/** One replica: an app process (test/faults/fixtures/replica-app.ts) and its own daprd. */
class Replica {
  private constructor(
    readonly name: string,
    readonly daprd: Daprd,
    readonly app: ReturnType<typeof spawnLogged>,
    readonly log: string,
  ) {}

  static async start(
    name: string,
    o: {
      components: ComponentSet;
      platform: 'express' | 'fastify';
      topic: string;
      dedupe: boolean;
      crashAfter?: number;
      handlerMs?: number;
      redisHost: string;
      dir: string;
    },
  ): Promise<Replica> {
    const appPort = await freePort();
    const daprd = await Daprd.create({ components: o.components, redisHost: o.redisHost, appPort, appId: APP_ID });
    const log = path.join(o.dir, `${name}.log`);
    fs.writeFileSync(log, '');
    const app = spawnLogged(process.execPath, ['-r', 'ts-node/register/transpile-only', FIXTURE], {
      ...process.env,
      PORT: String(appPort),
      DAPR_HTTP_PORT: String(daprd.httpPort),
      REPLICA_PLATFORM: o.platform,
      REPLICA_TOPIC: o.topic,
      REPLICA_DEDUPE: o.dedupe ? '1' : '0',
      REPLICA_CRASH_AFTER: String(o.crashAfter ?? 0),
      REPLICA_HANDLER_MS: String(o.handlerMs ?? 0),
      REPLICA_LOG: log,
    });
    const replica = new Replica(name, daprd, app, log);
    // When the app process dies, its daprd dies with it (the pod is gone): a daprd left running would
    // answer its pending deliveries with errors and, after its retries, acknowledge them. Not when the
    // pod is being terminated: then each got its SIGTERM and ends on its own, as in Kubernetes.
    app.child.once('exit', () => {
      if (!replica.terminating) void daprd.kill();
    });
    try {
      await waitUntil(
        async () => (await probeStatus(`http://127.0.0.1:${appPort}/dapr/subscribe`)) === 200,
        60_000,
        `replica ${name} listening`,
        100,
      );
      await daprd.startProcess();
      await waitForSubscriptions(daprd, 2);
    } catch (error) {
      await replica.stop();
      throw new Error(`${(error as Error).message}\n--- ${name} output ---\n${app.output.slice(-30).join('\n')}`, {
        cause: error,
      });
    }
    return replica;
  }

  /** Set by `terminate()`: the app and its daprd were both sent SIGTERM. */
  terminating = false;

  /**
   * The pod terminated: SIGTERM to the app and its daprd at the same moment, each given `graceMs`
   * to end before a SIGKILL (Kubernetes' terminationGracePeriodSeconds). Resolves to how the app ended.
   */
  async terminate(graceMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.terminating = true;
    await Promise.all([stopProcess(this.app.child, 'SIGTERM', graceMs), this.daprd.stop()]);
    return { code: this.app.child.exitCode, signal: this.app.child.signalCode };
  }

  facts(): string[] {
    return fs.readFileSync(this.log, 'utf8').split('\n').filter(Boolean);
  }

  get crashed(): boolean {
    return this.app.child.signalCode === 'SIGKILL';
  }

  async stop(): Promise<void> {
    await stopProcess(this.app.child, 'SIGTERM');
    await this.daprd.dispose();
  }
}

/** Entries read by the group and never acknowledged: the count `XPENDING <stream> <group>` starts with. */
async function pendingEntries(redis: RedisServer, stream: string): Promise<number> {
  const reply = await redis.command('XPENDING', stream, GROUP);
  const count = reply.match(/^\*\d+\r\n:(\d+)\r\n/);
  if (!count) throw new Error(`unexpected XPENDING reply: ${JSON.stringify(reply.slice(0, 80))}`);
  return Number(count[1]);
}

describe('two replicas, one Redis Streams consumer group, 1,000 events (real daprd processes)', () => {
  let redis: RedisServer;
  let publisher: Daprd;
  let publisherApp: TestingModule;
  let dapr: DaprClientHelper;
  let dir: string;
  let replicas: Replica[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kugel-replicas-'));
    redis = await RedisServer.start();
    publisher = await Daprd.start({ components: 'redis-streams', redisHost: redis.host, appId: 'kugel-publisher' });
    publisherApp = await bootKugelComms({ dapr: { httpEndpoint: publisher.httpEndpoint, waitForSidecarMs: 5000 } });
    dapr = publisherApp.get(DaprClientHelper);
  }, 60_000);
  afterEach(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    replicas = [];
  });
  afterAll(async () => {
    await publisherApp?.close();
    await publisher?.dispose();
    await redis?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function publishAll(topic: string): Promise<void> {
    let next = 0;
    const failed: number[] = [];
    await Promise.all(
      Array.from({ length: 25 }, async () => {
        while (next < EVENTS) {
          const n = next++;
          if (!(await dapr.publishEvent('pubsub', topic, { eventId: `evt-${n}` }))) failed.push(n);
        }
      }),
    );
    expect(failed).toEqual([]);
  }

  /**
   * Publishes 1,000 events to two running replicas, waits until each has had an effect, then until
   * nothing new happens for `QUIET_MS` (long enough for any pending entry to be redelivered), and
   * tallies both replicas' facts.
   */
  async function run(
    scenario: string,
    topic: string,
    o: { dedupe: boolean; crashAfter?: number; termAfter?: number; handlerMs?: number },
  ): Promise<
    DeliveryRow & {
      effects: Map<string, number>;
      byReplica: number[];
      pending: number;
      deadLettered: number;
      terminated?: { code: number | null; signal: NodeJS.Signals | null };
    }
  > {
    const started = Date.now();
    // A pod terminated may leave a claim behind (its sidecar went away while it claimed): the copies
    // wait for the lease, so daprd's retries must outlast it (redis-streams-patient).
    const components: ComponentSet = o.crashAfter
      ? 'redis-streams-serial'
      : o.termAfter
        ? 'redis-streams-patient'
        : 'redis-streams';
    const common = { components, topic, dedupe: o.dedupe, handlerMs: o.handlerMs, redisHost: redis.host, dir };
    replicas = await Promise.all([
      Replica.start('A', { ...common, platform: 'express', crashAfter: o.crashAfter }),
      Replica.start('B', { ...common, platform: 'fastify' }),
    ]);
    // The pod of A terminated once it has handled `termAfter` events, while daprd still delivers.
    let terminated: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    const termination = o.termAfter
      ? waitUntil(
          async () => replicas[0].facts().filter((f) => f.startsWith('effect ')).length >= o.termAfter!,
          60_000,
          `replica A to handle ${o.termAfter} events`,
          10,
        ).then(async () => {
          terminated = await replicas[0].terminate(20_000);
        })
      : Promise.resolve();
    await publishAll(topic);
    await termination;
    const facts = () => replicas.flatMap((r) => r.facts());
    const effects = () => {
      const m = new Map<string, number>();
      for (const f of facts()) if (f.startsWith('effect ')) m.set(f.slice(7), (m.get(f.slice(7)) ?? 0) + 1);
      return m;
    };
    await waitUntil(async () => effects().size >= EVENTS, 90_000, `effects of all ${EVENTS} events`, 200).catch(
      async (error: Error) => {
        // What the replicas said about the events never handled, and what Redis still holds.
        const seen = effects();
        const missing = Array.from({ length: EVENTS }, (_, n) => `evt-${n}`).filter((id) => !seen.has(id));
        const lines = replicas.flatMap((r) => r.facts().map((f) => `${r.name}: ${f}`));
        throw new Error(
          `${error.message}: ${missing.length} missing (${missing.slice(0, 10).join(' ')}); ` +
            `pending ${await pendingEntries(redis, topic).catch(() => -1)}; ` +
            `dead-lettered ${lines.filter((l) => l.includes('dead-letter ')).length}\n` +
            `--- not handled / not SUCCESS answers ---\n${lines.filter((l) => !/: effect /.test(l)).slice(-30).join('\n')}\n` +
            replicas.map((r) => `--- ${r.name} daprd ---\n${r.daprd.output.slice(-12).join('\n')}`).join('\n'),
          { cause: error },
        );
      },
    );
    let last = -1;
    let quietSince = Date.now();
    await waitUntil(
      async () => {
        const count = facts().length;
        if (count !== last) {
          last = count;
          quietSince = Date.now();
        }
        return Date.now() - quietSince >= QUIET_MS;
      },
      60_000,
      'the replicas to go quiet',
      250,
    );
    const final = effects();
    const all = facts();
    const row = {
      scenario,
      published: EVENTS,
      handled: final.size,
      duplicatesSuppressed: all.filter((f) => f.startsWith('answer SUCCESS duplicate')).length,
      handledTwice: [...final.values()].filter((c) => c > 1).length,
      lost: EVENTS - [...final.keys()].filter((k) => /^evt-\d+$/.test(k)).length,
      notes: '',
      effects: final,
      byReplica: replicas.map((r) => r.facts().filter((f) => f.startsWith('effect ')).length),
      pending: await pendingEntries(redis, topic),
      deadLettered: all.filter((f) => f.startsWith('dead-letter ')).length,
      terminated,
    };
    const crashNote = replicas[0].crashed
      ? `A (app and daprd) SIGKILLed after handling its ${o.crashAfter}th event, before answering it; `
      : terminated
        ? `A's app and daprd SIGTERMed together after ${o.termAfter} events (app exit ${terminated.code ?? terminated.signal}); ` +
          `dead-lettered ${row.deadLettered}; `
        : '';
    const inProgress = all.filter((f) => f.startsWith('answer RETRY in-progress')).length;
    row.notes =
      `${crashNote}effects A ${row.byReplica[0]} / B ${row.byReplica[1]}` +
      (inProgress ? `; ${inProgress} copies answered RETRY while held by the other replica` : '') +
      `; pending at the end ${row.pending}; ${((Date.now() - started) / 1000).toFixed(0)} s`;
    appendDeliveryRow({
      ...row,
      effects: undefined,
      byReplica: undefined,
      pending: undefined,
      deadLettered: undefined,
      terminated: undefined,
    } as unknown as DeliveryRow);
    return row;
  }

  it('each event is handled exactly once across the two', async () => {
    const row = await run('two replicas, no crash', 'replicated-1', { dedupe: false });
    expect(row.lost).toBe(0);
    expect(row.handledTwice).toBe(0);
    expect(row.handled).toBe(EVENTS);
    expect(row.pending).toBe(0);
    // Both replicas took part.
    expect(Math.min(...row.byReplica)).toBeGreaterThan(0);
  }, 180_000);

  it('replica A SIGKILLed halfway, no dedupe: every event is still handled; the one A handled but never answered runs twice', async () => {
    const row = await run('A SIGKILLed halfway, no dedupe', 'replicated-2', { dedupe: false, crashAfter: EVENTS / 4 });
    expect(replicas[0].crashed).toBe(true);
    expect(row.lost).toBe(0);
    expect(row.handled).toBe(EVENTS);
    // The event whose answer died with A was pending; B picked it up and ran it again.
    expect(row.handledTwice).toBeGreaterThanOrEqual(1);
    expect(row.pending).toBe(0);
  }, 180_000);

  it('replica A SIGKILLed halfway, with dedupe: every event handled, each effect once', async () => {
    const row = await run('A SIGKILLed halfway, dedupe', 'replicated-3', { dedupe: true, crashAfter: EVENTS / 4 });
    expect(replicas[0].crashed).toBe(true);
    expect(row.lost).toBe(0);
    expect(row.handled).toBe(EVENTS);
    expect(row.handledTwice).toBe(0);
    expect(row.duplicatesSuppressed).toBeGreaterThanOrEqual(1);
    expect(row.pending).toBe(0);
  }, 180_000);

  it("replica A's pod SIGTERMed (app and daprd together) while daprd delivers, with dedupe: nothing lost, nothing dead-lettered, each effect once", async () => {
    const row = await run('A SIGTERMed with its daprd while delivering, dedupe', 'replicated-4', {
      dedupe: true,
      termAfter: EVENTS / 4,
      handlerMs: 20,
    });
    // A ended on its own, inside the grace, through the module's shutdown.
    expect(row.terminated).toEqual({ code: null, signal: 'SIGTERM' }); // Nest re-raises the signal once closed; a SIGKILL would mean the grace ran out
    expect(replicas[0].facts()).toContain('sigterm');
    expect(row.lost).toBe(0);
    expect(row.handled).toBe(EVENTS);
    expect(row.handledTwice).toBe(0);
    expect(row.deadLettered).toBe(0);
    expect(row.pending).toBe(0);
  }, 180_000);
});
