import { isInputError } from '../input/input.error';
import { outboxTransactionRequest } from './outbox-requests';

describe('outboxTransactionRequest', () => {
  it('upserts the state with a request-level contentType, then the projection of the same key; not repeatable', () => {
    const request = outboxTransactionRequest(
      'cartstore',
      'cart-1',
      { status: 'billed' },
      { etag: '7', event: { event_id: 'e-1' }, metadata: { type: 'tranlog.created', ttlInSeconds: 60 } },
    );
    expect(request).toMatchObject({
      method: 'POST',
      url: '/v1.0/state/cartstore/transaction',
      route: '/v1.0/state/:store/transaction',
      repeatable: false,
    });
    expect(JSON.parse(request.data!)).toEqual({
      operations: [
        {
          operation: 'upsert',
          request: {
            key: 'cart-1',
            value: { status: 'billed' },
            etag: '7',
            // Not metadata.contentType: that makes state.redis use RedisJSON.
            contentType: 'application/json',
            metadata: { type: 'tranlog.created', ttlInSeconds: '60' },
          },
        },
        {
          operation: 'upsert',
          request: {
            key: 'cart-1',
            value: { event_id: 'e-1' },
            contentType: 'application/json',
            metadata: { 'outbox.projection': 'true' },
          },
        },
      ],
    });
  });

  it('publishes the stored value when there is no projection', () => {
    const ops = JSON.parse(outboxTransactionRequest('s', 'k', [1, 2], {}).data!).operations;
    expect(ops).toEqual([
      { operation: 'upsert', request: { key: 'k', value: [1, 2], contentType: 'application/json' } },
    ]);
  });

  it.each([
    ['an empty key', '', {}, /state key must be a non-empty string/],
    ['a key with "||"', 'a||b', {}, /must not contain "\|\|"/],
    [
      'outbox.projection in metadata',
      'k',
      { metadata: { 'outbox.projection': 'true' } },
      /give the message to publish as options.event/,
    ],
    ['an object metadata value', 'k', { metadata: { a: {} } }, /metadata\.a must be a string, number or boolean/],
    ['an event JSON cannot carry', 'k', { event: () => 1 }, /event of type function is not JSON-serialisable/],
    ['an ETag with a newline', 'k', { etag: '1\n2' }, /etag must be a string without CR, LF/],
  ])('refuses %s', (_what, key, options, message) => {
    let error: unknown;
    try {
      outboxTransactionRequest('s', key, { a: 1 }, options as never);
    } catch (e) {
      error = e;
    }
    expect(isInputError(error)).toBe(true);
    expect((error as Error).message).toMatch(message);
  });
});
