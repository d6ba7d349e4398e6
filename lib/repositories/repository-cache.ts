import { LRUCache } from 'lru-cache';

/**
 * The cache of a repository: `lru-cache` with a TTL. What the repositories need of it, and the
 * lru-cache option that gives it:
 *
 * - an entry expires `ttlMs` after it was stored (`ttl`, on `Date.now()`); `ttlMs: 0` turns the
 *   cache off;
 * - at most `maxEntries` entries, the least recently used evicted first (`max`);
 * - concurrent misses of one key share one load, and a load that fails is never cached
 *   (`fetch()` with the load as its `context`);
 * - a load in flight when the cache is cleared still answers its callers but is not stored
 *   (`ignoreFetchAbort`: `clear()` aborts background fetches, and an aborted fetch's value is only
 *   written back if its entry is still the one it started from).
 */
export class RepositoryCache<V extends NonNullable<unknown>> {
  private readonly lru?: LRUCache<string, V, () => Promise<V>>;

  constructor(options: { ttlMs: number; maxEntries: number; now?: () => number }) {
    if (!(options.ttlMs >= 0) || !Number.isFinite(options.ttlMs)) {
      throw new RangeError(`RepositoryCache ttlMs must be a finite number ≥ 0, got ${options.ttlMs}`);
    }
    if (!Number.isSafeInteger(options.maxEntries) || options.maxEntries < 1) {
      throw new RangeError(`RepositoryCache maxEntries must be an integer ≥ 1, got ${options.maxEntries}`);
    }
    if (options.ttlMs === 0) return;
    const now = options.now ?? (() => Date.now());
    this.lru = new LRUCache<string, V, () => Promise<V>>({
      max: options.maxEntries,
      // lru-cache counts an entry stale once more than `ttl` ms have passed; the option means it
      // expires `ttlMs` after it was stored (whole ms: `Date.now()` is the clock).
      ttl: Math.max(1, Math.round(options.ttlMs) - 1),
      ignoreFetchAbort: true,
      fetchMethod: (_key, _stale, { context }) => context(),
      // The wall clock, read on every check (no cached "now"), like the breakers' reset timeouts:
      // a test that moves `Date` moves the caches too.
      perf: { now },
      ttlResolution: 0,
    });
  }

  /** Whether anything is ever stored (`ttlMs > 0`). */
  get enabled(): boolean {
    return this.lru !== undefined;
  }

  /** Live entries. */
  get size(): number {
    this.lru?.purgeStale();
    return this.lru?.size ?? 0;
  }

  /** The live value of `key`, or `undefined`; a hit makes the entry the most recently used. */
  get(key: string): V | undefined {
    return this.lru?.get(key);
  }

  /** Stores `value` for the TTL (a seed: `PaymentMasterWebRepository.preload`); nothing when the cache is off. */
  set(key: string, value: V): void {
    this.lru?.set(key, value);
  }

  /**
   * The cached value of `key`, or `load()`'s (stored only when it resolves). Callers that miss at
   * the same time wait for the same load.
   */
  async getOrLoad(key: string, load: () => Promise<V>): Promise<V> {
    if (!this.lru) return load();
    return (await this.lru.fetch(key, { context: load })) as V;
  }

  /** Drops every entry; loads in flight answer their callers but store nothing. */
  clear(): void {
    this.lru?.clear();
  }
}
