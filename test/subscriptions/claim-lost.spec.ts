import { Injectable } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ClaimSettledEvent,
  DaprClientHelper,
  DaprEvent,
  DaprSubscribe,
  KugelCommsEvents,
  KugelCommsModule,
} from '../../lib';
import { KugelCommsTesting, KugelCommsTestingModule } from '../../lib/testing';
import { waitUntil } from '../support/processes';

const LEASE_SEC = 3;

/** A handler that works until its event's signal says stop. */
@Injectable()
class Worker {
  readonly stopped: string[] = [];

  @DaprSubscribe('pubsub', 'jobs', { dedupe: { leaseSec: LEASE_SEC }, handlerTimeoutMs: 0 })
  async onJob(event: DaprEvent<{ n: number }>): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, 10_000);
      event.signal!.addEventListener('abort', () => {
        clearTimeout(timer);
        const reason = event.signal!.reason as Error;
        this.stopped.push(`${reason.name}: ${reason.message}`);
        reject(reason);
      });
    });
  }
}

/**
 * A dedupe claim lost while its handler runs (another replica holds the record now): the renewal
 * finds it, the handler's signal is aborted, and the run writes nothing over the other's claim.
 */
describe('a dedupe claim lost while its handler runs (the in-memory stand-in)', () => {
  let moduleRef: TestingModule;
  let kugel: KugelCommsTesting;

  beforeAll(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [
        KugelCommsModule.forRoot({ dapr: { retries: 0, timeoutMs: 500 } }),
        KugelCommsTestingModule.forRoot({ dapr: { stores: ['statestore'] } }),
      ],
      providers: [Worker],
    }).compile();
    await moduleRef.init();
    kugel = moduleRef.get(KugelCommsTesting);
  });
  afterAll(async () => {
    await moduleRef?.close();
  });

  it("aborts the handler's signal with the reason, answers RETRY, and leaves the other's claim in place", async () => {
    const settled: ClaimSettledEvent[] = [];
    moduleRef.get(KugelCommsEvents).claimSettled.on((e) => settled.push(e));
    const delivered = kugel.dapr.deliver('pubsub', 'jobs', { n: 1 }, { id: 'job-1' });
    const key = 'kugel-dedupe|pubsub|jobs|job-1';
    await waitUntil(async () => kugel.dapr.state()[key] !== undefined, 2_000, 'the claim');
    // Another replica's claim replaces it (as after a take-over).
    const other = { state: 'claimed', owner: 'other-replica', token: 't-2', until: Date.now() + 60_000 };
    expect(await moduleRef.get(DaprClientHelper).saveState('statestore', key, other)).toBe(true);
    const outcome = await delivered;
    expect(outcome).toMatchObject({ status: 'RETRY' });
    const worker = moduleRef.get(Worker);
    expect(worker.stopped).toEqual(['AbortError: the handler was stopped: its dedupe claim passed to other-replica']);
    await waitUntil(async () => settled.length === 1, 2_000, 'the claim settled');
    expect(settled[0]).toMatchObject({ id: 'job-1', key: 'job-1', outcome: 'lost' });
    expect(kugel.dapr.state()[key]).toEqual(other);
    await sleep(LEASE_SEC * 1000);
    expect(kugel.dapr.state()[key]).toEqual(other);
  }, 15_000);
});
