import { isInputError } from '../input/input.error';
import {
  isStateConflict,
  isTransactionConflict,
  bulkStateRequest,
  deleteStateRequest,
  getStateRequest,
  publishRequest,
  saveStateRequest,
  transactionRequest,
} from './dapr-requests';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const idOf = (url: string) => new URLSearchParams(url.split('?')[1] ?? '').get('metadata.cloudevent.id');

describe('which sidecar requests are repeatable', () => {
  it('a read, a bulk read, a last-write save and a delete without an ETag are', () => {
    expect(getStateRequest('s', 'k', {}).repeatable).toBe(true);
    expect(bulkStateRequest('s', ['k'], {}).repeatable).toBe(true);
    expect(saveStateRequest('s', 'k', 1, {}).repeatable).toBe(true);
    expect(saveStateRequest('s', 'k', 1, { concurrency: 'last-write' }).repeatable).toBe(true);
    expect(deleteStateRequest('s', 'k', {}).repeatable).toBe(true);
  });

  it('a save with an ETag or first-write, a delete with an ETag and any transaction are not', () => {
    expect(saveStateRequest('s', 'k', 1, { etag: '1' }).repeatable).toBe(false);
    expect(saveStateRequest('s', 'k', 1, { concurrency: 'first-write' }).repeatable).toBe(false);
    expect(deleteStateRequest('s', 'k', { etag: '1' }).repeatable).toBe(false);
    const op = { operation: 'upsert' as const, request: { key: 'k', value: 1 } };
    expect(transactionRequest('s', [op], undefined).repeatable).toBe(false);
  });
});

describe('publishRequest: one CloudEvent id for every attempt of a publish', () => {
  it("sends the caller's eventId as metadata.cloudevent.id", () => {
    const r = publishRequest('p', 't', { a: 1 }, { eventId: 'evt-1' });
    expect(idOf(r.url)).toBe('evt-1');
    expect(r.repeatable).toBe(true);
  });

  it('makes a random UUID per publish when there is none (each attempt of the call sends this one request)', () => {
    const a = publishRequest('p', 't', { a: 1 }, {});
    const b = publishRequest('p', 't', { a: 1 }, {});
    expect(idOf(a.url)).toMatch(UUID);
    expect(idOf(b.url)).toMatch(UUID);
    expect(idOf(a.url)).not.toBe(idOf(b.url));
    expect(a.repeatable).toBe(true);
  });

  it("puts the id in the caller's own CloudEvent (daprd ignores metadata overrides there) without changing the caller's object", () => {
    const event = { specversion: '1.0', type: 'order.created', source: 'cart', data: { n: 1 } };
    const r = publishRequest('p', 't', event, { cloudEvent: true });
    expect(JSON.parse(r.data!).id).toMatch(UUID);
    expect(idOf(r.url)).toBeNull();
    expect(event).not.toHaveProperty('id');
    expect(JSON.parse(publishRequest('p', 't', event, { cloudEvent: true, eventId: 'e-2' }).data!).id).toBe('e-2');
    // The content type alone makes it the caller's CloudEvent too.
    const typed = publishRequest('p', 't', { ...event, id: 'own' }, { contentType: 'application/cloudevents+json' });
    expect(JSON.parse(typed.data!).id).toBe('own');
    expect(typed.repeatable).toBe(true);
  });

  it.each([
    ['a CloudEvent that is not an object', 'text', { cloudEvent: true }, /a CloudEvent .* must be a JSON object/],
    ['an array as CloudEvent', [1], { cloudEvent: true }, /must be a JSON object/],
    ['an eventId that differs from the own id', { id: 'a' }, { cloudEvent: true, eventId: 'b' }, /differs/],
    ['an empty own id', { id: '' }, { cloudEvent: true }, /the CloudEvent's id must be a non-empty string/],
    ['an eventId with a raw payload', { a: 1 }, { rawPayload: true, eventId: 'e' }, /no effect with rawPayload/],
  ])('refuses %s before sending', (_what, data, options, message) => {
    let error: unknown;
    try {
      publishRequest('p', 't', data, options);
    } catch (e) {
      error = e;
    }
    expect(isInputError(error)).toBe(true);
    expect((error as Error).message).toMatch(message);
  });

  it('a raw payload carries no id and is not repeatable (no consumer could tell its copy from a new event)', () => {
    const r = publishRequest('p', 't', { a: 1 }, { rawPayload: true });
    expect(idOf(r.url)).toBeNull();
    expect(r.repeatable).toBe(false);
  });
});

describe('isStateConflict: one result for what each store answers to a condition that did not hold', () => {
  const answer = (errorCode: string, message: string) => ({ errorCode, message });
  const pgTx = 'error while executing state transaction: possible etag mismatch. error from state store';
  const redisTx = 'error while executing state transaction: ERR user_script:14: failed to set key app||k script: x';
  it.each([
    ['a stale save (every store)', 409, answer('ERR_STATE_SAVE', 'possible etag mismatch')],
    ['a stale delete (every store)', 409, answer('ERR_STATE_DELETE', 'possible etag mismatch')],
    ['a stale transaction on PostgreSQL or in-memory', 500, answer('ERR_STATE_TRANSACTION', pgTx)],
    ['a stale transaction on Redis', 500, answer('ERR_STATE_TRANSACTION', redisTx)],
    [
      'a first-write transaction on PostgreSQL',
      500,
      answer('ERR_STATE_TRANSACTION', 'error while executing state transaction: no item was updated'),
    ],
    ['a first-write save on PostgreSQL', 500, answer('ERR_STATE_SAVE', 'failed saving state: no item was updated')],
    ['a first-write save on Redis', 500, answer('ERR_STATE_SAVE', 'ERR user_script:14: failed to set key app||k')],
  ])('%s is a conflict', (_, status, body) => {
    expect(isStateConflict(status, body)).toBe(true);
  });
  it.each([
    ['a store that is down', 500, answer('ERR_STATE_TRANSACTION', 'error while executing state transaction: dial tcp: connection refused')],
    ['a save that failed', 500, answer('ERR_STATE_SAVE', 'failed saving state: connection refused')],
    ['an unknown store', 400, answer('ERR_STATE_STORE_NOT_FOUND', 'state store x is not found')],
    ['a 409 of another API', 409, answer('ERR_OTHER', 'possible etag mismatch')],
    ['an answer without a body', 409, undefined],
  ])('%s is not', (_, status, body) => {
    expect(isStateConflict(status, body)).toBe(false);
  });
  it('a first-write transaction on PostgreSQL does not count toward the breaker either', () => {
    expect(isTransactionConflict(500, answer('ERR_STATE_TRANSACTION', 'no item was updated'))).toBe(true);
  });
});
