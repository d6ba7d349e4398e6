import { BuiltBulkPublish, bulkPublishRequest, readBulkPublish } from './bulk-publish-requests';
import {
  BulkPublishEntry,
  BulkPublishOptions,
  BulkPublishResult,
  BulkStateOptions,
  DaprResult,
  OutboxOptions,
  DeleteStateOptions,
  GetStateOptions,
  PublishOptions,
  SaveStateOptions,
  StateTransactionOperation,
} from './dapr.interfaces';
import {
  bulkStateRequest,
  deleteStateRequest,
  getStateRequest,
  publishRequest,
  readBulkState,
  readState,
  saveStateRequest,
  transactionRequest,
} from './dapr-requests';
import { outboxTransactionRequest } from './outbox-requests';
import { SidecarCalls } from './sidecar-calls';

const nothing = (): void => undefined;

/**
 * The sidecar operations with their whole outcome (`DaprClientHelper.detailed`): the same
 * operations and arguments as `DaprClientHelper`'s, each resolving to a `DaprResult` — the value
 * (and the ETag of a state read), or the failure with its `code` and `status`. Never rejects. For
 * callers that must tell "no such key" (`{ ok: true, value: null }`) from "the store could not be
 * read" (`ok: false`), or a stale ETag (`status: 409`) from an outage (no `status`, or
 * `ERR_CIRCUIT_OPEN`).
 */
export class DaprDetailedClient {
  /** @internal */
  constructor(private readonly calls: SidecarCalls) {}

  /** Publishes `data` to `topic` of `pubsub`. */
  publishEvent(pubsub: string, topic: string, data: unknown, options: PublishOptions = {}): Promise<DaprResult<void>> {
    return this.calls.run(
      `publish to ${pubsub}/${topic}`,
      'pubsub',
      pubsub,
      () => publishRequest(pubsub, topic, data, options),
      nothing,
    );
  }

  /**
   * Publishes many events in one call (`/v1.0-alpha1/publish/bulk`), each with its outcome: see
   * `BulkPublishResult`. The pub/sub breaker counts the call once. An empty list sends nothing.
   */
  async publishBulk<T = unknown>(
    pubsub: string,
    topic: string,
    entries: BulkPublishEntry<T>[],
    options: BulkPublishOptions = {},
  ): Promise<BulkPublishResult<T>> {
    if (Array.isArray(entries) && entries.length === 0) return { ok: true, published: [], failed: [] };
    let built: BuiltBulkPublish<T> | undefined;
    const { result, answer } = await this.calls.exchange(
      `bulk publish to ${pubsub}/${topic} (${Array.isArray(entries) ? entries.length : 0} entries)`,
      'pubsub',
      pubsub,
      () => (built = bulkPublishRequest(pubsub, topic, entries, options)).request,
      (success) => success.data,
    );
    // Refused before sending (bad input): every entry as given, none published.
    const sent =
      built?.entries ?? (Array.isArray(entries) ? entries : []).map((entry, i) => ({ entryId: String(i), entry }));
    return result.ok
      ? readBulkPublish(sent, { ok: true, body: result.value })
      : readBulkPublish(sent, { ok: false, failure: result, body: answer });
  }

  /**
   * Dapr's transactional outbox: saves `value` under `key` of `store` and publishes it (or
   * `options.event`, Dapr's projection) in one state transaction. The store must be configured
   * for the outbox (`outboxPublishPubsub`, `outboxPublishTopic`); the sidecar publishes once the
   * transaction has committed, also when the app dies right after the call. Never sent again
   * after it may have reached the sidecar: a timeout is `ERR_UNKNOWN_OUTCOME` (it may have
   * committed and published). Breaker: the state store's.
   */
  saveStateAndPublish(
    store: string,
    key: string,
    value: unknown,
    options: OutboxOptions = {},
  ): Promise<DaprResult<void>> {
    return this.calls.run(
      `outbox transaction ${store}/${key}`,
      'state',
      store,
      () => outboxTransactionRequest(store, key, value, options),
      nothing,
    );
  }

  /** Saves `value` under `key` (with `etag` and `concurrency: 'first-write'` for optimistic concurrency). */
  saveState(store: string, key: string, value: unknown, options: SaveStateOptions = {}): Promise<DaprResult<void>> {
    return this.calls.run(
      `save state ${store}/${key}`,
      'state',
      store,
      () => saveStateRequest(store, key, value, options),
      nothing,
    );
  }

  /**
   * `saveState`, never sent again after it may have reached the sidecar (a timeout is
   * `ERR_UNKNOWN_OUTCOME`): for writes whose repeat must not land late, the dedupe store's.
   * @internal
   */
  saveStateOnce(store: string, key: string, value: unknown, options: SaveStateOptions = {}): Promise<DaprResult<void>> {
    return this.calls.run(
      `save state ${store}/${key}`,
      'state',
      store,
      () => ({ ...saveStateRequest(store, key, value, options), repeatable: false }),
      nothing,
    );
  }

  /** The value of `key` and its ETag: `{ ok: true, value: null }` when the key does not exist. */
  getState<T = unknown>(store: string, key: string, options: GetStateOptions = {}): Promise<DaprResult<T | null>> {
    return this.calls.run(
      `get state ${store}/${key}`,
      'state',
      store,
      () => getStateRequest(store, key, options),
      (answer) => readState<T>(answer.status, answer.data),
    );
  }

  /** Deletes `key` (also `ok` when it did not exist); `If-Match` when `etag` is given. */
  deleteState(store: string, key: string, options: DeleteStateOptions = {}): Promise<DaprResult<void>> {
    return this.calls.run(
      `delete state ${store}/${key}`,
      'state',
      store,
      () => deleteStateRequest(store, key, options),
      nothing,
    );
  }

  /** Values of `keys` as `{ key: value }` (keys that do not exist are left out). */
  getBulkState<T = unknown>(
    store: string,
    keys: string[],
    options: BulkStateOptions = {},
  ): Promise<DaprResult<Record<string, T>>> {
    return this.calls.run(
      `bulk get state ${store} (${Array.isArray(keys) ? keys.length : 0} keys)`,
      'state',
      store,
      () => bulkStateRequest(store, keys, options),
      (answer) => readBulkState<T>(answer.data),
    );
  }

  /** Applies upserts and deletes atomically. */
  executeStateTransaction(
    store: string,
    operations: StateTransactionOperation[],
    metadata?: Record<string, string>,
  ): Promise<DaprResult<void>> {
    return this.calls.run(
      `state transaction ${store} (${Array.isArray(operations) ? operations.length : 0} operations)`,
      'state',
      store,
      () => transactionRequest(store, operations, metadata),
      nothing,
    );
  }
}
