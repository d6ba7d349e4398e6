import { setTimeout as sleep } from 'node:timers/promises';
import { PubsubManager } from '../../lib';
import { TranlogOutbox } from '../../sample-app/cart/tranlog.outbox';
import { waitForSubscriptions } from '../dapr/subscription-stack';
import { waitUntil } from '../support/processes';
import { call, SampleApp, sell, startSampleApp, SAMPLE_CLOSE_TIMEOUT_MS } from '../sample-app/sample-app.fixture';
import { quietLogs, restoreLogs, Scenario } from './support/scenario';

/**
 * The sample's whole loop under faults (cart → Redis Streams → report → delivery-status callback,
 * the cart's republisher behind it): while transactions are billed, the cart's sidecar is killed
 * between a commit and its publish, the report service is down for a while, Redis is restarted.
 * Every transaction the cart billed (answered 200) must end `delivered`, and be in the report once.
 *
 * Row: attempted = bills sent, succeeded = billed (200), failed, reported = bills refused (503 while
 * the cart store was out: not billed, nothing to deliver), lost = billed but not delivered, or not
 * in the report, at the end.
 */
describe('faults: the sample delivery loop', () => {
  let sample: SampleApp;
  let scenario: Scenario | undefined;

  beforeAll(async () => {
    sample = await startSampleApp({
      SAMPLE_REPUBLISH_INTERVAL_MS: '500',
      SAMPLE_REPUBLISH_MIN_AGE_MS: '2000',
      SAMPLE_BREAKER_RESET_MS: '1500',
    });
    quietLogs();
  }, 120_000);
  afterEach(() => {
    scenario?.dispose();
    scenario = undefined;
  });
  afterAll(async () => {
    restoreLogs();
    await sample?.close();
  }, SAMPLE_CLOSE_TIMEOUT_MS);

  /**
   * Bills carts on store `store`, `concurrency` at a time, until `count` were sent and `forMs` has
   * passed (the load spans the fault and what follows it); answers the billed ones' event ids.
   */
  async function billMany(s: Scenario, store: string, count: number, concurrency = 3, forMs = 0): Promise<string[]> {
    const billed: string[] = [];
    const until = performance.now() + forMs;
    let sent = 0;
    const worker = async (w: number) => {
      while (sent < count || performance.now() < until) {
        sent += 1;
        s.attempted += 1;
        const answer = await sell(`${sample.base}/api/v1/tenants/F1/stores/${store}/terminals/${w + 1}`, 1);
        if (answer.status === 200) {
          s.succeeded += 1;
          billed.push(answer.body.eventId as string);
        } else {
          s.failedReported += 1;
          s.codes.set(`HTTP ${answer.status}`, (s.codes.get(`HTTP ${answer.status}`) ?? 0) + 1);
          await sleep(100); // a cashier tries again a moment later
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
    return billed;
  }

  /**
   * Makes the `n`-th publish of the cart (after its commit, before the sidecar call) run `fault`
   * first; answers the event id that publish carried.
   */
  function beforePublish(n: number, fault: () => Promise<void>): { restore(): void; eventId(): string | undefined } {
    const pubsub = sample.app.get(PubsubManager);
    const publish = pubsub.publishMessage.bind(pubsub);
    let calls = 0;
    let eventId: string | undefined;
    const spy = jest.spyOn(pubsub, 'publishMessage').mockImplementation(async (...args) => {
      calls += 1;
      if (calls === n) {
        eventId = (args[3] as { eventId?: string } | undefined)?.eventId;
        await fault();
      }
      return publish(...args);
    });
    return { restore: () => spy.mockRestore(), eventId: () => eventId };
  }

  /** Waits until every billed event is delivered (the cart's record) and in the report, then closes the row. */
  async function settle(s: Scenario, store: string, billed: string[], since: number, notes: string[]): Promise<void> {
    const outbox = sample.app.get(TranlogOutbox);
    const reported = async () =>
      (await call('GET', `${sample.report.base}/api/v1/tenants/F1/stores/${store}/reports/tranlogs`)).body as {
        count: number;
        repeats: number;
        transactions: Array<{ event_id: string }>;
      };
    await waitUntil(
      async () => billed.every((id) => outbox.get(id)?.status === 'delivered'),
      90_000,
      `every billed transaction of ${store} delivered`,
      250,
    ).catch(() => undefined);
    const inReport = await reported();
    const ids = inReport.transactions.map((t) => t.event_id);
    const delivered = billed.filter((id) => outbox.get(id)?.status === 'delivered');
    const missing = billed.filter((id) => outbox.get(id)?.status !== 'delivered' || !ids.includes(id));
    if (missing.length > 0) s.markLost(`not delivered or not in the report: ${missing.join(', ')}`, missing.length);
    const duplicates = ids.length - new Set(ids).size;
    const republished = billed.reduce((sum, id) => sum + Math.max(0, (outbox.get(id)?.attempts ?? 1) - 1), 0);
    const row = await s.finish(
      [
        `billed ${billed.length} / delivered ${delivered.length} / duplicates in the report ${duplicates} / lost ${missing.length}`,
        `republished ${republished} times`,
        `copies past dedupe ${inReport.repeats}`,
        `all delivered ${((performance.now() - since) / 1000).toFixed(1)} s after the fault ended`,
        ...notes,
      ].join('; '),
    );
    expect(row).toMatchObject({ lost: 0, unhandledRejections: 0 });
    expect(billed.length).toBeGreaterThan(0);
    expect(delivered).toHaveLength(billed.length);
    expect(duplicates).toBe(0);
    expect(inReport.repeats).toBe(0);
  }

  it("the cart's sidecar killed between a cart's commit and its publish", async () => {
    scenario = new Scenario('sample loop: cart sidecar killed between commit and publish');
    let back = 0;
    // The cart is committed as billed and its log recorded: the sidecar dies before the publish.
    const hook = beforePublish(5, async () => {
      await sample.daprd.kill();
      setTimeout(() => void sample.daprd.startProcess().then(() => (back = performance.now())), 3_000);
    });
    let billed: string[];
    try {
      billed = await billMany(scenario, 'SA', 24, 3, 9_000);
    } finally {
      hook.restore();
    }
    await waitUntil(async () => back > 0, 30_000, 'the cart sidecar back');
    const killed = hook.eventId();
    expect(killed && billed.includes(killed)).toBeTruthy();
    expect(sample.app.get(TranlogOutbox).get(killed!)).toMatchObject({ lastError: expect.any(String) });
    await settle(scenario, 'SA', billed, back, [
      `the sidecar died (SIGKILL) before publishing ${killed}, back after 3 s; carts billed meanwhile: 503 (the cart store unreachable)`,
    ]);
  }, 180_000);

  it('Redis restarted while carts are billed', async () => {
    scenario = new Scenario('sample loop: Redis restarted');
    let back = 0;
    const hook = beforePublish(6, async () => {
      await sample.redis.stop();
      setTimeout(() => void sample.redis.startProcess().then(() => (back = performance.now())), 3_000);
    });
    let billed: string[];
    try {
      billed = await billMany(scenario, 'SC', 30, 3, 10_000);
    } finally {
      hook.restore();
    }
    await waitUntil(async () => back > 0, 30_000, 'Redis back');
    const hit = hook.eventId();
    expect(hit && billed.includes(hit)).toBeTruthy();
    await settle(scenario, 'SC', billed, back, [
      `Redis killed before the publish of ${hit}, back after 3 s (durable: append-only file, fsync always)`,
    ]);
  }, 180_000);

  it('the report service down for a while', async () => {
    scenario = new Scenario('sample loop: report service down for a while');
    const before = await billMany(scenario, 'SB', 5);
    await waitUntil(
      async () => before.every((id) => sample.app.get(TranlogOutbox).get(id)?.status === 'delivered'),
      30_000,
      'the first transactions delivered',
    );
    await sample.report.stopApp('SIGKILL');
    // Its sidecar stays up and keeps trying to deliver (10 tries, 1 s apart), then gives up on each
    // message; the cart keeps them undelivered and republishes them.
    const during = await billMany(scenario, 'SB', 15, 2, 3_000);
    await sleep(8_000);
    await sample.report.startApp();
    await waitForSubscriptions(sample.report.daprd, 2);
    const back = performance.now();
    // The report's store is in memory (the restart lost the first five); its dedupe marks are in
    // Redis, so those are not stored again: only the ones billed while it was down are checked
    // against the report, all of them against the cart's delivery records.
    await settle(scenario, 'SB', during, back, [
      'report killed (SIGKILL) for about 12 s, then started again; its sidecar stayed up',
      `the ${before.length} billed before the outage were delivered too`,
    ]);
  }, 180_000);
});
