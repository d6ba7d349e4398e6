// The sidecar's bulk publish (`/v1.0-alpha1/publish/bulk/<pubsub>/<topic>`) as pure functions: the
// entries in, a checked request out; the sidecar's answer in, each entry's outcome out.
import { serialiseJson } from '../input/body';
import { InputError } from '../input/input.error';
import { segment } from '../input/path';
import { QueryParams } from '../input/query';
import { BulkPublishEntry, BulkPublishOptions, BulkPublishResult, DaprFailure } from './dapr.interfaces';
import { checkHeaderOption, checkMetadata, DaprRequest, query } from './dapr-requests';
import { CLOUD_EVENT_ID, givenId, identifyEvent } from './event-identity';
import { checkPublishTtl } from './ttl';

/** Whether an entry goes without a CloudEvent (the call's or the entry's `rawPayload`). */
function raw(metadata: Record<string, string>): boolean {
  return /^(true|1|t)$/i.test(metadata.rawPayload ?? '');
}

/** An entry with the id it is sent under. */
export interface IdentifiedEntry<T> {
  entryId: string;
  entry: BulkPublishEntry<T>;
}

/** The request and the entries it carries, in order. */
export interface BuiltBulkPublish<T> {
  request: DaprRequest;
  entries: IdentifiedEntry<T>[];
}

const JSON_TYPE = /^application\/(.+\+)?json(\s*;.*)?$/i;
const TEXT_TYPE = /^(text\/[^;]+|application\/xml)(\s*;.*)?$/i;
const OCTET_STREAM = /^application\/octet-stream(\s*;.*)?$/i;

/**
 * `POST /v1.0-alpha1/publish/bulk/<pubsub>/<topic>` with `[{ entryId, event, contentType, metadata }]`.
 *
 * - `contentType` is always set (daprd answers 400 for an entry without one): `application/json`,
 *   or `application/octet-stream` for a `Buffer` (sent base64-encoded, as daprd expects);
 * - the call's `metadata` is copied into every entry (daprd merges request metadata into an entry
 *   only when the entry has metadata of its own, and its emulated bulk publisher, used for Redis and
 *   in-memory, reads only the entry's);
 * - every entry but a raw payload has one CloudEvent id on every attempt: its `eventId`, else a
 *   random UUID (`identifyEvent`), and the entries reported back carry it as `eventId`;
 * - `rawPayload` also goes as the query parameter `metadata.rawPayload`, which daprd reads for the
 *   whole call.
 *
 * Throws `InputError` naming the entry for anything daprd would refuse (no entries array, a
 * missing or repeated `entryId`, an event its content type cannot carry).
 */
export function bulkPublishRequest<T>(
  pubsub: string,
  topic: string,
  entries: BulkPublishEntry<T>[],
  options: BulkPublishOptions,
): BuiltBulkPublish<T> {
  if (!Array.isArray(entries)) throw new InputError('entries must be an array of { event, entryId?, ... }');
  const common = checkMetadata(options.metadata, 'options.metadata');
  if (options.rawPayload) common.rawPayload = 'true';
  const seen = new Set<string>();
  const identified: IdentifiedEntry<T>[] = [];
  let repeatable = true;
  const body = entries.map((entry, index) => {
    const where = `entries[${index}]`;
    if (typeof entry !== 'object' || entry === null || !('event' in entry))
      throw new InputError(`${where} must be an object with an "event"`);
    const entryId = entry.entryId ?? String(index);
    if (typeof entryId !== 'string' || entryId.length === 0)
      throw new InputError(`${where}.entryId must be a non-empty string`);
    if (seen.has(entryId)) throw new InputError(`${where}.entryId ${JSON.stringify(entryId)} is used twice`);
    seen.add(entryId);
    const metadata = { ...common, ...checkMetadata(entry.metadata, `${where}.metadata`) };
    checkPublishTtl(metadata, `${where}.metadata`);
    const encoded = encodeEvent(entry, where);
    const id = givenId(entry.eventId, metadata, `${where}.`);
    const identity = identifyEvent(encoded.event, encoded.contentType, id, raw(metadata), `${where}.`);
    if (identity.metadataId !== undefined) metadata[CLOUD_EVENT_ID] = identity.metadataId;
    if (!identity.repeatable) repeatable = false;
    // The entry as sent: with the id it went under, so that a republish of a failed entry is the same event.
    const eventId = identity.metadataId ?? (identity.data as { id?: string } | undefined)?.id;
    identified.push({
      entryId,
      entry: eventId === undefined || eventId === entry.eventId ? entry : { ...entry, eventId },
    });
    return { entryId, event: identity.data, contentType: encoded.contentType, metadata };
  });
  const plain: QueryParams = { ...options.metadata };
  if (options.rawPayload) plain.rawPayload = 'true';
  return {
    entries: identified,
    request: {
      method: 'POST',
      url: `/v1.0-alpha1/publish/bulk/${segment(pubsub)}/${segment(topic)}${query(undefined, plain)}`,
      data: serialiseJson(body, 'bulk publish entries'),
      headers: { 'Content-Type': 'application/json' },
      route: '/v1.0-alpha1/publish/bulk/:pubsub/:topic',
      // Every entry has one CloudEvent id on every attempt (none but raw payloads, which have no CloudEvent).
      repeatable,
    },
  };
}

