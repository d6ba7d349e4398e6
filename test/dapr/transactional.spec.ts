import { Injectable, Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { DaprEvent, DaprSubscribe } from '../../lib';
import { RedisServer } from '../support/redis';
import { cloudEvent, post } from '../subscriptions/support/subscriber-app';
import { ComponentSet } from './daprd';
import { startStack, SubscriptionStack } from './subscription-stack';

type Transfer = { event_id: string; account: string; amount: number; staleEtag?: boolean };

/** A ledger that keeps balances in the dedupe store, written through the event's transaction. */
@Injectable()
class Balances {
  runs = 0;

  @DaprSubscribe('pubsub', 'transfers', {
    dedupe: { key: (e: DaprEvent<Transfer>) => e.data.event_id, leaseSec: 20, transactional: true },
    handlerTimeoutMs: 2_000,
    deadLetterTopic: 'transfers-dlq',
  })
  onTransfer(event: DaprEvent<Transfer>): void {
    this.runs++;
    const { event_id, account, amount, staleEtag } = event.data;
    event.transaction!.save(`entry|${event_id}`, { account, amount });
    // A write conditioned on a value read earlier: a stale ETag fails the whole transaction.
    event.transaction!.save(`last|${account}`, event_id, staleEtag ? { etag: '999999' } : {});
  }
}

const CASES: Array<{ state: string; components: ComponentSet }> = [
  { state: 'in-memory', components: 'in-memory' },
  { state: 'Redis', components: 'redis-streams' },
];

describe.each(CASES)('exactly-once effects: a transactional handler on a real daprd ($state)', ({ components }) => {
  let redis: RedisServer | undefined;
  let stack: SubscriptionStack;
  let balances: Balances;
  let route: string;
  let warn: jest.SpyInstance;

  beforeAll(async () => {
    warn = jest.spyOn(Logger.prototype, 'warn');
    if (components !== 'in-memory') redis = await RedisServer.start();
    stack = await startStack({ providers: [Balances], components, redisHost: redis?.host, subscriptions: 1 });
    balances = stack.app.app.get(Balances);
    route = `${stack.app.url}/dapr/events/pubsub/transfers`;
  });
  afterAll(async () => {
    warn.mockRestore();
    await stack?.close();
    await redis?.stop();
  });

  const deliver = async (id: string, data: Transfer) => (await post(route, cloudEvent(id, data, 'transfers'))).body;
  const read = (key: string) => stack.dapr.getState('statestore', key);

  it("commits the handler's writes and the done mark together; a copy is SUCCESS without running", async () => {
    const t: Transfer = { event_id: 'T1', account: 'A', amount: 10 };
    expect(await deliver('ce-1', t)).toEqual({ status: 'SUCCESS' });
    expect(await read('entry|T1')).toEqual({ account: 'A', amount: 10 });
    expect(await read('last|A')).toBe('T1');
    const runs = balances.runs;
    expect(await deliver('ce-2', t)).toEqual({ status: 'SUCCESS' });
    expect(balances.runs).toBe(runs);
    expect(stack.app.handled.at(-1)).toMatchObject({ reason: 'duplicate', handlerRan: false });
    // The first commit looked at the store's kind: a WARN only where a transaction may land in part.
    await sleep(300);
    const rollbackWarnings = warn.mock.calls.filter(([m]) => String(m).includes('not roll a transaction back'));
    expect(rollbackWarnings.map(([m]) => String(m).slice(0, 60))).toEqual(
      components === 'redis-streams' ? ['dedupe.transactional on statestore (state.redis): Redis does'] : [],
    );
  });

  it("a transaction that fails on the handler's stale ETag: RETRY and nothing written where the store rolls back", async () => {
    const t: Transfer = { event_id: 'T2', account: 'B', amount: 5, staleEtag: true };
    await stack.dapr.saveState('statestore', 'last|B', 'before');
    if (components === 'redis-streams') {
      // state.redis applies the writes that hold and fails the one that does not: the done mark
      // landed, so the event is handled (a run again would repeat the writes that landed), and the
      // failed write is logged at ERROR: the limit docs/subscriptions.md states.
      expect(await deliver('ce-3', t)).toEqual({ status: 'SUCCESS' });
      expect(await read('entry|T2')).toEqual({ account: 'B', amount: 5 });
      expect(await read('last|B')).toBe('before');
      return;
    }
    expect(await deliver('ce-3', t)).toEqual({ status: 'RETRY' });
    const handled = stack.app.handled.at(-1)!;
    expect(handled).toMatchObject({ status: 'RETRY', reason: 'failed', handlerRan: true });
    expect(handled.error).toContain('its state changes were not committed');
    expect(await read('last|B')).toBe('before');
    // The in-memory store checks every ETag before it writes: nothing of the transaction landed.
    expect(await read('entry|T2')).toBeNull();
    // Released: the next delivery runs the handler again (now without the stale condition).
    const runs = balances.runs;
    expect(await deliver('ce-4', { ...t, staleEtag: false })).toEqual({ status: 'SUCCESS' });
    expect(balances.runs).toBe(runs + 1);
    expect(await read('last|B')).toBe('T2');
  });
});
