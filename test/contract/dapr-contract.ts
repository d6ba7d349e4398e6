import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DaprClientHelper, DaprEvent, DaprResult, DaprSubscribe, DropEvent } from '../../lib';
import { waitUntil } from '../support/processes';

/**
 * The contract of `DaprClientHelper` and of event delivery, as the app sees them. One suite, two
 * sidecars: the real test daprd (in-memory components, `test/dapr/dapr-contract.spec.ts`) and the
 * in-memory stand-in of `kugel-comms/testing` (`test/testing/dapr-contract.spec.ts`). The same
 * assertions pass on both, so the stand-in cannot drift from daprd unnoticed;
 * `test/testing/dapr-contract-drift.spec.ts` shows a stand-in that ignores ETags failing it.
 */

/** The app's handlers for the delivery half of the contract. */
@Injectable()
export class ContractConsumer {
  readonly events: DaprEvent[] = [];
  readonly deadLetters: DaprEvent[] = [];

  @DaprSubscribe('pubsub', 'contract-events', { deadLetterTopic: 'contract-dlq' })
  onEvent(event: DaprEvent<{ drop?: boolean }>) {
    this.events.push(event);
    if (event.data?.drop) throw new DropEvent('dropped by the contract');
  }

  @DaprSubscribe('pubsub', 'contract-dlq')
  onDeadLetter(event: DaprEvent) {
    this.deadLetters.push(event);
  }
}

/** A sidecar under contract, with an app whose providers include `ContractConsumer`. */
export interface DaprContractTarget {
  dapr: DaprClientHelper;
  /** The app id the sidecar runs with (the `source` of the CloudEvents it makes). */
  appId: string;
  /** The state store kind behind `statestore` (where stores differ, the contract says per kind). */
  store: StoreKind;
  /** The app's `ContractConsumer`, when the target has an app (the delivery half needs one). */
  consumer?: ContractConsumer;
  /** Lets deliveries happen: nothing for daprd (it delivers by itself), `flush()` for the stand-in. */
  deliver(): Promise<void>;
  close(): Promise<void>;
}

/** The state stores the contract runs on (docs/components.md compares them). */
export type StoreKind = 'in-memory' | 'redis' | 'postgresql';

export interface ContractCase {
  name: string;
  run(target: DaprContractTarget): Promise<void>;
}

const STORE = 'statestore';
const key = (name: string) => `contract-${name}-${randomUUID().slice(0, 8)}`;
const etagOf = (result: DaprResult<unknown>) => (result.ok ? result.etag : undefined);