/**
 * Each entry's outcome from the call's. Never reports an entry published unless the sidecar said
 * so: success → every entry; daprd's 500 whose body lists `failedEntries`, every one of them an
 * entry of this call → those failed, the others published; anything else → every entry failed
 * with the call's error.
 */
export function readBulkPublish<T>(
  entries: IdentifiedEntry<T>[],
  outcome: { ok: true; body: unknown } | { ok: false; failure: DaprFailure; body?: unknown },
): BulkPublishResult<T> {
  const listed = failedEntriesOf(outcome.body, entries);
  if (outcome.ok && (listed === undefined || listed.size === 0)) {
    return { ok: true, published: entries.map((e) => e.entryId), failed: [] };
  }
  const failure: DaprFailure = outcome.ok
    ? { ok: false, error: 'the sidecar answered 2xx but listed failed entries', code: 'ERR_PUBSUB_PUBLISH_MESSAGE' }
    : outcome.failure;
  // A partial failure is only what daprd documents: 500 (or, defensively, a 2xx) listing the failures.
  const partial = listed !== undefined && listed.size > 0 && (outcome.ok || failure.status === 500);
  const failed = entries
    .filter((e) => !partial || listed!.has(e.entryId))
    .map((e) => ({ entryId: e.entryId, entry: e.entry, error: (partial && listed!.get(e.entryId)) || failure.error }));
  const failedIds = new Set(failed.map((f) => f.entryId));
  return {
    ok: false,
    published: entries.filter((e) => !failedIds.has(e.entryId)).map((e) => e.entryId),
    failed,
    error: partial ? `${failed.length} of ${entries.length} entries failed: ${failure.error}` : failure.error,
    code: failure.code,
    ...(failure.status !== undefined ? { status: failure.status } : {}),
  };
}

/**
 * daprd's `failedEntries` as `entryId → error`, or `undefined` when the body does not list them
 * the documented way, or lists an id this call did not send (then nothing in it can be trusted).
 */
function failedEntriesOf<T>(body: unknown, entries: IdentifiedEntry<T>[]): Map<string, string> | undefined {
  if (typeof body !== 'object' || body === null || !('failedEntries' in body)) return undefined;
  const list = (body as { failedEntries: unknown }).failedEntries;
  if (!Array.isArray(list)) return undefined;
  const known = new Set(entries.map((e) => e.entryId));
  const out = new Map<string, string>();
  for (const item of list as Array<{ entryId?: unknown; error?: unknown }>) {
    if (typeof item !== 'object' || item === null || typeof item.entryId !== 'string' || !known.has(item.entryId))
      return undefined;
    out.set(item.entryId, typeof item.error === 'string' ? item.error.slice(0, 300) : 'failed');
  }
  return out;
}

/** The event as the bulk API carries it for its content type, and that content type. */
function encodeEvent<T>(entry: BulkPublishEntry<T>, where: string): { event: unknown; contentType: string } {
  const isBuffer = Buffer.isBuffer(entry.event);
  const contentType =
    entry.contentType === undefined
      ? isBuffer
        ? 'application/octet-stream'
        : 'application/json'
      : checkHeaderOption(`${where}.contentType`, entry.contentType);
  if (OCTET_STREAM.test(contentType)) {
    if (isBuffer) return { event: (entry.event as Buffer).toString('base64'), contentType };
    if (typeof entry.event !== 'string')
      throw new InputError(`${where}.event must be a Buffer or base64 text for ${contentType}`);
    return { event: entry.event, contentType };
  }
  if (TEXT_TYPE.test(contentType)) {
    if (typeof entry.event !== 'string') throw new InputError(`${where}.event must be a string for ${contentType}`);
    return { event: entry.event, contentType };
  }
  if (isBuffer) throw new InputError(`${where}.event is a Buffer: send it as application/octet-stream`);
  if (!JSON_TYPE.test(contentType))
    throw new InputError(
      `${where}.contentType ${JSON.stringify(contentType)} is not one the bulk API accepts (JSON, text, XML, octet-stream)`,
    );
  if (entry.event === undefined || typeof entry.event === 'function' || typeof entry.event === 'symbol')
    throw new InputError(`${where}.event of type ${typeof entry.event} is not JSON-serialisable`);
  return { event: entry.event, contentType };
}
