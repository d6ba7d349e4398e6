// One CloudEvent id for every attempt of a publish: where it goes, and what may carry one.
import { randomUUID } from 'node:crypto';
import { InputError } from '../input/input.error';

/** The publish metadata key that sets the CloudEvent `id` daprd wraps the event in. */
export const CLOUD_EVENT_ID = 'cloudevent.id';

/** A stable event id: a non-empty string without control characters (it becomes a CloudEvent attribute). */
export function checkEventId(id: unknown, what = 'eventId'): string {
  // eslint-disable-next-line no-control-regex
  if (typeof id !== 'string' || id.length === 0 || /[\u0000-\u001f\u007f]/.test(id))
    throw new InputError(`${what} must be a non-empty string without control characters`);
  return id;
}

/** `application/cloudevents+json` (any parameters): daprd takes the body as the caller's own CloudEvent. */
const CLOUD_EVENT_TYPE = /^application\/cloudevents\+json(\s*;.*)?$/i;

/**
 * How a publish is identified, so that every attempt of it is the same event to a consumer's
 * dedupe (`repeat-safety.ts`):
 * - an event daprd wraps: the CloudEvent id goes as `metadata.cloudevent.id` — the caller's
 *   `eventId`, else a random UUID made once per logical publish;
 * - the caller's own CloudEvent (`application/cloudevents+json`): daprd ignores the metadata
 *   overrides then and adds no id, so the id is the body's `id` — kept when present (an `eventId`
 *   that differs is refused), else set to `eventId` or a random UUID in a copy of the body; the
 *   body must be a JSON object (daprd answers 500 `ERR_PUBSUB_CLOUD_EVENTS_SER` otherwise);
 * - a raw payload: daprd makes no CloudEvent at all (the subscriber's sidecar gives each delivery
 *   a new id), so `eventId` is refused and the publish is not repeatable: a repeat would be a copy
 *   no consumer can tell from a new event, unless its data carries a key of its own.
 */
export function identifyEvent(
  data: unknown,
  contentType: string,
  eventId: unknown,
  raw: boolean,
  where: string,
): { data: unknown; metadataId?: string; repeatable: boolean } {
  if (raw) {
    if (eventId !== undefined) {
      throw new InputError(`${where}eventId has no effect with rawPayload (daprd makes no CloudEvent); leave it out`);
    }
    return { data, repeatable: false };
  }
  const id = eventId === undefined ? undefined : checkEventId(eventId, `${where}eventId`);
  if (!CLOUD_EVENT_TYPE.test(contentType)) return { data, metadataId: id ?? randomUUID(), repeatable: true };
  if (typeof data !== 'object' || data === null || Array.isArray(data) || Buffer.isBuffer(data)) {
    throw new InputError(`${where}a CloudEvent (content type ${contentType}) must be a JSON object`);
  }
  const own = (data as { id?: unknown }).id;
  if (own !== undefined) {
    checkEventId(own, `${where}the CloudEvent's id`);
    if (id !== undefined && id !== own) throw new InputError(`${where}eventId differs from the CloudEvent's own id`);
    return { data, repeatable: true };
  }
  return { data: { ...data, id: id ?? randomUUID() }, repeatable: true };
}

/**
 * The event id the caller gave: `eventId`, or the `cloudevent.id` override in `metadata` (the two
 * must agree); `undefined` when neither is there.
 */
export function givenId(eventId: unknown, metadata: Record<string, unknown>, where: string): unknown {
  const fromMetadata = metadata[CLOUD_EVENT_ID];
  if (fromMetadata === undefined) return eventId;
  if (eventId !== undefined && eventId !== String(fromMetadata)) {
    throw new InputError(`${where}eventId differs from ${where}metadata["${CLOUD_EVENT_ID}"]: give one of them`);
  }
  return String(fromMetadata);
}
