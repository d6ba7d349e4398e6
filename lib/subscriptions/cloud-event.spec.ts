import { bulkEntries, isEventContentType, parseJsonBody, toDaprEvent } from './cloud-event';
import { SubscriptionHandler } from './subscription-definition';

const handler = (rawPayload = false) => ({ pubsub: 'pubsub', topic: 'orders', rawPayload }) as SubscriptionHandler;

describe('CloudEvent parsing', () => {
  it('takes the content types daprd sends, with parameters, in any case', () => {
    expect(isEventContentType('application/cloudevents+json; charset=utf-8')).toBe(true);
    expect(isEventContentType('Application/JSON')).toBe(true);
    expect(isEventContentType('text/plain')).toBe(false);
    expect(isEventContentType(undefined)).toBe(false);
  });

  it('parses bytes, strings and Buffers, and keeps what a body parser made', () => {
    expect(parseJsonBody({ kind: 'bytes', bytes: Buffer.from('{"a":1}') })).toEqual({ ok: true, value: { a: 1 } });
    expect(parseJsonBody({ kind: 'value', value: '{"a":1}' })).toEqual({ ok: true, value: { a: 1 } });
    expect(parseJsonBody({ kind: 'value', value: { a: 1 } })).toEqual({ ok: true, value: { a: 1 } });
    expect(parseJsonBody({ kind: 'value', value: undefined })).toEqual({ ok: false, reason: 'the body is empty' });
    expect(parseJsonBody({ kind: 'bytes', bytes: Buffer.from('{') })).toMatchObject({ ok: false });
  });

  it('unwraps a CloudEvent: data, data_base64 as bytes, the trace header before the attribute', () => {
    const ce = {
      id: '1',
      data: { n: 1 },
      topic: 'orders',
      pubsubname: 'pubsub',
      source: 'cart',
      type: 't',
      traceparent: 'attr',
    };
    expect(toDaprEvent(ce, handler(), { traceparent: 'header' })).toMatchObject({
      ok: true,
      value: { id: '1', data: { n: 1 }, source: 'cart', type: 't', traceparent: 'header', raw: ce },
    });
    expect(toDaprEvent(ce, handler(), {})).toMatchObject({ value: { traceparent: 'attr' } });
    const binary = toDaprEvent({ id: '2', data_base64: Buffer.from('hi').toString('base64') }, handler(), {});
    expect(binary.ok && (binary.value.data as Buffer).toString()).toBe('hi');
    // A raw-payload subscription always gets bytes.
    const raw = toDaprEvent({ id: '3', data: 'text' }, handler(true), {});
    expect(raw.ok && Buffer.isBuffer(raw.value.data)).toBe(true);
  });

  it('refuses what cannot be an event', () => {
    expect(toDaprEvent([], handler(), {})).toEqual({ ok: false, reason: 'the body is not a CloudEvent object' });
    expect(toDaprEvent({ data: 1 }, handler(), {})).toEqual({ ok: false, reason: 'the CloudEvent has no "id"' });
    expect(toDaprEvent({ id: '1', data_base64: 5 }, handler(), {})).toMatchObject({ ok: false });
  });

  it('reads bulk entries: invalid ones answered, ones without an entryId (or repeated) left out', () => {
    const parsed = bulkEntries(
      {
        entries: [
          { entryId: 'a', event: { id: 'e1', data: 1 } },
          { entryId: 'b', event: JSON.stringify({ id: 'e2', data: 2 }) },
          { entryId: 'c', event: { data: 'no id' } },
          { event: { id: 'e4' } },
          { entryId: 'a', event: { id: 'e5' } },
        ],
      },
      handler(),
    );
    expect(parsed.ok && parsed.value.map((e) => [e.entryId, e.event?.id, e.invalid])).toEqual([
      ['a', 'e1', undefined],
      ['b', 'e2', undefined],
      ['c', undefined, 'the CloudEvent has no "id"'],
    ]);
    expect(bulkEntries({}, handler())).toEqual({ ok: false, reason: 'the bulk body has no "entries" array' });
  });

  it('gives raw bulk entries their bytes and the entry id', () => {
    const parsed = bulkEntries(
      { entries: [{ entryId: 'a', event: Buffer.from('x').toString('base64') }] },
      handler(true),
    );
    expect(parsed.ok && parsed.value[0].event).toMatchObject({ id: 'a', entryId: 'a', data: Buffer.from('x') });
  });
});
