// The sidecar's HTTP API v1.0 as pure functions: arguments in, a checked request out (or an
// `InputError` saying which argument is wrong); an answer in, the operation's value out.
import { serialiseJson } from '../input/body';
import { headerValueFault } from '../input/headers';
import { InputError } from '../input/input.error';
import { CLOUD_EVENT_ID, givenId, identifyEvent } from './event-identity';
import { checkPublishTtl, checkStateTtl } from './ttl';
import { segment } from '../input/path';
import { buildQuery, QueryParams } from '../input/query';
import {
  BulkStateOptions,
  DeleteStateOptions,
  GetStateOptions,
  PublishOptions,
  SaveStateOptions,
  StateTransactionOperation,
} from './dapr.interfaces';

/** One sidecar request, ready for the call runner. */
export interface DaprRequest {
  method: 'GET' | 'POST' | 'DELETE';
  /** Path and query, every name and value percent-encoded. */
  url: string;
  /** JSON text (or the raw event data). */
  data?: string;
  headers?: Record<string, string>;
  /** Route template for events and metrics. */
  route: string;
  /**
   * Sending it twice has the effect of sending it once (`repeat-safety.ts`): a read, a last-write
   * save, a delete without an ETag, a publish under a stable CloudEvent id. Otherwise it is sent
   * again only when the attempt provably never reached the sidecar, and a timeout or a reset after
   * it may have is an unknown outcome (`ERR_UNKNOWN_OUTCOME`).
   */
  repeatable: boolean;
}

const JSON_BODY = { 'Content-Type': 'application/json' };

/** `POST /v1.0/publish/<pubsub>/<topic>?metadata.<k>=<v>`. */
export function publishRequest(pubsub: string, topic: string, data: unknown, options: PublishOptions): DaprRequest {
  checkPublishTtl(options.metadata, 'options.metadata');
  const metadata: QueryParams = { ...options.metadata };
  if (options.rawPayload) metadata.rawPayload = 'true';
  const contentType = options.contentType ?? (options.cloudEvent ? 'application/cloudevents+json' : 'application/json');
  const headers: Record<string, string> = { 'Content-Type': checkHeaderOption('contentType', contentType) };
  const event = identifyEvent(
    data,
    contentType,
    givenId(options.eventId, metadata, ''),
    options.rawPayload === true,
    '',
  );
  if (event.metadataId !== undefined) metadata[CLOUD_EVENT_ID] = event.metadataId;
  if (options.traceparent !== undefined) headers.traceparent = checkHeaderOption('traceparent', options.traceparent);
  if (options.tracestate !== undefined) headers.tracestate = checkHeaderOption('tracestate', options.tracestate);
  return {
    method: 'POST',
    url: `/v1.0/publish/${segment(pubsub)}/${segment(topic)}${query(undefined, metadata)}`,
    data: serialiseJson(event.data, 'event data'),
    headers,
    route: '/v1.0/publish/:pubsub/:topic',
    repeatable: event.repeatable,
  };
}

/** `POST /v1.0/state/<store>` with one `{ key, value, etag?, metadata?, options? }` item. */
export function saveStateRequest(store: string, key: string, value: unknown, options: SaveStateOptions): DaprRequest {
  checkKey(key);
  checkValue(value, 'state value');
  const item: Record<string, unknown> = { key, value };
  if (options.etag !== undefined) item.etag = options.etag;
  if (options.metadata) item.metadata = checkMetadata(options.metadata);
  checkStateTtl(options.metadata, 'options.metadata');
  const opts = stateOptions(options);
  if (opts) item.options = opts;
  return {
    method: 'POST',
    url: `/v1.0/state/${segment(store)}`,
    data: serialiseJson([item], 'state value'),
    headers: JSON_BODY,
    route: '/v1.0/state/:store',
    // A conditional save repeated meets its own new ETag (or its own first write): a 409 for a write that happened.
    repeatable: options.etag === undefined && options.concurrency !== 'first-write',
  };
}

