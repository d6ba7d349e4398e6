import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DaprClientHelper } from '../dapr/dapr-client.helper';
import { DaprResult, StateTransactionOperation } from '../dapr/dapr.interfaces';
import { UNKNOWN_OUTCOME } from '../dapr/sidecar-calls';
import {
  ClaimRecord,
  DedupeRecord,
  DedupeStore,
  DoneRecord,
  ReadOutcome,
  WriteOutcome,
} from './dedupe-store.interface';

/**
 * An ETag no record carries: how a record is inserted only if absent on stores that take it
 * (state.redis: its Lua script writes a missing key whatever the ETag). Two things of daprd v1.18's
 * state.redis make the ETag form the one to use there, without `first-write`:
 * - a first-write conflict without an ETag is answered HTTP 500 "failed to set key" (only
 *   ETag-bearing requests are mapped to an ETag error), which reads like an outage and counts
 *   toward the store's circuit breaker; with an ETag it is a 409;
 * - a key written under `first-write` is flagged so by the script, and every later write to it
 *   without an ETag is refused (500): the done mark, written without one, would always fail.
 * Stores that compare ETags strictly (state.in-memory, the SQL stores) refuse an ETag on a missing
 * key; they insert-if-absent under `first-write` without an ETag, and flag nothing. Every store
 * honours an ETag whatever the concurrency mode, so replacements go by ETag alone.
 * (The value is the largest int32: Redis ETags are a version counter that starts at 1.)
 */
const NO_SUCH_ETAG = '2147483647';

/**
 * State store kinds whose transactions are all or nothing: the SQL stores run them in one database
 * transaction, and state.in-memory checks every ETag before it writes anything.
 */
const ROLLS_BACK = new Set([
  'state.postgresql',
  'state.mysql',
  'state.sqlserver',
  'state.sqlite',
  'state.cockroachdb',
  'state.oracledatabase',
  'state.in-memory',
]);

/**
 * `DedupeStore` over the Dapr state API (`DaprClientHelper.detailed`): every operation is one
 * sidecar call (plus a one-off probe per store, below), and no write is sent again after it may
 * have reached the sidecar. Reads are single-key GETs: the bulk read reports a key it could not
 * read as missing, which is the very confusion (an outage read as "not processed yet") this
 * consumer exists to avoid.
 *
 * Outcomes: a conflict is what `DaprFailure.conflict` says (a 409, or the 500 some stores give a
 * refused ETag or first-write); another status is a failure the caller settles by reading;
 * `ERR_UNKNOWN_OUTCOME` a write that may have happened; no status at all an unavailable store.
 */
export class DaprDedupeStore implements DedupeStore {
  /** How this store inserts a missing key (learnt once per store, see `NO_SUCH_ETAG`). */
  private readonly insertWithEtag = new Map<string, Promise<boolean | undefined>>();

  /** Stores whose kind was looked at for transactional handlers (a WARN once where a transaction may apply in part). */
  private readonly kindChecked = new Set<string>();

  constructor(
    private readonly dapr: DaprClientHelper,
    private readonly logger?: Logger,
  ) {}

  async insert(store: string, key: string, record: ClaimRecord, ttlSec: number): Promise<WriteOutcome> {
    const withEtag = await this.insertsWithEtag(store);
    // Not known yet (the probe got no answer): no claim without knowing its form. On Redis a guess
    // of first-write would flag the key, and every done mark written to it later would fail.
    if (withEtag === undefined) {
      return { ok: false, reason: 'unavailable', error: `the state store ${store} did not answer its probe` };
    }
    const result = await this.dapr.detailed.saveState(
      store,
      key,
      record,
      withEtag
        ? { etag: NO_SUCH_ETAG, metadata: { ttlInSeconds: ttlSec } }
        : { concurrency: 'first-write', metadata: { ttlInSeconds: ttlSec } },
    );
    return outcome(result);
  }

  async read(store: string, key: string): Promise<ReadOutcome> {
    const result = await this.dapr.detailed.getState<unknown>(store, key);
    if (!result.ok) return { ok: false, error: result.error };
    return { ok: true, record: asRecord(result.value), etag: result.etag };
  }