/** State and publish: what `DaprClientHelper` answers, call by call. */
export const DAPR_STATE_CONTRACT: ContractCase[] = [
  {
    name: 'saves and reads values of every JSON type; a key that does not exist reads as null',
    async run({ dapr }) {
      const values: unknown[] = [{ a: 1, nested: { list: [1, 'ü'] } }, 'text', 42, true, [1, 2]];
      for (const value of values) {
        const k = key('types');
        await expect(dapr.saveState(STORE, k, value)).resolves.toBe(true);
        await expect(dapr.getState(STORE, k)).resolves.toEqual(value);
      }
      const odd = `${key('odd')}/ü ?#%+`;
      await expect(dapr.saveState(STORE, odd, { odd: true })).resolves.toBe(true);
      await expect(dapr.getState(STORE, odd)).resolves.toEqual({ odd: true });
      await expect(dapr.getState(STORE, key('absent'))).resolves.toBeNull();
      await expect(dapr.detailed.getState(STORE, key('absent'))).resolves.toEqual({ ok: true, value: null });
    },
  },
  {
    name: 'a read carries an ETag; every save gives the key a new one',
    async run({ dapr }) {
      const k = key('etag');
      await dapr.saveState(STORE, k, 1);
      const first = await dapr.detailed.getState(STORE, k);
      expect(first).toEqual({ ok: true, value: 1, etag: expect.any(String) });
      await dapr.saveState(STORE, k, 2);
      const second = await dapr.detailed.getState(STORE, k);
      expect(etagOf(second)).toEqual(expect.any(String));
      expect(etagOf(second)).not.toBe(etagOf(first));
    },
  },
  {
    name: 'a save with the current ETag succeeds; with a stale one it is false, 409 ERR_STATE_SAVE, the value kept',
    async run({ dapr }) {
      const k = key('save-etag');
      await dapr.saveState(STORE, k, 'v1');
      const stale = etagOf(await dapr.detailed.getState(STORE, k))!;
      await expect(dapr.saveState(STORE, k, 'v2', { etag: stale })).resolves.toBe(true);
      await expect(dapr.saveState(STORE, k, 'v3', { etag: stale })).resolves.toBe(false);
      await expect(dapr.detailed.saveState(STORE, k, 'v3', { etag: stale })).resolves.toEqual({
        ok: false,
        status: 409,
        code: 'ERR_STATE_SAVE',
        error: expect.stringContaining('sidecar answered HTTP 409 ERR_STATE_SAVE'),
        conflict: true,
      });
      await expect(dapr.getState(STORE, k)).resolves.toBe('v2');
      // An ETag for a key that does not exist is a conflict too.
      await expect(dapr.detailed.saveState(STORE, key('no-key'), 1, { etag: stale })).resolves.toMatchObject({
        ok: false,
        status: 409,
      });
    },
  },
  {
    name: 'first-write: the first save of a key wins, a second one without the ETag is a conflict (409; 500 on PostgreSQL)',
    async run({ dapr, store }) {
      const k = key('first-write');
      await expect(dapr.saveState(STORE, k, 'mine', { concurrency: 'first-write' })).resolves.toBe(true);
      // state.in-memory answers 409; state.postgresql 500 "no item was updated" (docs/components.md).
      await expect(dapr.detailed.saveState(STORE, k, 'theirs', { concurrency: 'first-write' })).resolves.toMatchObject({
        ok: false,
        status: store === 'in-memory' ? 409 : 500,
        code: 'ERR_STATE_SAVE',
        conflict: true,
      });
      await expect(dapr.getState(STORE, k)).resolves.toBe('mine');
      const etag = etagOf(await dapr.detailed.getState(STORE, k))!;
      await expect(dapr.saveState(STORE, k, 'next', { concurrency: 'first-write', etag })).resolves.toBe(true);
    },
  },
  {
    name: 'delete: true also for a missing key; a stale ETag is false, 409 ERR_STATE_DELETE; the current one deletes',
    async run({ dapr }) {
      await expect(dapr.deleteState(STORE, key('never'))).resolves.toBe(true);
      const k = key('delete');
      await dapr.saveState(STORE, k, 1);
      const stale = etagOf(await dapr.detailed.getState(STORE, k))!;
      await dapr.saveState(STORE, k, 2);
      await expect(dapr.detailed.deleteState(STORE, k, { etag: stale })).resolves.toMatchObject({
        ok: false,
        status: 409,
        code: 'ERR_STATE_DELETE',
      });
      await expect(dapr.getState(STORE, k)).resolves.toBe(2);
      const current = etagOf(await dapr.detailed.getState(STORE, k))!;
      await expect(dapr.deleteState(STORE, k, { etag: current })).resolves.toBe(true);
      await expect(dapr.getState(STORE, k)).resolves.toBeNull();
      await expect(dapr.detailed.deleteState(STORE, k, { etag: current })).resolves.toMatchObject({
        ok: false,
        status: 409,
      });
    },
  },
  {
    name: 'bulk get: the values of the keys that exist, the others left out',
    async run({ dapr }) {
      const [a, b, missing] = [key('bulk-a'), key('bulk-b'), key('bulk-missing')];
      await dapr.saveState(STORE, a, { n: 1 });
      await dapr.saveState(STORE, b, 'two');
      await expect(dapr.getBulkState(STORE, [a, missing, b])).resolves.toEqual({ [a]: { n: 1 }, [b]: 'two' });
      await expect(dapr.getBulkState(STORE, [missing])).resolves.toEqual({});
    },
  },
  {
    name: 'a transaction applies all its operations, or none: a stale ETag fails it (500 ERR_STATE_TRANSACTION), no breaker count',
    async run({ dapr }) {
      const [a, b, c] = [key('tx-a'), key('tx-b'), key('tx-c')];
      await dapr.saveState(STORE, b, 'old');
      await expect(
        dapr.executeStateTransaction(STORE, [
          { operation: 'upsert', request: { key: a, value: { n: 1 } } },
          { operation: 'delete', request: { key: b } },
        ]),
      ).resolves.toBe(true);
      await expect(dapr.getBulkState(STORE, [a, b])).resolves.toEqual({ [a]: { n: 1 } });
      const stale = etagOf(await dapr.detailed.getState(STORE, a))!;
      await dapr.saveState(STORE, a, { n: 2 });
      const breaker = dapr.breakerFor('state', STORE);
      const failuresBefore = breaker.snapshot().consecutiveFailures;
      await expect(
        dapr.detailed.executeStateTransaction(STORE, [
          { operation: 'upsert', request: { key: c, value: 'new' } },
          { operation: 'upsert', request: { key: a, value: { n: 3 }, etag: stale } },
        ]),
      ).resolves.toMatchObject({ ok: false, status: 500, code: 'ERR_STATE_TRANSACTION', conflict: true });
      await expect(dapr.getBulkState(STORE, [a, c])).resolves.toEqual({ [a]: { n: 2 } });
      // A stale read is the caller's doing, not a broken store.
      expect(breaker.snapshot().consecutiveFailures).toBe(failuresBefore);
      expect(breaker.state).toBe('closed');
    },
  },
  {
    name: 'an entry saved with ttlInSeconds is gone once they have passed',
    async run({ dapr }) {
      const k = key('ttl');
      await expect(dapr.saveState(STORE, k, 'short', { metadata: { ttlInSeconds: 1 } })).resolves.toBe(true);
      await expect(dapr.getState(STORE, k)).resolves.toBe('short');
      await waitUntil(async () => (await dapr.getState(STORE, k)) === null, 10_000, 'the entry to expire', 200);
    },
  },
  {
    name: 'an unknown state store or pub/sub: false and null, with daprd status and code',
    async run({ dapr }) {
      await expect(dapr.saveState('no-such-store', key('x'), 1)).resolves.toBe(false);
      await expect(dapr.getState('no-such-store', key('x'))).resolves.toBeNull();
      await expect(dapr.getBulkState('no-such-store', [key('x')])).resolves.toBeNull();
      await expect(dapr.detailed.deleteState('no-such-store', key('x'))).resolves.toMatchObject({
        ok: false,
        status: 400,
        code: 'ERR_STATE_STORE_NOT_FOUND',
      });
      await expect(dapr.publishEvent('no-such-pubsub', 'topic', {})).resolves.toBe(false);
      await expect(dapr.detailed.publishEvent('no-such-pubsub', 'topic', {})).resolves.toMatchObject({
        ok: false,
        status: 404,
        code: 'ERR_PUBSUB_NOT_FOUND',
      });
    },
  },
  {
    name: 'publishes JSON, raw payloads and own CloudEvents: true',
    async run({ dapr }) {
      await expect(dapr.publishEvent('pubsub', 'contract-unsubscribed', { a: 1 })).resolves.toBe(true);
      await expect(dapr.publishEvent('pubsub', 'contract-unsubscribed', { a: 1 }, { rawPayload: true })).resolves.toBe(
        true,
      );
      const own = { id: randomUUID(), source: 'me', type: 't', specversion: '1.0', data: { a: 1 } };
      await expect(dapr.publishEvent('pubsub', 'contract-unsubscribed', own, { cloudEvent: true })).resolves.toBe(true);
    },
  },
  {
    name: 'bulk publish: every entry published (204); an unknown pub/sub fails every entry (404), a repeated entryId nothing is sent',
    async run({ dapr }) {
      const entries = [
        { event: { n: 1 } },
        { event: 'text', contentType: 'text/plain' },
        { event: { n: 3 }, eventId: key('id') },
      ];
      await expect(dapr.detailed.publishBulk<unknown>('pubsub', 'contract-bulk', entries)).resolves.toEqual({
        ok: true,
        published: ['0', '1', '2'],
        failed: [],
      });
      const unknown = await dapr.detailed.publishBulk('nope', 'contract-bulk', [{ event: 1 }, { event: 2 }]);
      expect(unknown).toMatchObject({ ok: false, status: 404, code: 'ERR_PUBSUB_NOT_FOUND', published: [] });
      expect(unknown.ok ? [] : unknown.failed.map((f) => f.entryId)).toEqual(['0', '1']);
    },
  },
];

