import { InMemoryStateStore, StoreError } from './in-memory-state.store';

/** The refusal a write meets (`undefined` when it is taken). */
function refusal(write: () => void): { message: string; etag?: string } | undefined {
  try {
    write();
    return undefined;
  } catch (error) {
    if (!(error instanceof StoreError)) throw error;
    return { message: error.message, etag: error.etag };
  }
}

describe('state store kinds of the stand-in, where the contract suite has no real server (PostgreSQL) or says less', () => {
  it('postgresql: a TTL below -1 or above 2^31 − 1 is a store failure; -1 and 0 mean no expiry', () => {
    const store = new InMemoryStateStore('app', 'postgresql', () => 1_000);
    expect(refusal(() => store.save([{ key: 'a', json: '1', ttl: '-2' }]))).toEqual({
      message: "error parsing TTL: incorrect value for metadata 'ttlInSeconds': must be -1 or greater",
      etag: undefined,
    });
    expect(refusal(() => store.save([{ key: 'a', json: '1', ttl: '2147483648' }]))).toMatchObject({ etag: undefined });
    store.save([{ key: 'b', json: '1', ttl: '-1' }]);
    expect(store.get('b')).toEqual({ json: '1', etag: expect.any(String) });
  });

  it('postgresql: an ETag is compared as a UUID (any case); a malformed one is a mismatch naming Go’s parse error', () => {
    const store = new InMemoryStateStore('app', 'postgresql');
    store.save([{ key: 'a', json: '1' }]);
    const etag = store.get('a')!.etag;
    expect(refusal(() => store.save([{ key: 'a', json: '2', etag: '999' }]))).toEqual({
      message: 'possible etag mismatch. error from state store: invalid UUID length: 3',
      etag: 'mismatch',
    });
    store.save([{ key: 'a', json: '2', etag: etag.toUpperCase() }]);
    expect(store.get('a')!.json).toBe('2');
  });

  it('postgresql: a transaction is all or nothing; each operation sees the ones before it', () => {
    const store = new InMemoryStateStore('app', 'postgresql');
    expect(
      refusal(() =>
        store.transaction([
          { key: 'a', json: '1' },
          { key: 'b', json: '2', etag: '00000000-0000-4000-8000-000000000000' },
        ]),
      ),
    ).toMatchObject({ etag: 'mismatch' });
    expect(store.snapshot()).toEqual({});
  });

  it('redis: the ETag is a version counter that starts again at 1 once the key is gone', () => {
    const store = new InMemoryStateStore('app', 'redis');
    store.save([{ key: 'a', json: '1' }]);
    store.save([{ key: 'a', json: '2' }]);
    expect(store.get('a')!.etag).toBe('2');
    store.delete({ key: 'a' });
    store.save([{ key: 'a', json: '3' }]);
    expect(store.get('a')!.etag).toBe('1');
  });

  it('in-memory: a transaction checks every ETag against the store as it was before the transaction', () => {
    const store = new InMemoryStateStore('app', 'in-memory');
    store.save([{ key: 'a', json: '1' }]);
    const etag = store.get('a')!.etag;
    store.transaction([
      { key: 'a', json: '2' },
      { key: 'a', json: '3', etag },
    ]);
    expect(store.snapshot()).toEqual({ a: 3 });
  });
});
