import { bulkEntries, isEventContentType, parseJsonBody, toDaprEvent } from './cloud-event';
import { SubscriptionHandler } from './subscription-definition';

const handler = (rawPayload = false) => ({ pubsub: 'pubsub', topic: 'orders', rawPayload }) as SubscriptionHandler;

describe('CloudEvent parsing', () => {
  it('takes the content types daprd sends, with parameters, in any case', () => {
    expect(isEventContentType('application/cloudevents+json; charset=utf-8')).toBe(true);
    expect(isEventContentType('Application/JSON')).toBe(true);
    expect(isEventContentType('application/json ;charset=utf-8')).toBe(true);
    expect(isEventContentType('text/plain')).toBe(false);
    expect(isEventContentType('')).toBe(false);
    expect(isEventContentType(undefined)).toBe(false);
  });

  it('parses bytes, strings and Buffers, and keeps what a body parser made', () => {
    expect(parseJsonBody({ kind: 'bytes', bytes: Buffer.from('{"a":1}') })).toEqual({ ok: true, value: { a: 1 } });
    expect(parseJsonBody({ kind: 'value', value: '{"a":1}' })).toEqual({ ok: true, value: { a: 1 } });
    expect(parseJsonBody({ kind: 'value', value: { a: 1 } })).toEqual({ ok: true, value: { a: 1 } });
    expect(parseJsonBody({ kind: 'value', value: undefined })).toEqual({ ok: false, reason: 'the body is empty' });
    expect(parseJsonBody({ kind: 'value', value: Buffer.from('{"a":1}') })).toEqual({ ok: true, value: { a: 1 } });
  });

  it('answers an empty body as empty: no bytes, only whitespace, an empty string, null', () => {
    const empty = { ok: false, reason: 'the body is empty' };
    expect(parseJsonBody({ kind: 'bytes', bytes: Buffer.alloc(0) })).toEqual(empty);
    expect(parseJsonBody({ kind: 'bytes', bytes: Buffer.from(' \r\n\t') })).toEqual(empty);
    expect(parseJsonBody({ kind: 'value', value: '' })).toEqual(empty);
    expect(parseJsonBody({ kind: 'value', value: Buffer.alloc(0) })).toEqual(empty);
    expect(parseJsonBody({ kind: 'value', value: null })).toEqual(empty);
    expect(parseJsonBody({ kind: 'value', value: 0 })).toEqual(empty);
  });

  it("says why a body is not JSON in JSON.parse's words", () => {
    for (const text of ['{', 'not json', '{"a":1} x']) {
      let why = '';
      try {
        JSON.parse(text);
      } catch (error) {
        why = (error as Error).message;
      }
      expect(parseJsonBody({ kind: 'bytes', bytes: Buffer.from(text) })).toEqual({
        ok: false,
        reason: `the body is not JSON (${why})`,
      });
    }
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
    const notObject = { ok: false, reason: 'the body is not a CloudEvent object' };
    for (const body of [[], null, undefined, 'text', 42, true])
      expect(toDaprEvent(body, handler(), {})).toEqual(notObject);
    const noId = { ok: false, reason: 'the CloudEvent has no "id"' };
    expect(toDaprEvent({ data: 1 }, handler(), {})).toEqual(noId);
    expect(toDaprEvent({ id: '', data: 1 }, handler(), {})).toEqual(noId);
    expect(toDaprEvent({ id: 7, data: 1 }, handler(), {})).toEqual(noId);
    expect(toDaprEvent({ id: '1', data_base64: 5 }, handler(), {})).toEqual({
      ok: false,
      reason: 'the CloudEvent "data_base64" is not a string',
    });
  });

  it('fills what the CloudEvent leaves out: topic and pubsub from the subscription, empty source and type', () => {
    const minimal = toDaprEvent({ id: '1', topic: '', pubsubname: '', source: 5 }, handler(), {});
    expect(minimal).toEqual({
      ok: true,
      value: {
        id: '1',
        data: undefined,
        topic: 'orders',
        pubsub: 'pubsub',
        source: '',
        type: '',
        dataContentType: undefined,
        time: undefined,
        subject: undefined,
        traceparent: undefined,
        tracestate: undefined,
        raw: { id: '1', topic: '', pubsubname: '', source: 5 },
      },
    });
    const full = { id: '2', topic: 't2', pubsubname: 'p2', datacontenttype: 'text/plain', time: 'T', subject: 'S' };
    expect(toDaprEvent(full, handler(), {})).toMatchObject({
      value: { topic: 't2', pubsub: 'p2', dataContentType: 'text/plain', time: 'T', subject: 'S' },
    });
  });

  it('takes tracestate like traceparent: the header first, else the attribute', () => {
    const ce = { id: '1', traceparent: 'p-attr', tracestate: 's-attr' };
    expect(toDaprEvent(ce, handler(), { traceparent: 'p-h', tracestate: 's-h' })).toMatchObject({
      value: { traceparent: 'p-h', tracestate: 's-h' },
    });
    expect(toDaprEvent(ce, handler(), {})).toMatchObject({ value: { traceparent: 'p-attr', tracestate: 's-attr' } });
  });

  it('gives a raw-payload subscription its data as bytes: text as UTF-8, JSON as its text, none as empty', () => {
    const bytes = (data: unknown) => {
      const parsed = toDaprEvent(data === undefined ? { id: '1' } : { id: '1', data }, handler(true), {});
      return parsed.ok ? (parsed.value.data as Buffer).toString('utf8') : parsed.reason;
    };
    expect(bytes('héllo')).toBe('héllo');
    expect(bytes({ n: 1 })).toBe('{"n":1}');
    expect(bytes(undefined)).toBe('');
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
    const noEntries = { ok: false, reason: 'the bulk body has no "entries" array' };
    for (const body of [{}, { entries: {} }, null, undefined, 'entries', []]) {
      expect(bulkEntries(body, handler())).toEqual(noEntries);
    }
  });

  it('leaves out bulk entries whose entryId is empty or not a string', () => {
    const parsed = bulkEntries(
      { entries: [{ entryId: '', event: { id: 'e1' } }, { entryId: 5, event: { id: 'e2' } }, null, 'x'] },
      handler(),
    );
    expect(parsed).toEqual({ ok: true, value: [] });
  });

  it('gives raw bulk entries their bytes and the entry id', () => {
    const parsed = bulkEntries(
      { entries: [{ entryId: 'a', event: Buffer.from('x').toString('base64') }] },
      handler(true),
    );
    expect(parsed.ok && parsed.value[0].event).toEqual({
      id: 'a',
      entryId: 'a',
      data: Buffer.from('x'),
      topic: 'orders',
      pubsub: 'pubsub',
      source: '',
      type: '',
      dataContentType: undefined,
      raw: { entryId: 'a', event: Buffer.from('x').toString('base64') },
    });
  });

  it('answers a raw bulk entry without a base64 event as invalid', () => {
    const parsed = bulkEntries({ entries: [{ entryId: 'a', event: { id: 'e1' } }] }, handler(true));
    expect(parsed).toEqual({ ok: true, value: [{ entryId: 'a', invalid: 'the raw entry has no base64 "event"' }] });
  });
});
