import { randomUUID } from 'node:crypto';

/** One message the in-memory sidecar accepted for a topic. */
export interface PublishedMessage<T = unknown> {
  pubsub: string;
  topic: string;
  /** The event's data as a handler receives it in `DaprEvent.data` (parsed JSON for `application/json`). */
  data: T;
  /** The CloudEvent the sidecar made of it (none for a `rawPayload` publish). */
  cloudEvent?: Record<string, unknown>;
  /** Published with `rawPayload` (no CloudEvent envelope). */
  rawPayload: boolean;
  /** The bytes the broker keeps: the CloudEvent's JSON, or the raw body. */
  body: string;
  contentType: string;
  /** The publish's `metadata.<key>` values. */
  metadata: Record<string, string>;
  /** Handed to the subscriptions by `flush()` already. */
  delivered: boolean;
}

/**
 * What was published to the in-memory sidecar, in order, and how daprd v1.18 wraps it: a JSON
 * publish becomes a CloudEvent with a new UUID `id` (or `metadata.cloudevent.id`), the app id as
 * `source`, type `com.dapr.event.sent`, `datacontenttype` the publish's content type, and `data`
 * parsed only for `application/json`; a published CloudEvent keeps its fields (`topic` and
 * `pubsubname` overwritten); a `rawPayload` publish is kept as its bytes.
 */
export class InMemoryPubsub {
  private readonly components: Set<string>;
  private readonly messages: PublishedMessage[] = [];

  constructor(
    components: string[],
    private readonly appId: string,
  ) {
    this.components = new Set(components);
  }

  has(pubsub: string): boolean {
    return this.components.has(pubsub);
  }

  names(): string[] {
    return [...this.components];
  }

  /** Records a publish (`make`'s message; the sidecar checked the component). */
  record(message: PublishedMessage): void {
    this.messages.push(message);
  }

  /**
   * The message a publish makes (recorded with `record`; a test's own event is delivered without).
   * Throws `PublishRefused` with daprd's answer where daprd refuses the publish: a `rawPayload`
   * that is not a Go boolean (400), an own CloudEvent (`application/cloudevents+json`, in any case)
   * that is not a JSON object (500 `ERR_PUBSUB_CLOUD_EVENTS_SER`; `null` makes daprd v1.18 drop
   * the connection without an answer).
   */
  make(
    pubsub: string,
    topic: string,
    body: string,
    headers: Record<string, string>,
    metadata: Record<string, string>,
  ): PublishedMessage {
    const contentType = headers['content-type'] ?? 'text/plain';
    const rawPayload = goBool(metadata.rawPayload, 'rawPayload');
    const base = { pubsub, topic, contentType, metadata, rawPayload, delivered: false };
    if (rawPayload) return { ...base, data: dataOf(body, contentType), body };
    let cloudEvent: Record<string, unknown>;
    const traceparent = headers.traceparent ?? '';
    const trace = { traceid: traceparent, traceparent, tracestate: headers.tracestate ?? '' };
    if (isContentType(contentType, 'application/cloudevents+json')) {
      cloudEvent = {
        source: 'Dapr',
        type: 'com.dapr.event.sent',
        specversion: '1.0',
        ...ownCloudEvent(body),
        topic,
        pubsubname: pubsub,
      };
      cloudEvent.time ??= new Date().toISOString();
      if (cloudEvent.traceid === undefined) Object.assign(cloudEvent, trace);
    } else {
      cloudEvent = {
        data: dataOf(body, contentType),
        datacontenttype: contentType,
        id: metadata['cloudevent.id'] ?? randomUUID(),
        pubsubname: pubsub,
        source: metadata['cloudevent.source'] ?? this.appId,
        specversion: '1.0',
        time: new Date().toISOString(),
        topic,
        ...trace,
        type: metadata['cloudevent.type'] ?? 'com.dapr.event.sent',
      };
      if (metadata['cloudevent.subject'] !== undefined) cloudEvent.subject = metadata['cloudevent.subject'];
    }
    return { ...base, data: cloudEvent.data, cloudEvent, body: JSON.stringify(cloudEvent) };
  }

  /** A copy of `message` on a dead-letter topic (daprd republishes the original bytes, `id` and `topic` kept). */
  deadLetter(message: PublishedMessage, topic: string): void {
    this.messages.push({ ...message, topic, delivered: false });
  }

  /** Messages of `pubsub`/`topic` (every one when not given), in publish order. */
  list(pubsub?: string, topic?: string): PublishedMessage[] {
    return this.messages.filter(
      (m) => (pubsub === undefined || m.pubsub === pubsub) && (topic === undefined || m.topic === topic),
    );
  }

  clear(): void {
    this.messages.length = 0;
  }
}

/** A publish daprd refuses: its answer, or (`fault`) the connection it drops without one. */
export class PublishRefused extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    readonly fault?: 'ECONNRESET',
  ) {
    super(message);
  }
}

/** The caller's own CloudEvent: a JSON object, as daprd decodes it into a map. */
function ownCloudEvent(body: string): Record<string, unknown> {
  let own: unknown;
  try {
    own = JSON.parse(body) as unknown;
  } catch {
    own = undefined;
  }
  if (own === null)
    throw new PublishRefused(0, '', 'daprd v1.18 drops the connection on a null CloudEvent', 'ECONNRESET');
  if (typeof own !== 'object' || Array.isArray(own)) {
    throw new PublishRefused(500, 'ERR_PUBSUB_CLOUD_EVENTS_SER', 'cannot create cloudevent');
  }
  return own as Record<string, unknown>;
}

/** Go's `strconv.ParseBool` of a metadata value (`''` or none: false); daprd answers 400 for anything else. */
export function goBool(value: string | undefined, name: string): boolean {
  if (value === undefined || value === '') return false;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw new PublishRefused(
    400,
    'ERR_PUBSUB_REQUEST_METADATA',
    `failed deserializing metadata. Error: ${name} value must be a valid boolean: actual is '${value}'`,
  );
}

/** daprd's content type test: case-insensitive, parameters after `;` ignored. */
export function isContentType(contentType: string, expected: string): boolean {
  return contentType.toLowerCase().split(';')[0] === expected;
}

/** `data` as daprd puts it in a CloudEvent: parsed only for `application/json` (parameters allowed). */
function dataOf(body: string, contentType: string): unknown {
  if (!isContentType(contentType, 'application/json')) return body;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return body;
  }
}
