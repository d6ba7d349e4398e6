// Dapr's transactional outbox as a pure function: one state key, its value and the event to
// publish with it in, one checked state transaction out.
import { serialiseJson } from '../input/body';
import { InputError } from '../input/input.error';
import { segment } from '../input/path';
import { OutboxOptions } from './dapr.interfaces';
import { checkHeaderOption, checkKey, checkMetadata, checkValue, DaprRequest } from './dapr-requests';
import { checkStateTtl } from './ttl';

/**
 * `POST /v1.0/state/<store>/transaction` with the upsert of `key` and, when `options.event` is
 * given, Dapr's projection of it: a second upsert of the same key with metadata
 * `outbox.projection: "true"`, which daprd publishes instead of the stored value and never stores.
 * The projection goes last (daprd v1.18 removes it from the list while walking the list).
 *
 * The content type is the request-level `contentType` of each operation: `metadata.contentType`
 * would make state.redis store the value with RedisJSON, which plain Redis lacks (the transaction
 * then fails, and daprd has already published).
 *
 * Not repeatable: a transaction that timed out may have committed and published already (its
 * timeout is an unknown outcome, `ERR_UNKNOWN_OUTCOME`). The published event's CloudEvent id is
 * daprd's own (`outbox-<uuid>`, the marker key it commits with the state; daprd v1.18 copies every
 * metadata key of the operation to the event except `id` and `data`), so it cannot be set: a
 * consumer that must recognise the event de-duplicates on a key in its data (`dedupe.key`).
 */
export function outboxTransactionRequest(
  store: string,
  key: string,
  value: unknown,
  options: OutboxOptions,
): DaprRequest {
  checkKey(key);
  checkValue(value, 'state value');
  const contentType = checkHeaderOption('contentType', options.contentType ?? 'application/json');
  const metadata = options.metadata ? checkMetadata(options.metadata) : undefined;
  checkStateTtl(metadata, 'options.metadata');
  if (metadata && 'outbox.projection' in metadata)
    throw new InputError('metadata must not set "outbox.projection": give the message to publish as options.event');
  const upsert: Record<string, unknown> = { key, value, contentType };
  if (options.etag !== undefined) upsert.etag = checkHeaderOption('etag', options.etag);
  if (metadata) upsert.metadata = metadata;
  const operations: Array<{ operation: 'upsert'; request: Record<string, unknown> }> = [
    { operation: 'upsert', request: upsert },
  ];
  if (options.event !== undefined) {
    checkValue(options.event, 'event');
    operations.push({
      operation: 'upsert',
      request: { key, value: options.event, contentType, metadata: { 'outbox.projection': 'true' } },
    });
  }
  return {
    method: 'POST',
    url: `/v1.0/state/${segment(store)}/transaction`,
    data: serialiseJson({ operations }, 'outbox transaction'),
    headers: { 'Content-Type': 'application/json' },
    route: '/v1.0/state/:store/transaction',
    repeatable: false,
  };
}
