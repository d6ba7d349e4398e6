import { Injectable } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClaimSettledEvent, DaprEvent, DaprSubscribe, KugelCommsEvents, KugelCommsModule } from '../../lib';
import { KugelCommsTesting, KugelCommsTestingModule } from '../../lib/testing';
import { waitUntil } from '../support/processes';

const TIMEOUT_MS = 1_000;
const LEASE_SEC = 3;

/** Handlers that work until their event's signal says stop, noting when and why. */
@Injectable()
class Workers {
  readonly stops = new Map<string, { afterMs: number; reason: string }>();

  private work(event: DaprEvent, ms: number): Promise<void> {
    const started = Date.now();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, ms);
      event.signal!.addEventListener('abort', () => {
        clearTimeout(timer);
        const reason = event.signal!.reason as Error;
        this.stops.set(event.id, { afterMs: Date.now() - started, reason: `${reason.name}: ${reason.message}` });
        reject(reason);
      });
    });
  }

  @DaprSubscribe('pubsub', 'deduped', { dedupe: { leaseSec: LEASE_SEC }, handlerTimeoutMs: TIMEOUT_MS })
  onDeduped(event: DaprEvent<{ ms: number }>): Promise<void> {
    return this.work(event, event.data.ms);
  }

  @DaprSubscribe('pubsub', 'plain', { handlerTimeoutMs: TIMEOUT_MS })
  onPlain(event: DaprEvent<{ ms: number }>): Promise<void> {
    return this.work(event, event.data.ms);
  }
}

/**
 * A handler past its timeout: answered RETRY either way. Without dedupe its signal is aborted at
 * once (the redelivery may run it). With dedupe it goes on under its claim, renewed, and its
 * signal is left alone for one more lease; then it is aborted and the claim let go.
 */
describe('a handler past its timeout (the in-memory stand-in)', () => {
  let moduleRef: TestingModule;
  let kugel: KugelCommsTesting;
  let workers: Workers;
  const settled: ClaimSettledEvent[] = [];

  beforeAll(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [
        KugelCommsModule.forRoot({ dapr: { retries: 0, timeoutMs: 500 } }),
        KugelCommsTestingModule.forRoot({ dapr: { stores: ['statestore'] } }),
      ],
      providers: [Workers],
    }).compile();
    await moduleRef.init();
    kugel = moduleRef.get(KugelCommsTesting);
    workers = moduleRef.get(Workers);
    moduleRef.get(KugelCommsEvents).claimSettled.on((e) => settled.push(e));
  });
  afterAll(async () => {
    await moduleRef?.close();
  });

  it('without dedupe: the signal is aborted at the timeout', async () => {
    expect(await kugel.dapr.deliver('pubsub', 'plain', { ms: 10_000 }, { id: 'plain-1' })).toMatchObject({
      status: 'RETRY',
    });
    await waitUntil(async () => workers.stops.has('plain-1'), 2_000, 'the abort');
    const stop = workers.stops.get('plain-1')!;
    expect(stop.reason).toMatch(/^TimeoutError: the handler ran past its 1000 ms timeout/);
    expect(stop.afterMs).toBeLessThan(LEASE_SEC * 1000);
  });

  it('with dedupe: the work goes on under its renewed claim past the lease, and its done mark is written', async () => {
    const key = 'kugel-dedupe|pubsub|deduped|long-1';
    const started = Date.now();
    expect(
      await kugel.dapr.deliver('pubsub', 'deduped', { ms: LEASE_SEC * 1000 + 500 }, { id: 'long-1' }),
    ).toMatchObject({ status: 'RETRY' });
    await sleep(LEASE_SEC * 1000 + 300 - (Date.now() - started));
    // Past the lease the claim was first written with: renewed, still this run's.
    const claim = kugel.dapr.state()[key] as { state: string; until: number };
    expect(claim.state).toBe('claimed');
    expect(claim.until).toBeGreaterThan(Date.now());
    expect(workers.stops.has('long-1')).toBe(false);
    await waitUntil(async () => settled.some((e) => e.id === 'long-1'), 5_000, 'the claim settled');
    expect(settled.find((e) => e.id === 'long-1')).toMatchObject({ outcome: 'done' });
    expect(settled.find((e) => e.id === 'long-1')!.renewals).toBeGreaterThanOrEqual(2);
    expect(kugel.dapr.state()[key]).toMatchObject({ state: 'done' });
  });

  it('with dedupe: a lease after the timeout, the signal is aborted and the claim let go', async () => {
    expect(await kugel.dapr.deliver('pubsub', 'deduped', { ms: 60_000 }, { id: 'stuck-1' })).toMatchObject({
      status: 'RETRY',
    });
    await waitUntil(async () => workers.stops.has('stuck-1'), 5_000, 'the abort');
    const stop = workers.stops.get('stuck-1')!;
    expect(stop.reason).toMatch(/^TimeoutError: the handler ran a lease \(3 s\) past its 1000 ms timeout/);
    expect(stop.afterMs).toBeGreaterThanOrEqual(TIMEOUT_MS + LEASE_SEC * 1000 - 100);
    // It stopped (threw): its claim is released, and the next delivery runs it.
    await waitUntil(async () => settled.some((e) => e.id === 'stuck-1'), 5_000, 'the claim settled');
    expect(settled.find((e) => e.id === 'stuck-1')).toMatchObject({ outcome: 'released' });
  });
});
