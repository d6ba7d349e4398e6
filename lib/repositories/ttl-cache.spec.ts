import { cacheKey, credentialOf, TtlCache } from './ttl-cache';

describe('TtlCache', () => {
  let now = 0;
  const clock = () => now;
  beforeEach(() => {
    now = 1_000;
  });

  it('returns a value until its TTL has passed', () => {
    const cache = new TtlCache<string>({ ttlMs: 100, maxEntries: 10, now: clock });
    cache.set('a', 'A');
    now += 99;
    expect(cache.get('a')).toBe('A');
    now += 1;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('evicts the least recently used entry beyond maxEntries', () => {
    const cache = new TtlCache<number>({ ttlMs: 1_000, maxEntries: 2, now: clock });
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1);
    cache.set('c', 3);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.get('c')).toBe(3);
    expect(cache.size).toBe(2);
  });

  it('stores nothing with ttlMs 0', async () => {
    const cache = new TtlCache<number>({ ttlMs: 0, maxEntries: 2, now: clock });
    cache.set('a', 1);
    expect(cache.get('a')).toBeUndefined();
    let loads = 0;
    await cache.getOrLoad('a', async () => ++loads);
    await cache.getOrLoad('a', async () => ++loads);
    expect(loads).toBe(2);
  });

  it('getOrLoad caches what resolved, never a rejection, and shares concurrent loads', async () => {
    const cache = new TtlCache<number>({ ttlMs: 1_000, maxEntries: 10, now: clock });
    let loads = 0;
    const failing = () => {
      loads += 1;
      return Promise.reject(new Error('down'));
    };
    await expect(Promise.all([cache.getOrLoad('k', failing), cache.getOrLoad('k', failing)])).rejects.toThrow('down');
    expect(loads).toBe(1);
    expect(cache.get('k')).toBeUndefined();
    const ok = async () => {
      loads += 1;
      return 7;
    };
    await expect(cache.getOrLoad('k', ok)).resolves.toEqual({ value: 7, hit: false });
    await expect(cache.getOrLoad('k', ok)).resolves.toEqual({ value: 7, hit: true });
    expect(loads).toBe(2);
  });

  it('refuses bad options with a RangeError naming the value', () => {
    expect(() => new TtlCache({ ttlMs: -1, maxEntries: 1 })).toThrow(RangeError);
    expect(() => new TtlCache({ ttlMs: 1, maxEntries: 0 })).toThrow(/maxEntries .* got 0/);
  });

  it('does not store a load that was in flight when the cache was cleared', async () => {
    const cache = new TtlCache<string>({ ttlMs: 60_000, maxEntries: 10 });
    let finish!: (v: string) => void;
    const loading = cache.getOrLoad('k', () => new Promise<string>((resolve) => (finish = resolve)));
    cache.clear();
    finish('old');
    await expect(loading).resolves.toEqual({ value: 'old', hit: false });
    expect(cache.get('k')).toBeUndefined();
    await expect(cache.getOrLoad('k', async () => 'new')).resolves.toEqual({ value: 'new', hit: false });
    expect(cache.get('k')).toBe('new');
  });

  it('derives a credential digest that never contains the credential', () => {
    const a = credentialOf({ apiKey: 'key-1' });
    expect(a).not.toContain('key-1');
    expect(a).toBe(credentialOf({ apiKey: 'key-1' }));
    expect(a).not.toBe(credentialOf({ apiKey: 'key-2' }));
    expect(credentialOf({ jwtToken: 't', apiKey: 'key-1' })).not.toBe(a);
  });

  it('builds keys that parts with separators cannot collide in', () => {
    expect(cacheKey('a|b', 'c')).not.toBe(cacheKey('a', 'b|c'));
    expect(cacheKey('T1', 'S1', undefined)).not.toBe(cacheKey('T1', 'S1', 'undefined'));
  });
});
