import { randomUUID } from 'node:crypto';
import { DaprClientHelper } from '../../dapr/dapr-client.helper';
import { DaprResult } from '../../dapr/dapr.interfaces';
import { ClaimRecord, DedupeStore, DoneRecord, StoreFailure, StoreWrite } from './dedupe-store.interface';

/**
 * An ETag no record carries. Some stores insert a missing key under first-write only without an
 * ETag (state.in-memory, the SQL stores); Redis also inserts with one, and is the store that needs
 * it: without an ETag, daprd v1.18's state.redis answers a first-write conflict with HTTP 500
 * "failed to set key" (its Lua script raises, and only ETag-bearing requests are mapped to an ETag
 * error), which reads like an outage and counts toward the store's circuit breaker; with one, a
 * conflict is 409. A duplicate burst on Redis would otherwise open the breaker of the whole store.
 * (The value is the largest int32: Redis ETags are a version counter that starts at 1.)
 */
const NO_SUCH_ETAG = '2147483647';

/**
 * `DedupeStore` over the Dapr state API (`DaprClientHelper.detailed`): every operation is one
 * sidecar call (plus a one-off probe per store, below). Reads are single-key GETs: the bulk read
 * (`getBulkState`) reports a key it could not read as missing, which is the very confusion (an
 * outage read as "not processed yet") this consumer exists to avoid.
 *
 * Failures are told apart by status, never by message text: a failure with an HTTP status is
 * `answered` (a conflict or a store error, which the caller settles by reading); one without
 * (connection error, timeout, open breaker) means the store is unavailable.
 */
export class DaprDedupeStore implements DedupeStore {
  /** How this store inserts a missing key (learnt once per store, see `NO_SUCH_ETAG`). */
  private readonly insertWithEtag = new Map<string, Promise<boolean | undefined>>();

  constructor(private readonly dapr: DaprClientHelper) {}

  async claim(store: string, claimKey: string, record: ClaimRecord, ttlSec: number) {
    const withEtag = await this.insertsWithEtag(store);
    const result = await this.dapr.detailed.saveState(store, claimKey, record, {
      concurrency: 'first-write',
      etag: withEtag ? NO_SUCH_ETAG : undefined,
      metadata: { ttlInSeconds: ttlSec },
    });
    return { ...write(result), calls: 1 };
  }

  async readDone(store: string, doneKey: string) {
    const result = await this.dapr.detailed.getState<unknown>(store, doneKey);
    if (!result.ok) return { ...failure(result), calls: 1 };
    const value = result.value;
    return { ok: true as const, done: isRecord(value) && value.state === 'done', calls: 1 };
  }

  async readClaim(store: string, claimKey: string) {
    const result = await this.dapr.detailed.getState<unknown>(store, claimKey);
    if (!result.ok) return { ...failure(result), calls: 1 };
    const value = result.value;
    return {
      ok: true as const,
      claim: value === null ? undefined : asClaim(value),
      etag: result.etag,
      calls: 1,
    };
  }

  async takeOver(store: string, claimKey: string, etag: string | undefined, record: ClaimRecord, ttlSec: number) {
    const result = await this.dapr.detailed.saveState(store, claimKey, record, {
      concurrency: 'first-write',
      etag: etag ?? NO_SUCH_ETAG,
      metadata: { ttlInSeconds: ttlSec },
    });
    return { ...write(result), calls: 1 };
  }

  async markDone(store: string, doneKey: string, record: DoneRecord, ttlSec: number) {
    const result = await this.dapr.detailed.saveState(store, doneKey, record, { metadata: { ttlInSeconds: ttlSec } });
    return { ...write(result), calls: 1 };
  }

  async release(store: string, claimKey: string) {
    return { ...write(await this.dapr.detailed.deleteState(store, claimKey)), calls: 1 };
  }

  /**
   * Whether `store` inserts a missing key under first-write with an ETag it does not have (Redis
   * does; stores that compare ETags strictly answer 409). Asked once per store with a throwaway
   * key; until an answer comes (the sidecar may be down), claims go without an ETag.
   */
  private async insertsWithEtag(store: string): Promise<boolean> {
    let known = this.insertWithEtag.get(store);
    if (!known) {
      known = this.probe(store);
      this.insertWithEtag.set(store, known);
      void known.then((answer) => {
        if (answer === undefined) this.insertWithEtag.delete(store);
      });
    }
    return (await known) ?? false;
  }

  private async probe(store: string): Promise<boolean | undefined> {
    const key = `kugel-dedupe-probe|${randomUUID()}`;
    const result = await this.dapr.detailed.saveState(
      store,
      key,
      { probe: true },
      { concurrency: 'first-write', etag: NO_SUCH_ETAG, metadata: { ttlInSeconds: 60 } },
    );
    if (result.ok) {
      await this.dapr.detailed.deleteState(store, key);
      return true;
    }
    return result.status !== undefined && result.status < 500 ? false : undefined;
  }
}

function write(result: DaprResult<unknown>): StoreWrite {
  return result.ok ? { ok: true } : failure(result);
}

function failure(result: DaprResult<unknown> & { ok: false }): StoreFailure {
  return { ok: false, answered: result.status !== undefined, error: result.error };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** A stored claim; anything else under the claim key is treated as a claim that has expired. */
function asClaim(value: unknown): ClaimRecord {
  if (isRecord(value) && value.state === 'claimed' && typeof value.until === 'number') {
    return { state: 'claimed', owner: String(value.owner ?? ''), until: value.until };
  }
  return { state: 'claimed', owner: '', until: 0 };
}
