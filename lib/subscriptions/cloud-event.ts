import { DaprEvent } from './dapr-event.interface';
import { SubscriptionHandler } from './subscription-definition';

/** A delivery body as the platform handed it over: bytes still to parse, or a value a body parser already made. */
export type InboundBody = { kind: 'bytes'; bytes: Buffer } | { kind: 'value'; value: unknown };

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Trace headers of the delivery request. */
export interface DeliveryTrace {
  traceparent?: string;
  tracestate?: string;
}

/** One entry of a bulk delivery: its id, and its event or why it cannot be one. */
export interface BulkEntry {
  entryId: string;
  event?: DaprEvent;
  invalid?: string;
}

const JSON_TYPES = new Set(['application/json', 'application/cloudevents+json']);

/** Whether daprd could have sent this `Content-Type` (single: cloudevents+json; bulk: json). */
export function isEventContentType(header: string | undefined): boolean {
  if (!header) return false;
  return JSON_TYPES.has(header.split(';')[0].trim().toLowerCase());
}

/** The body as JSON (a body parser's object as is; bytes, a string or a Buffer parsed). */
export function parseJsonBody(body: InboundBody): Parsed<unknown> {
  let text: string;
  if (body.kind === 'value') {
    const v = body.value;
    if (Buffer.isBuffer(v)) text = v.toString('utf8');
    else if (typeof v === 'string') text = v;
    else if (typeof v === 'object' && v !== null) return { ok: true, value: v };
    else return { ok: false, reason: 'the body is empty' };
  } else text = body.bytes.toString('utf8');
  if (text.trim().length === 0) return { ok: false, reason: 'the body is empty' };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, reason: `the body is not JSON (${(error as Error).message.split('\n')[0].slice(0, 120)})` };
  }
}

/** A single delivery's CloudEvent as a `DaprEvent`, or why it cannot be one. */
export function toDaprEvent(envelope: unknown, handler: SubscriptionHandler, trace: DeliveryTrace): Parsed<DaprEvent> {
  if (typeof envelope !== 'object' || envelope === null || Array.isArray(envelope)) {
    return { ok: false, reason: 'the body is not a CloudEvent object' };
  }
  const e = envelope as Record<string, unknown>;
  if (typeof e.id !== 'string' || e.id.length === 0) return { ok: false, reason: 'the CloudEvent has no "id"' };
  if (e.data_base64 !== undefined && typeof e.data_base64 !== 'string') {
    return { ok: false, reason: 'the CloudEvent "data_base64" is not a string' };
  }
  let data: unknown;
  if (typeof e.data_base64 === 'string') data = Buffer.from(e.data_base64, 'base64');
  else if (handler.rawPayload) data = rawBytes(e.data);
  else data = e.data;
  return {
    ok: true,
    value: {
      id: e.id,
      data,
      topic: text(e.topic) ?? handler.topic,
      pubsub: text(e.pubsubname) ?? handler.pubsub,
      source: text(e.source) ?? '',
      type: text(e.type) ?? '',
      dataContentType: text(e.datacontenttype),
      time: text(e.time),
      subject: text(e.subject),
      traceparent: trace.traceparent || text(e.traceparent),
      tracestate: trace.tracestate || text(e.tracestate),
      raw: e,
    },
  };
}

/**
 * The entries of a bulk delivery (`{ entries: [{ entryId, event, contentType, metadata }] }`), each
 * as an event or an invalid entry; entries without an `entryId` cannot be answered and are left
 * out (daprd retries an entry it gets no answer for).
 */
export function bulkEntries(body: unknown, handler: SubscriptionHandler): Parsed<BulkEntry[]> {
  if (typeof body !== 'object' || body === null || !Array.isArray((body as { entries?: unknown }).entries)) {
    return { ok: false, reason: 'the bulk body has no "entries" array' };
  }
  const b = body as { entries: unknown[]; topic?: unknown; pubsubname?: unknown };
  const out: BulkEntry[] = [];
  const seen = new Set<string>();
  for (const raw of b.entries) {
    const entry = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    if (typeof entry.entryId !== 'string' || entry.entryId.length === 0 || seen.has(entry.entryId)) continue;
    seen.add(entry.entryId);
    const entryId = entry.entryId;
    if (handler.rawPayload) {
      // A raw entry's event is the message bytes, base64-encoded; there is no CloudEvent id.
      if (typeof entry.event !== 'string') {
        out.push({ entryId, invalid: 'the raw entry has no base64 "event"' });
        continue;
      }
      out.push({
        entryId,
        event: {
          id: entryId,
          entryId,
          data: Buffer.from(entry.event, 'base64'),
          topic: text(b.topic) ?? handler.topic,
          pubsub: text(b.pubsubname) ?? handler.pubsub,
          source: '',
          type: '',
          dataContentType: text(entry.contentType),
          raw: entry,
        },
      });
      continue;
    }
    const event = typeof entry.event === 'string' ? parseJsonBody({ kind: 'value', value: entry.event }) : undefined;
    const parsed = toDaprEvent(event?.ok ? event.value : entry.event, handler, {});
    if (parsed.ok) out.push({ entryId, event: { ...parsed.value, entryId } });
    else out.push({ entryId, invalid: parsed.reason });
  }
  return { ok: true, value: out };
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function rawBytes(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  return Buffer.from(data === undefined ? '' : JSON.stringify(data), 'utf8');
}