  async replace(store: string, key: string, etag: string, record: DedupeRecord, ttlSec: number): Promise<WriteOutcome> {
    return outcome(
      await this.dapr.detailed.saveState(store, key, record, { etag, metadata: { ttlInSeconds: ttlSec } }),
    );
  }

  async markDone(store: string, key: string, record: DoneRecord, ttlSec: number): Promise<WriteOutcome> {
    return outcome(await this.dapr.detailed.saveStateOnce(store, key, record, { metadata: { ttlInSeconds: ttlSec } }));
  }

  async remove(store: string, key: string, etag: string): Promise<WriteOutcome> {
    return outcome(await this.dapr.detailed.deleteState(store, key, { etag }));
  }

  async commit(
    store: string,
    key: string,
    etag: string | undefined,
    record: DoneRecord,
    ttlSec: number,
    effects: StateTransactionOperation[],
  ): Promise<WriteOutcome> {
    const done: StateTransactionOperation = {
      operation: 'upsert',
      request: { key, value: record, ...(etag ? { etag } : {}), metadata: { ttlInSeconds: String(ttlSec) } },
    };
    if (!this.kindChecked.has(store)) void this.checkRollback(store);
    return outcome(await this.dapr.detailed.executeStateTransaction(store, [...effects, done]));
  }

  /**
   * Once per store: a WARN when its kind does not roll a failed transaction back. A transactional
   * handler's writes and done mark then land in part when one of them fails (a stale ETag).
   */
  private async checkRollback(store: string): Promise<void> {
    const kind = (await this.dapr.componentTypes())?.get(store);
    if (kind === undefined) return; // asked again at the next commit
    this.kindChecked.add(store);
    if (ROLLS_BACK.has(kind)) return;
    this.logger?.warn(
      `dedupe.transactional on ${store} (${kind}): ${kind === 'state.redis' ? 'Redis does' : 'this store may'} not roll a ` +
        "transaction back: when one of a handler's writes fails (a stale ETag), the others and the done mark land anyway " +
        '(docs/subscriptions.md, "Exactly-once effects"); use a SQL store (state.postgresql) for all-or-nothing',
    );
  }

  /**
   * Whether `store` inserts a missing key under first-write with an ETag it does not have (Redis
   * does; stores that compare ETags strictly answer 409). Asked once per store with a throwaway
   * key; `undefined` until an answer comes (the sidecar may be down), asked again at the next claim.
   */
  private async insertsWithEtag(store: string): Promise<boolean | undefined> {
    let known = this.insertWithEtag.get(store);
    if (!known) {
      known = this.probe(store);
      this.insertWithEtag.set(store, known);
      void known.then((answer) => {
        if (answer === undefined) this.insertWithEtag.delete(store);
      });
    }
    return known;
  }

  private async probe(store: string): Promise<boolean | undefined> {
    const key = `kugel-dedupe-probe|${randomUUID()}`;
    const result = await this.dapr.detailed.saveState(
      store,
      key,
      { probe: true },
      { etag: NO_SUCH_ETAG, metadata: { ttlInSeconds: 60 } },
    );
    if (result.ok) {
      await this.dapr.detailed.deleteState(store, key);
      return true;
    }
    return result.status !== undefined && result.status < 500 ? false : undefined;
  }
}

function outcome(result: DaprResult<unknown>): WriteOutcome {
  if (result.ok) return { ok: true };
  if (result.code === UNKNOWN_OUTCOME) return { ok: false, reason: 'unknown', error: result.error };
  if (result.status === undefined) return { ok: false, reason: 'unavailable', error: result.error };
  return { ok: false, reason: result.conflict || result.status === 409 ? 'conflict' : 'failed', error: result.error };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/**
 * A stored record; anything else under the key reads as a claim with no owner that has expired
 * (it is taken over with its ETag).
 */
function asRecord(value: unknown): DedupeRecord | undefined {
  if (value === null || value === undefined) return undefined;
  if (isObject(value) && typeof value.owner === 'string' && typeof value.token === 'string') {
    if (value.state === 'done' && typeof value.at === 'number') {
      return { state: 'done', owner: value.owner, token: value.token, at: value.at };
    }
    if (value.state === 'claimed' && typeof value.until === 'number') {
      return { state: 'claimed', owner: value.owner, token: value.token, until: value.until };
    }
  }
  return { state: 'claimed', owner: '', token: '', until: 0 };
}
