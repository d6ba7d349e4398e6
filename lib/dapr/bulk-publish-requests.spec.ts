import { isInputError } from '../input/input.error';
import { bulkPublishRequest, IdentifiedEntry, readBulkPublish } from './bulk-publish-requests';
import { DaprFailure } from './dapr.interfaces';

const body = (built: { request: { data?: string } }) => JSON.parse(built.request.data!);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('bulkPublishRequest', () => {
  it("sends every entry with an id, its content type and its metadata (the call's merged in), to the alpha1 route", () => {
    const built = bulkPublishRequest<unknown>(
      'pubsub-tranlog-report',
      'topic-tranlog',
      [
        { event: { n: 1 }, eventId: 'e-1' },
        { event: 'hello', contentType: 'text/plain', entryId: 'x', metadata: { ttlInSeconds: 60, region: 'b' } },
        { event: Buffer.from('raw') },
      ],
      { metadata: { region: 'a' } },
    );
    expect(built.request.url).toBe('/v1.0-alpha1/publish/bulk/pubsub-tranlog-report/topic-tranlog?metadata.region=a');
    expect(built.request.headers).toEqual({ 'Content-Type': 'application/json' });
    expect(body(built)).toEqual([
      {
        entryId: '0',
        event: { n: 1 },
        contentType: 'application/json',
        metadata: { region: 'a', 'cloudevent.id': 'e-1' },
      },
      {
        entryId: 'x',
        event: 'hello',
        contentType: 'text/plain',
        metadata: { region: 'b', ttlInSeconds: '60', 'cloudevent.id': expect.stringMatching(UUID) },
      },
      {
        entryId: '2',
        event: Buffer.from('raw').toString('base64'),
        contentType: 'application/octet-stream',
        metadata: { region: 'a', 'cloudevent.id': expect.stringMatching(UUID) },
      },
    ]);
    expect(built.entries.map((e) => e.entryId)).toEqual(['0', 'x', '2']);
    expect(built.request.repeatable).toBe(true);
  });

  it('gives every entry without an eventId its own UUID, reported back on the entry so a republish is the same event', () => {
    const entries = [{ event: { n: 1 } }, { event: { n: 2 } }, { event: { n: 3 }, eventId: 'mine' }];
    const built = bulkPublishRequest('p', 't', entries, {});
    const sent = (body(built) as Array<{ metadata: Record<string, string> }>).map((e) => e.metadata['cloudevent.id']);
    expect(sent[0]).toMatch(UUID);
    expect(sent[1]).toMatch(UUID);
    expect(sent[0]).not.toBe(sent[1]);
    expect(sent[2]).toBe('mine');
    expect(built.entries.map((e) => e.entry.eventId)).toEqual(sent);
    // The caller's entries are left as they were.
    expect(entries[0]).toEqual({ event: { n: 1 } });
    // A failed entry carries the id it went under.
    const result = readBulkPublish(built.entries, {
      ok: false,
      failure: { ok: false, error: 'x', code: 'ERR_PUBSUB_PUBLISH_MESSAGE', status: 500 },
      body: { failedEntries: [{ entryId: '1', error: 'e' }] },
    });
    expect(result.failed.map((f) => f.entry.eventId)).toEqual([sent[1]]);
  });

  it("puts the id in a CloudEvent entry's body (daprd ignores the metadata override there); keeps the entry's own id", () => {
    const ce = 'application/cloudevents+json';
    const built = bulkPublishRequest(
      'p',
      't',
      [
        { event: { specversion: '1.0', type: 't', source: 's' }, contentType: ce },
        { event: { id: 'own', specversion: '1.0' }, contentType: ce },
        { event: { specversion: '1.0' }, contentType: ce, eventId: 'given' },
      ],
      {},
    );
    const events = (body(built) as Array<{ event: { id: string }; metadata: Record<string, string> }>).map((e) => e);
    expect(events[0].event.id).toMatch(UUID);
    expect(events[1].event.id).toBe('own');
    expect(events[2].event.id).toBe('given');
    expect(events.every((e) => e.metadata['cloudevent.id'] === undefined)).toBe(true);
    expect(() =>
      bulkPublishRequest('p', 't', [{ event: { id: 'own' }, contentType: ce, eventId: 'other' }], {}),
    ).toThrow(/entries\[0\]\.eventId differs from the CloudEvent's own id/);
    expect(() => bulkPublishRequest('p', 't', [{ event: 'text', contentType: ce }], {})).toThrow(
      /entries\[0\]\.a CloudEvent .* must be a JSON object/,
    );
  });

  it('a raw payload has no CloudEvent: no id, an eventId is refused, and the call is not repeatable', () => {
    const built = bulkPublishRequest('p', 't', [{ event: { a: 1 } }], { rawPayload: true });
    expect(body(built)[0].metadata).toEqual({ rawPayload: 'true' });
    expect(built.request.repeatable).toBe(false);
    expect(() => bulkPublishRequest('p', 't', [{ event: { a: 1 }, eventId: 'e' }], { rawPayload: true })).toThrow(
      /entries\[0\]\.eventId has no effect with rawPayload/,
    );
    const oneRaw = bulkPublishRequest('p', 't', [{ event: 1 }, { event: 2, metadata: { rawPayload: true } }], {});
    expect(oneRaw.request.repeatable).toBe(false);
    expect(body(oneRaw)[1].metadata['cloudevent.id']).toBeUndefined();
  });

  it('sends rawPayload as a query parameter (daprd reads it for the whole call) and in every entry', () => {
    const built = bulkPublishRequest('p', 't', [{ event: { a: 1 } }], { rawPayload: true });
    expect(built.request.url).toBe('/v1.0-alpha1/publish/bulk/p/t?metadata.rawPayload=true');
    expect(body(built)[0].metadata).toEqual({ rawPayload: 'true' });
  });

  it.each([
    ['not an array', {}, /entries must be an array/],
    ['an entry without event', [{ entryId: 'a' }], /entries\[0\] must be an object with an "event"/],
    [
      'a repeated entryId',
      [
        { event: 1, entryId: 'a' },
        { event: 2, entryId: 'a' },
      ],
      /entries\[1\]\.entryId "a" is used twice/,
    ],
    [
      'an explicit id equal to a default one',
      [{ event: 1 }, { event: 2, entryId: '0' }],
      /entries\[1\]\.entryId "0" is used twice/,
    ],
    ['an empty entryId', [{ event: 1, entryId: '' }], /entries\[0\]\.entryId must be a non-empty string/],
    [
      'a text event that is not a string',
      [{ event: { a: 1 }, contentType: 'text/plain' }],
      /entries\[0\]\.event must be a string for text\/plain/,
    ],
    [
      'a Buffer as JSON',
      [{ event: Buffer.from('x'), contentType: 'application/json' }],
      /send it as application\/octet-stream/,
    ],
    ['an unknown content type', [{ event: 1, contentType: 'image/png' }], /not one the bulk API accepts/],
    ['an empty eventId', [{ event: 1, eventId: '' }], /entries\[0\]\.eventId must be a non-empty string/],
    [
      'an object metadata value',
      [{ event: 1, metadata: { a: {} } }],
      /entries\[0\]\.metadata\.a must be a string, number or boolean/,
    ],
    ['an undefined event', [{ event: undefined }], /entries\[0\]\.event of type undefined is not JSON-serialisable/],
  ])('refuses %s, naming it', (_what, entries, message) => {
    let error: unknown;
    try {
      bulkPublishRequest('p', 't', entries as never, {});
    } catch (e) {
      error = e;
    }
    expect(isInputError(error)).toBe(true);
    expect((error as Error).message).toMatch(message);
  });
});

describe('readBulkPublish: an entry is reported published only when the sidecar said so', () => {
  const sent: IdentifiedEntry<number>[] = ['a', 'b', 'c'].map((entryId, i) => ({
    entryId,
    entry: { event: i, entryId },
  }));
  const failure = (status?: number): DaprFailure => ({
    ok: false,
    error: `bulk publish to p/t (3 entries): sidecar answered HTTP ${status}`,
    code: status ? 'ERR_PUBSUB_PUBLISH_MESSAGE' : 'ECONNREFUSED',
    ...(status ? { status } : {}),
  });
  const listed = (...ids: unknown[]) => ({
    failedEntries: ids.map((entryId) => ({ entryId, error: `redis: ${String(entryId)} refused` })),
    errorCode: 'ERR_PUBSUB_PUBLISH_MESSAGE',
  });

  const table: Array<[string, Parameters<typeof readBulkPublish>[1], string[], string[]]> = [
    ['204: every entry', { ok: true, body: undefined }, ['a', 'b', 'c'], []],
    [
      '500 listing two: those failed, the rest published',
      { ok: false, failure: failure(500), body: listed('a', 'c') },
      ['b'],
      ['a', 'c'],
    ],
    ['500 listing all', { ok: false, failure: failure(500), body: listed('a', 'b', 'c') }, [], ['a', 'b', 'c']],
    [
      '500 listing an id never sent: nothing in it is trusted',
      { ok: false, failure: failure(500), body: listed('a', 'zz') },
      [],
      ['a', 'b', 'c'],
    ],
    ['500 with an empty list', { ok: false, failure: failure(500), body: listed() }, [], ['a', 'b', 'c']],
    [
      '500 with failedEntries not an array',
      { ok: false, failure: failure(500), body: { failedEntries: { a: 1 } } },
      [],
      ['a', 'b', 'c'],
    ],
    [
      '500 with an entry without its id',
      { ok: false, failure: failure(500), body: { failedEntries: [{ error: 'x' }] } },
      [],
      ['a', 'b', 'c'],
    ],
    ['500 whose body is not JSON', { ok: false, failure: failure(500), body: '<html>oops' }, [], ['a', 'b', 'c']],
    [
      '404 unknown pub/sub (even if it listed entries)',
      { ok: false, failure: failure(404), body: listed('a') },
      [],
      ['a', 'b', 'c'],
    ],
    [
      '400 refused',
      { ok: false, failure: failure(400), body: { errorCode: 'ERR_PUBSUB_EVENTS_SER' } },
      [],
      ['a', 'b', 'c'],
    ],
    ['no answer (connection refused, timeout, open breaker)', { ok: false, failure: failure() }, [], ['a', 'b', 'c']],
    ['2xx that lists failures anyway', { ok: true, body: listed('b') }, ['a', 'c'], ['b']],
    ['2xx with an empty list', { ok: true, body: listed() }, ['a', 'b', 'c'], []],
  ];

  it.each(table)('%s', (_name, outcome, published, failed) => {
    const result = readBulkPublish(sent, outcome);
    expect(result.published).toEqual(published);
    expect(result.failed.map((f) => f.entryId)).toEqual(failed);
    expect(result.ok).toBe(failed.length === 0);
    for (const f of result.failed) expect(f.entry).toBe(sent.find((e) => e.entryId === f.entryId)!.entry);
  });

  it("gives each listed entry daprd's own error, and the others the call's", () => {
    const partial = readBulkPublish(sent, { ok: false, failure: failure(500), body: listed('b') });
    expect(partial).toMatchObject({
      ok: false,
      status: 500,
      code: 'ERR_PUBSUB_PUBLISH_MESSAGE',
      error: expect.stringMatching(/^1 of 3 entries failed: /),
      failed: [{ entryId: 'b', error: 'redis: b refused' }],
    });
    const whole = readBulkPublish(sent, { ok: false, failure: failure() });
    expect(whole.failed.map((f) => f.error)).toEqual(Array(3).fill(failure().error));
    expect(whole).toMatchObject({ code: 'ECONNREFUSED' });
    expect('status' in whole).toBe(false);
  });
});
