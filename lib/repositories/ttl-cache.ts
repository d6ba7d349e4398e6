import { createHash } from 'node:crypto';

/**
 * A small TTL + LRU cache for the master-data repositories.
 *
 * Written by hand rather than taken from a package: all it needs is a `Map` (which keeps
 * insertion order, so re-inserting an entry on a hit makes the first key the least recently
 * used one) and an expiry time per entry. That is a few dozen lines, and it keeps the library
 * free of one more runtime dependency.
 *
 * - An entry expires `ttlMs` after it was stored; an expired entry is never returned.
 * - At most `maxEntries` entries are kept; storing one more evicts the least recently used.
 * - `ttlMs: 0` turns the cache off (nothing is stored).
 * - `getOrLoad` stores only what the loader resolved to: a failure is never cached. Concurrent
 *   misses for one key share a single load.
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();
  private readonly loading = new Map<string, Promise<V>>();
  /** Bumped by `clear()`: a load that started before it does not store its (older) answer. */
  private generation = 0;
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: { ttlMs: number; maxEntries: number; now?: () => number }) {
    if (!(options.ttlMs >= 0) || !Number.isFinite(options.ttlMs)) {
      throw new RangeError(`TtlCache ttlMs must be a finite number ≥ 0, got ${options.ttlMs}`);
    }
    if (!Number.isSafeInteger(options.maxEntries) || options.maxEntries < 1) {
      throw new RangeError(`TtlCache maxEntries must be an integer ≥ 1, got ${options.maxEntries}`);
    }
    this.ttlMs = options.ttlMs;
    this.maxEntries = options.maxEntries;
    this.now = options.now ?? Date.now;
  }

  /** Whether anything is ever stored (`ttlMs > 0`). */
  get enabled(): boolean {
    return this.ttlMs > 0;
  }

  /** Entries held now (expired ones included until they are read or evicted). */
  get size(): number {
    return this.entries.size;
  }

  /** The live value of `key`, or `undefined`. A hit makes the entry the most recently used. */
  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= this.now()) return undefined;
    this.entries.set(key, entry);
    return entry.value;
  }

  /** Stores `value` for `ttlMs`, evicting the least recently used entries beyond `maxEntries`. */
  set(key: string, value: V): void {
    if (!this.enabled) return;
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: this.now() + this.ttlMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  delete(key: string): boolean {
    this.loading.delete(key);
    return this.entries.delete(key);
  }

  clear(): void {
    this.generation += 1;
    this.entries.clear();
    this.loading.clear();
  }

  /**
   * The cached value of `key`, or the loader's result (stored only when it resolves). Callers
   * that miss at the same time wait for the same load.
   */
  async getOrLoad(key: string, load: () => Promise<V>): Promise<{ value: V; hit: boolean }> {
    const cached = this.get(key);
    if (cached !== undefined) return { value: cached, hit: true };
    if (!this.enabled) return { value: await load(), hit: false };
    let pending = this.loading.get(key);
    if (!pending) {
      const generation = this.generation;
      const current: Promise<V> = load().then((value) => {
        if (this.generation === generation && this.loading.get(key) === current) this.set(key, value);
        return value;
      });
      pending = current;
      const settled = pending.finally(() => {
        if (this.loading.get(key) === current) this.loading.delete(key);
      });
      settled.catch(() => undefined);
      this.loading.set(key, pending);
    }
    return { value: await pending, hit: false };
  }
}

/**
 * Who a cached answer was fetched for: a digest of the terminal's JWT or API key (never the
 * credential itself). Part of every cache key, so an entry — and a load in flight — is shared only
 * by callers presenting the same credential: a hit never skips the peer's check of a credential
 * it has not accepted, and one caller's 401 never reaches another. Per terminal, as the original's
 * per-request caches were.
 */
export function credentialOf(context: { jwtToken?: string; apiKey?: string }): string {
  const secret = context.jwtToken ? `jwt:${context.jwtToken}` : context.apiKey ? `key:${context.apiKey}` : 'none';
  return createHash('sha256').update(secret).digest('base64url').slice(0, 22);
}

/** A cache key from its parts; JSON keeps `("a|b", "c")` and `("a", "b|c")` apart. */
export function cacheKey(...parts: Array<string | number | undefined>): string {
  return JSON.stringify(parts.map((p) => (p === undefined ? null : p)));
}
