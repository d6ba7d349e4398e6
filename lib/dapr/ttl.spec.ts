import { isInputError } from '../input/input.error';
import { bulkPublishRequest } from './bulk-publish-requests';
import { publishRequest, saveStateRequest, transactionRequest } from './dapr-requests';
import { outboxTransactionRequest } from './outbox-requests';

/** The `InputError` message `build` throws (fails the test when it throws nothing, or something else). */
function refusal(build: () => unknown): string {
  try {
    build();
  } catch (error) {
    expect(isInputError(error)).toBe(true);
    return (error as Error).message;
  }
  throw new Error('nothing was refused');
}

describe('ttlInSeconds is checked before a request is built', () => {
  // What daprd v1.18's state stores refuse (500 ERR_STATE_SAVE, counted by the state breaker).
  it.each([[1.5], ['1.5'], ['abc'], ['1e2'], [' 2'], [-2], ['-7'], [2_147_483_648], [Number.NaN], [true]])(
    'a state write with ttlInSeconds %p is refused, nothing sent',
    (ttl) => {
      const metadata = { ttlInSeconds: ttl as number };
      expect(refusal(() => saveStateRequest('s', 'k', 1, { metadata }))).toMatch(
        /options\.metadata\.ttlInSeconds must be a whole number of seconds from -1/,
      );
      const op = {
        operation: 'upsert' as const,
        request: { key: 'k', value: 1, metadata: { ttlInSeconds: String(ttl) } },
      };
      expect(refusal(() => transactionRequest('s', [op], undefined))).toMatch(
        /operations\[0\]\.request\.metadata\.ttlInSeconds/,
      );
      expect(refusal(() => outboxTransactionRequest('s', 'k', 1, { metadata }))).toMatch(/ttlInSeconds/);
    },
  );

  it.each([[60], ['60'], [0], [-1], ['-1'], [2_147_483_647]])('a state write with ttlInSeconds %p is sent', (ttl) => {
    const r = saveStateRequest('s', 'k', 1, { metadata: { ttlInSeconds: ttl } });
    expect(JSON.parse(r.data!)[0].metadata).toEqual({ ttlInSeconds: String(ttl) });
  });

  // daprd makes no expiration of these and says nothing: the event would never expire.
  it.each([[0], [-5], [1.5], ['abc'], ['-5s'], ['0']])('a publish with ttlInSeconds %p is refused', (ttl) => {
    expect(refusal(() => publishRequest('p', 't', { a: 1 }, { metadata: { ttlInSeconds: ttl } }))).toMatch(
      /ttlInSeconds must be a whole number of seconds ≥ 1 or a duration/,
    );
    expect(refusal(() => bulkPublishRequest('p', 't', [{ event: 1, metadata: { ttlInSeconds: ttl } }], {}))).toMatch(
      /entries\[0\]\.metadata\.ttlInSeconds/,
    );
  });

  it.each([[60], ['60'], ['90s'], ['1h30m']])('a publish with ttlInSeconds %p is sent', (ttl) => {
    const r = publishRequest('p', 't', { a: 1 }, { metadata: { ttlInSeconds: ttl } });
    expect(new URLSearchParams(r.url.split('?')[1]).get('metadata.ttlInSeconds')).toBe(String(ttl));
  });
});