/** `GET /v1.0/state/<store>/<key>?consistency=...&metadata.<k>=<v>`. */
export function getStateRequest(store: string, key: string, options: GetStateOptions): DaprRequest {
  const k = checkKey(key);
  const plain = options.consistency ? { consistency: options.consistency } : undefined;
  return {
    method: 'GET',
    url: `/v1.0/state/${segment(store)}/${k}${query(plain, options.metadata)}`,
    route: '/v1.0/state/:store/:key',
    repeatable: true,
  };
}

/** `DELETE /v1.0/state/<store>/<key>`, `If-Match` when an ETag is given. */
export function deleteStateRequest(store: string, key: string, options: DeleteStateOptions): DaprRequest {
  const k = checkKey(key);
  const plain: Record<string, string> = {};
  if (options.consistency) plain.consistency = options.consistency;
  if (options.concurrency) plain.concurrency = options.concurrency;
  return {
    method: 'DELETE',
    url: `/v1.0/state/${segment(store)}/${k}${query(plain, options.metadata)}`,
    headers: options.etag !== undefined ? { 'If-Match': checkHeaderOption('etag', options.etag) } : undefined,
    route: '/v1.0/state/:store/:key',
    repeatable: options.etag === undefined,
  };
}

/** `POST /v1.0/state/<store>/bulk` with `{ keys, parallelism? }`. */
export function bulkStateRequest(store: string, keys: string[], options: BulkStateOptions): DaprRequest {
  if (!Array.isArray(keys)) throw new InputError('keys must be an array of strings');
  keys.forEach(checkKey);
  const body: Record<string, unknown> = { keys };
  if (options.parallelism !== undefined) body.parallelism = options.parallelism;
  return {
    method: 'POST',
    url: `/v1.0/state/${segment(store)}/bulk${query(undefined, options.metadata)}`,
    data: serialiseJson(body, 'bulk request'),
    headers: JSON_BODY,
    route: '/v1.0/state/:store/bulk',
    repeatable: true,
  };
}

/** `POST /v1.0/state/<store>/transaction` with `{ operations, metadata? }`. */
export function transactionRequest(
  store: string,
  operations: StateTransactionOperation[],
  metadata: Record<string, string> | undefined,
): DaprRequest {
  if (!Array.isArray(operations) || operations.length === 0)
    throw new InputError('operations must be a non-empty array');
  operations.forEach((op, i) => {
    if (!op || (op.operation !== 'upsert' && op.operation !== 'delete'))
      throw new InputError('each operation must be "upsert" or "delete"');
    checkKey(op.request?.key);
    if (op.operation === 'upsert') {
      checkValue(op.request.value, `value of "${op.request.key}"`);
      checkStateTtl(op.request.metadata, `operations[${i}].request.metadata`);
    }
  });
  return {
    method: 'POST',
    url: `/v1.0/state/${segment(store)}/transaction`,
    data: serialiseJson(metadata ? { operations, metadata } : { operations }, 'transaction'),
    headers: JSON_BODY,
    route: '/v1.0/state/:store/transaction',
    // A transaction may carry ETags, and on a store configured for the outbox it publishes once per commit.
    repeatable: false,
  };
}

/** A state read's value: `null` for a key that does not exist (204, or an empty body). */
export function readState<T>(status: number, body: unknown): T | null {
  return status === 204 || body === undefined ? null : (body as T);
}

/** A bulk read's `{ key: value }`, leaving out keys that do not exist or could not be read. */
export function readBulkState<T>(body: unknown): Record<string, T> {
  if (!Array.isArray(body)) throw new Error('the bulk state answer is not an array');
  const out: Record<string, T> = {};
  for (const item of body as Array<{ key?: string; data?: unknown; error?: string }>) {
    if (item && typeof item.key === 'string' && item.data !== undefined && !item.error) out[item.key] = item.data as T;
  }
  return out;
}

