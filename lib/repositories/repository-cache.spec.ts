import { cacheKey, credentialOf } from './cache-key';
import { RepositoryCache } from './repository-cache';

describe('RepositoryCache (lru-cache, configured for the repositories)', () => {
  let now = 0;
  const clock = () => now;
  beforeEach(() => {
    now = 1_000;
  });
  const load = (value: number) => () => Promise.resolve(value);

  it('returns a value until its TTL has passed', async () => {
    const cache = new RepositoryCache<string>({ ttlMs: 100, maxEntries: 10, now: clock });
    await cache.getOrLoad('a', async () => 'A');
    now += 99;
    expect(cache.get('a')).toBe('A');
    now += 1;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('evicts the least recently used entry beyond maxEntries', async () => {
    const cache = new RepositoryCache<number>({ ttlMs: 1_000, maxEntries: 2, now: clock });
    await cache.getOrLoad('a', load(1));
    await cache.getOrLoad('b', load(2));
    expect(cache.get('a')).toBe(1);
    await cache.getOrLoad('c', load(3));
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.get('c')).toBe(3);
    expect(cache.size).toBe(2);
  });

  it('stores nothing with ttlMs 0', async () => {
    const cache = new RepositoryCache<number>({ ttlMs: 0, maxEntries: 2, now: clock });
    expect(cache.enabled).toBe(false);
    let loads = 0;
    await cache.getOrLoad('a', async () => ++loads);
    await cache.getOrLoad('a', async () => ++loads);
    expect(loads).toBe(2);
    expect(cache.get('a')).toBeUndefined();
  });

  it('getOrLoad caches what resolved, never a rejection, and shares concurrent loads', async () => {
    const cache = new RepositoryCache<number>({ ttlMs: 1_000, maxEntries: 10, now: clock });
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
    await expect(cache.getOrLoad('k', ok)).resolves.toBe(7);
    await expect(cache.getOrLoad('k', ok)).resolves.toBe(7);
    expect(loads).toBe(2);
  });

  it('refuses bad options with a RangeError naming the value', () => {
    expect(() => new RepositoryCache({ ttlMs: -1, maxEntries: 1 })).toThrow(RangeError);
    expect(() => new RepositoryCache({ ttlMs: 1, maxEntries: 0 })).toThrow(/maxEntries .* got 0/);
  });

  it('does not store a load that was in flight when the cache was cleared', async () => {
    const cache = new RepositoryCache<string>({ ttlMs: 60_000, maxEntries: 10 });
    let finish!: (v: string) => void;
    const loading = cache.getOrLoad('k', () => new Promise<string>((resolve) => (finish = resolve)));
    cache.clear();
    finish('old');
    await expect(loading).resolves.toBe('old');
    expect(cache.get('k')).toBeUndefined();
    await expect(cache.getOrLoad('k', async () => 'new')).resolves.toBe('new');
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
