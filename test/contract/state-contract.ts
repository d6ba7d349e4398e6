import { randomUUID } from 'node:crypto';
import { waitUntil } from '../support/processes';
import { ContractCase, etagOf, key, STORE } from './contract-target';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** State and publish: what `DaprClientHelper` answers, call by call, for the target's store kind. */
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
    name: 'a read carries an ETag (a UUID; on state.redis a version number); every save gives the key a new one',
    async run({ dapr, storeKind }) {
      const k = key('etag');
      await dapr.saveState(STORE, k, 1);
      const first = await dapr.detailed.getState(STORE, k);
      expect(first).toEqual({ ok: true, value: 1, etag: expect.any(String) });
      expect(etagOf(first)).toMatch(storeKind === 'redis' ? /^1$/ : UUID);
      await dapr.saveState(STORE, k, 2);
      const second = await dapr.detailed.getState(STORE, k);
      expect(etagOf(second)).toMatch(storeKind === 'redis' ? /^2$/ : UUID);
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
        conflict: true,
        error: expect.stringContaining('sidecar answered HTTP 409 ERR_STATE_SAVE'),
      });
      await expect(dapr.getState(STORE, k)).resolves.toBe('v2');
    },
  },
  {
    name: 'an ETag for a key that does not exist: a 409 conflict (save and delete); state.redis inserts the key and deletes nothing (204)',
    async run({ dapr, storeKind }) {
      const [saved, deleted] = [key('no-key-save'), key('no-key-delete')];
      // An ETag of the store's own form, which no key of this run carries.
      const etag = storeKind === 'redis' ? '7' : '00000000-0000-4000-8000-000000000000';
      const save = await dapr.detailed.saveState(STORE, saved, 1, { etag });
      const remove = await dapr.detailed.deleteState(STORE, deleted, { etag });
      if (storeKind === 'redis') {
        expect([save, remove]).toEqual([
          { ok: true, value: undefined },
          { ok: true, value: undefined },
        ]);
        await expect(dapr.detailed.getState(STORE, saved)).resolves.toEqual({ ok: true, value: 1, etag: '1' });
      } else {
        expect(save).toMatchObject({ ok: false, status: 409, code: 'ERR_STATE_SAVE' });
        expect(remove).toMatchObject({ ok: false, status: 409, code: 'ERR_STATE_DELETE' });
        await expect(dapr.getState(STORE, saved)).resolves.toBeNull();
      }
    },
  },
  {
    name: 'an ETag of a form the store cannot read: 409; state.redis refuses it on a save with 400 ERR_STATE_SAVE',
    async run({ dapr, storeKind }) {
      const k = key('bad-etag');
      await dapr.saveState(STORE, k, 'v1');
      const save = await dapr.detailed.saveState(STORE, k, 'v2', { etag: 'not-an-etag' });
      expect(save).toMatchObject({ ok: false, status: storeKind === 'redis' ? 400 : 409, code: 'ERR_STATE_SAVE' });
      const remove = await dapr.detailed.deleteState(STORE, k, { etag: 'not-an-etag' });
      expect(remove).toMatchObject({ ok: false, status: 409, code: 'ERR_STATE_DELETE' });
      await expect(dapr.getState(STORE, k)).resolves.toBe('v1');
    },
  },
  {
    name: 'first-write: the first save of a key wins, a second one without the ETag is refused as a conflict (409; Redis and PostgreSQL 500, not counted by the breaker), one with it succeeds',
    async run({ dapr, storeKind }) {
      const k = key('first-write');
      await expect(dapr.saveState(STORE, k, 'mine', { concurrency: 'first-write' })).resolves.toBe(true);
      const before = dapr.breakerFor('state', STORE).snapshot().consecutiveFailures;
      const again = await dapr.detailed.saveState(STORE, k, 'theirs', { concurrency: 'first-write' });
      // state.redis and state.postgresql answer this conflict with a 500; it is still a conflict, the
      // caller's lost race, and the state store's breaker does not count it.
      const status = storeKind === 'in-memory' ? 409 : 500;
      expect(again).toMatchObject({ ok: false, status, code: 'ERR_STATE_SAVE', conflict: true });
      expect(dapr.breakerFor('state', STORE).snapshot().consecutiveFailures).toBe(before);
      await expect(dapr.getState(STORE, k)).resolves.toBe('mine');
      const etag = etagOf(await dapr.detailed.getState(STORE, k))!;
      await expect(dapr.saveState(STORE, k, 'next', { concurrency: 'first-write', etag })).resolves.toBe(true);
      // A key written without first-write: state.redis lets a first-write save without an ETag replace it.
      const plain = key('first-write-plain');
      await dapr.saveState(STORE, plain, 'old');
      const over = await dapr.detailed.saveState(STORE, plain, 'new', { concurrency: 'first-write' });
      expect(over.ok).toBe(storeKind === 'redis');
      await expect(dapr.getState(STORE, plain)).resolves.toBe(storeKind === 'redis' ? 'new' : 'old');
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
    name: 'a transaction with a stale ETag fails (500 ERR_STATE_TRANSACTION, no breaker count): none of it applied; on state.redis the other operations are',
    async run({ dapr, storeKind }) {
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
      ).resolves.toMatchObject({ ok: false, status: 500, code: 'ERR_STATE_TRANSACTION' });
      // Redis' MULTI/EXEC has no rollback: the upsert of c landed.
      const after = storeKind === 'redis' ? { [a]: { n: 2 }, [c]: 'new' } : { [a]: { n: 2 } };
      await expect(dapr.getBulkState(STORE, [a, c])).resolves.toEqual(after);
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
    name: 'ttlInSeconds 0 and -1 never expire; a save without ttlInSeconds drops the key’s expiry (state.redis keeps it)',
    async run({ dapr, storeKind }) {
      const [zero, minus, kept] = [key('ttl-0'), key('ttl-minus-1'), key('ttl-kept')];
      await expect(dapr.saveState(STORE, zero, 0, { metadata: { ttlInSeconds: 0 } })).resolves.toBe(true);
      await expect(dapr.saveState(STORE, minus, -1, { metadata: { ttlInSeconds: -1 } })).resolves.toBe(true);
      await dapr.saveState(STORE, kept, 'first', { metadata: { ttlInSeconds: 1 } });
      await dapr.saveState(STORE, kept, 'second');
      if (storeKind === 'redis') {
        await waitUntil(async () => (await dapr.getState(STORE, kept)) === null, 10_000, 'the kept expiry', 200);
      } else {
        await new Promise((resolve) => setTimeout(resolve, 2_200));
        await expect(dapr.getState(STORE, kept)).resolves.toBe('second');
      }
      await expect(dapr.getBulkState(STORE, [zero, minus])).resolves.toEqual({ [zero]: 0, [minus]: -1 });
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