/**
 * daprd answers a state transaction whose ETag does not match with 500 `ERR_STATE_TRANSACTION`
 * (save and delete answer 409). That is a stale read by one caller, not a broken store, so it must
 * not count toward the breaker. The store's own words tell the two apart: the in-memory and
 * PostgreSQL stores say "possible etag mismatch", the Redis store's transaction script fails its
 * version check with "user_script:N: failed to set key" / "failed to delete"; a `first-write`
 * condition that did not hold is "no item was updated" on PostgreSQL. A store that is down answers
 * with a connection error instead, which still counts. (daprd gives the conflict no code of its own.)
 */
const TRANSACTION_CONFLICT = /etag mismatch|user_script:\d+: failed to (set|delete)|no item was updated/i;

export function isTransactionConflict(status: number, body: unknown): boolean {
  if (status !== 500 || typeof body !== 'object' || body === null) return false;
  const { errorCode, message } = body as { errorCode?: unknown; message?: unknown };
  return errorCode === 'ERR_STATE_TRANSACTION' && typeof message === 'string' && TRANSACTION_CONFLICT.test(message);
}

/**
 * Whether daprd's answer says a state write's ETag or `first-write` condition did not hold, on any
 * store: a 409 from a save or delete; a transaction's conflict (`isTransactionConflict`); a
 * `first-write` save refused with 500 `ERR_STATE_SAVE` by Redis ("failed to set key") or
 * PostgreSQL ("no item was updated"). One answer for the caller: `DaprFailure.conflict`.
 */
export function isStateConflict(status: number, body: unknown): boolean {
  if (typeof body !== 'object' || body === null) return false;
  const { errorCode, message } = body as { errorCode?: unknown; message?: unknown };
  if (status === 409) return errorCode === 'ERR_STATE_SAVE' || errorCode === 'ERR_STATE_DELETE';
  if (status === 500 && errorCode === 'ERR_STATE_SAVE' && typeof message === 'string')
    return /user_script:\d+: failed to set key|no item was updated/i.test(message);
  return isTransactionConflict(status, body);
}

/** Checks a state key and returns it encoded as one path segment. */
export function checkKey(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0) throw new InputError('state key must be a non-empty string');
  if (key.includes('||')) throw new InputError('state key must not contain "||" (Dapr reserves it)');
  return segment(key);
}

/**
 * A value JSON cannot represent at the top level (`undefined`, a function, a symbol) would be
 * dropped from the `[{ key, value }]` body without an error, and the sidecar would store an empty
 * value under the key: refuse it (nested ones are JSON's usual business).
 */
export function checkValue(value: unknown, what: string): void {
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') {
    throw new InputError(`${what} of type ${typeof value} is not JSON-serialisable`);
  }
}

/** An option sent as a header (an ETag, a trace context): the shared header value check. */
export function checkHeaderOption(name: string, value: string): string {
  if (headerValueFault(value) !== undefined)
    throw new InputError(`${name} must be a string without CR, LF, NUL or characters HTTP cannot carry`);
  return value;
}

/** Metadata values as strings; anything but a string, number or boolean is refused, naming `what`. */
export function checkMetadata(metadata: unknown, what = 'metadata'): Record<string, string> {
  if (metadata === undefined) return {};
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))
    throw new InputError(`${what} must be an object of strings, numbers or booleans`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')
      throw new InputError(`${what}.${k} must be a string, number or boolean`);
    out[k] = String(v);
  }
  return out;
}

function stateOptions(o: SaveStateOptions): Record<string, string> | undefined {
  if (!o.concurrency && !o.consistency) return undefined;
  const out: Record<string, string> = {};
  if (o.concurrency) out.concurrency = o.concurrency;
  if (o.consistency) out.consistency = o.consistency;
  return out;
}

/** `?a=b&metadata.k=v` (the shared query builder), or `''`. */
export function query(plain: QueryParams | undefined, metadata: QueryParams | undefined): string {
  const q = [buildQuery(plain), buildQuery(metadata, 'metadata.')].filter(Boolean).join('&');
  return q ? `?${q}` : '';
}