/** Delivery: what the app's `@DaprSubscribe` handlers receive. */
export const DAPR_DELIVERY_CONTRACT: ContractCase[] = [
  {
    name: 'a JSON publish reaches the handler as a CloudEvent: data intact, id, type, source = app id, topic',
    async run(t) {
      const consumer = t.consumer!;
      const marker = randomUUID();
      await expect(t.dapr.publishEvent('pubsub', 'contract-events', { marker, text: 'ü/…?#' })).resolves.toBe(true);
      const event = await received(t, () =>
        consumer.events.find((e) => (e.data as { marker?: string })?.marker === marker),
      );
      expect(event).toMatchObject({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        data: { marker, text: 'ü/…?#' },
        topic: 'contract-events',
        pubsub: 'pubsub',
        type: 'com.dapr.event.sent',
        source: t.appId,
        dataContentType: 'application/json',
      });
    },
  },
  {
    name: 'a published CloudEvent keeps its id and type',
    async run(t) {
      const consumer = t.consumer!;
      const id = randomUUID();
      const own = {
        id,
        source: 'contract',
        type: 'contract.own',
        specversion: '1.0',
        datacontenttype: 'application/json',
        data: { own: true },
      };
      await expect(t.dapr.publishEvent('pubsub', 'contract-events', own, { cloudEvent: true })).resolves.toBe(true);
      const event = await received(t, () => consumer.events.find((e) => e.id === id));
      expect(event).toMatchObject({ id, type: 'contract.own', source: 'contract', data: { own: true } });
    },
  },
  {
    name: 'a DropEvent answers DROP: the event goes to the dead-letter topic, with its id and original topic',
    async run(t) {
      const consumer = t.consumer!;
      const marker = randomUUID();
      await t.dapr.publishEvent('pubsub', 'contract-events', { marker, drop: true });
      const dropped = await received(t, () =>
        consumer.events.find((e) => (e.data as { marker?: string })?.marker === marker),
      );
      const dead = await received(t, () => consumer.deadLetters.find((e) => e.id === dropped.id));
      expect(dead).toMatchObject({ id: dropped.id, topic: 'contract-events', data: { marker, drop: true } });
    },
  },
  {
    name: 'a publish with eventId, and each bulk entry with its own, reach the handler under that id',
    async run({ dapr, consumer, deliver }) {
      const id = key('event-id');
      expect(await dapr.publishEvent('pubsub', 'contract-events', { single: id }, { eventId: `${id}-single` })).toBe(
        true,
      );
      const bulk = await dapr.detailed.publishBulk('pubsub', 'contract-events', [
        { event: { bulk: id, n: 1 }, eventId: `${id}-b1` },
        { event: { bulk: id, n: 2 }, eventId: `${id}-b2` },
      ]);
      expect(bulk.ok).toBe(true);
      await deliver();
      const mine = () => consumer!.events.filter((e) => String(e.id).startsWith(id));
      await waitUntil(async () => mine().length === 3, 10_000, 'the three events');
      expect(
        mine()
          .map((e) => [e.id, e.data])
          .sort(),
      ).toEqual([
        [`${id}-b1`, { bulk: id, n: 1 }],
        [`${id}-b2`, { bulk: id, n: 2 }],
        [`${id}-single`, { single: id }],
      ]);
    },
  },
];

/** Waits (letting the target deliver) until `find` finds the event. */
async function received(t: DaprContractTarget, find: () => DaprEvent | undefined): Promise<DaprEvent> {
  await waitUntil(
    async () => {
      await t.deliver();
      return find() !== undefined;
    },
    15_000,
    'the delivery',
    50,
  );
  return find()!;
}

/** Registers the whole contract against one target (started once for the suite). */
export function describeDaprContract(label: string, start: () => Promise<DaprContractTarget>): void {
  describe(`DaprClientHelper contract: ${label}`, () => {
    let target: DaprContractTarget;
    beforeAll(async () => {
      target = await start();
    }, 60_000);
    afterAll(() => target?.close());

    describe('state and publish', () => {
      for (const c of DAPR_STATE_CONTRACT) it(c.name, () => c.run(target), 20_000);
    });
    describe('delivery to @DaprSubscribe handlers', () => {
      for (const c of DAPR_DELIVERY_CONTRACT) it(c.name, () => c.run(target), 20_000);
    });
  });
}
