import { randomUUID } from 'node:crypto';

/** One stored entry: the value as the JSON text the sidecar was sent, its ETag, its expiry. */
interface Entry {
  json: string;
  etag: string;
  expiresAt?: number;
}

/** A write as the sidecar's state API takes it (one item of a save, one operation of a transaction). */
export interface StateWrite {
  key: string;
  /** `undefined` for a delete. */
  json?: string;
  etag?: string;
  concurrency?: string;
  ttlInSeconds?: number;
}

/** Why a write was refused (daprd words it so; the sidecar wraps it per operation). */
export class StateConflict extends Error {
  /** A `first-write` save of a key that exists (no ETag): PostgreSQL answers it differently. */
  firstWrite = false;
}

/**
 * One state store with the semantics daprd v1.18's `state.in-memory` showed when this was written
 * (test/contract/dapr-contract.ts checks both against each other):
 *
 * - every write gives the key a new ETag (a UUID);
 * - a write or delete with an ETag succeeds only when the key exists with that ETag (a missing key
 *   is a conflict too), whatever the concurrency mode; under `first-write`, a write without an ETag
 *   succeeds only when the key does not exist; a delete without an ETag always succeeds;
 * - an entry saved with `ttlInSeconds` is gone once they have passed;
 * - a transaction is checked whole before anything is applied: all or nothing.
 */
export class InMemoryStateStore {
  private readonly entries = new Map<string, Entry>();

  constructor(
    /** Key prefix in conflict messages (daprd stores `<app-id>||<key>`). */
    private readonly appId: string,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string): { json: string; etag: string; expiresAt?: number } | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt !== undefined && entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Applies the writes in order (each one checked first); throws `StateConflict` at the first refused one. */
  write(writes: StateWrite[]): void {
    for (const w of writes) {
      this.check(w, this.get(w.key));
      this.put(w.key, this.entryOf(w));
    }
  }

  /** Checks every write against the store as the writes before it leave it, then applies them all. */
  transaction(writes: StateWrite[]): void {
    const after = new Map<string, Entry | undefined>();
    for (const w of writes) {
      this.check(w, after.has(w.key) ? after.get(w.key) : this.get(w.key));
      after.set(w.key, this.entryOf(w));
    }
    for (const [key, entry] of after) this.put(key, entry);
  }

  /** Every live entry's value, parsed, by key (for assertions). */
  snapshot(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const key of [...this.entries.keys()].sort()) {
      const entry = this.get(key);
      if (entry) out[key] = JSON.parse(entry.json) as unknown;
    }
    return out;
  }

  clear(): void {
    this.entries.clear();
  }

  /** What a write leaves under its key (`undefined` for a delete), with a new ETag. */
  private entryOf(w: StateWrite): Entry | undefined {
    if (w.json === undefined) return undefined;
    const entry: Entry = { json: w.json, etag: randomUUID() };
    if (w.ttlInSeconds !== undefined && w.ttlInSeconds >= 0) entry.expiresAt = this.now() + w.ttlInSeconds * 1000;
    return entry;
  }

  private put(key: string, entry: Entry | undefined): void {
    if (entry) this.entries.set(key, entry);
    else this.entries.delete(key);
  }

  /**
   * Throws `StateConflict` when the write's ETag or concurrency mode does not allow it on the key's
   * `current` entry: the one place concurrency is decided.
   */
  protected check(w: StateWrite, current: { etag: string } | undefined): void {
    const stored = `${this.appId}||${w.key}`;
    if (w.etag !== undefined && w.etag !== '') {
      if (!current) throw new StateConflict(`state not exist or expired for key=${stored}`);
      if (current.etag !== w.etag) {
        throw new StateConflict(`state etag not match for key=${stored}: current=${current.etag}, expect=${w.etag}`);
      }
      return;
    }
    if (w.json !== undefined && w.concurrency === 'first-write' && current) {
      throw Object.assign(new StateConflict('item already exists and no etag was passed'), { firstWrite: true });
    }
  }
}
