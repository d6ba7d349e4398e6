import { Entry, STORE_KINDS, StateStoreKind, StateWrite, StoreRules } from './state-store-kinds';

export { StoreError } from './state-store-kinds';
export type { Entry, StateStoreKind, StateWrite } from './state-store-kinds';

/**
 * One state store of the in-memory sidecar, with the rules of the component it stands for
 * (`StateStoreKind`: daprd v1.18's `state.in-memory`, `state.redis` or `state.postgresql`; see
 * `state-store-kinds.ts` for where they differ: ETags on missing keys, ETag forms, first-write,
 * TTL forms, rollback). Every kind: a key expires `ttlInSeconds` after its write; a read of an
 * expired key finds nothing.
 */
export class InMemoryStateStore {
  private readonly entries = new Map<string, Entry>();
  protected readonly rules: StoreRules;

  constructor(
    /** Key prefix in the stores' messages (daprd stores `<app-id>||<key>`). */
    private readonly appId: string,
    readonly kind: StateStoreKind = 'in-memory',
    private readonly now: () => number = Date.now,
  ) {
    this.rules = STORE_KINDS[kind];
  }

  get(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt !== undefined && entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** A save: each write in order; throws `StoreError` at the first refused one. */
  save(writes: StateWrite[]): void {
    for (const w of writes) this.put(w.key, this.rules.set(w, this.get(w.key), this.context(w.key)));
  }

  /** A delete; throws `StoreError` when refused. */
  delete(w: StateWrite): void {
    this.rules.delete(w, this.get(w.key), this.context(w.key));
    this.put(w.key, undefined);
  }

  /** A transaction, all or nothing or op by op as the kind does it; throws `StoreError`. */
  transaction(writes: StateWrite[]): void {
    this.rules.transaction(writes, { get: (k) => this.get(k), put: (k, e) => this.put(k, e) }, (k) => this.context(k));
  }

  /** Values written with no rule applied (the state a test starts with). */
  seed(values: Record<string, unknown>): void {
    for (const [key, value] of Object.entries(values)) {
      this.put(key, this.rules.set({ key, json: JSON.stringify(value) }, undefined, this.context(key)));
    }
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

  private context(key: string) {
    return { stored: `${this.appId}||${key}`, now: this.now() };
  }

  private put(key: string, entry: Entry | undefined): void {
    if (entry) this.entries.set(key, entry);
    else this.entries.delete(key);
  }
}
