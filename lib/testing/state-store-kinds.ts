import { randomUUID } from 'node:crypto';

/**
 * The state store component a store of the in-memory sidecar stands for. They differ where a test
 * can tell (read from components-contrib v1.18.0, the version daprd v1.18.1 pins; in-memory and
 * Redis also run against the real daprd by the contract suite):
 *
 * | | `in-memory` | `redis` | `postgresql` |
 * |---|---|---|---|
 * | ETag | a UUID | a version counter: `1`, `2`, … (again from `1` once the key is gone) | a UUID |
 * | save with an ETag, key missing | 409 | **inserted** | 409 |
 * | delete with an ETag, key missing | 409 | **204** | 409 |
 * | malformed ETag | 409 (no match) | **400** on a save, 409 on a delete | 409 |
 * | first-write without ETag, key exists | 409 | 204, unless the key was itself written under first-write: then **500** | **500** (`no item was updated`) |
 * | `ttlInSeconds` not an integer | 500 | 500 | 500 (also below -1 or above 2^31 − 1) |
 * | `ttlInSeconds` ≤ 0 | no expiry | no expiry (removes one) | no expiry |
 * | save without `ttlInSeconds` | no expiry | **keeps the key's expiry** | no expiry |
 * | transaction with a refused operation | nothing applied | **the other operations applied** (no rollback) | nothing applied |
 */
export type StateStoreKind = 'in-memory' | 'redis' | 'postgresql';

/** One stored entry: the value as the JSON text the sidecar was sent, its ETag, its expiry. */
export interface Entry {
  json: string;
  etag: string;
  /** Epoch ms after which the entry is gone. */
  expiresAt?: number;
  /** state.redis only: written under `first-write`, so a later write without the ETag is refused. */
  firstWrite?: boolean;
}

/** A write as the sidecar's state API takes it (one item of a save, a delete, one operation of a transaction). */
export interface StateWrite {
  key: string;
  /** The value as JSON text; `undefined` for a delete. */
  json?: string;
  /** As sent; `''` counts as none, as in daprd. */
  etag?: string;
  concurrency?: string;
  /** `metadata.ttlInSeconds` as sent (text), when there is one. */
  ttl?: string;
}

/**
 * Why a store refused a write, in the store's own words. `etag` is the kind daprd maps to a status
 * of its own: `mismatch` → 409 (`possible etag mismatch. …`), `invalid` → 400 (`invalid etag value: …`);
 * anything else is a store failure → 500. In a transaction every refusal is 500.
 */
export class StoreError extends Error {
  constructor(
    message: string,
    readonly etag?: 'mismatch' | 'invalid',
  ) {
    super(message);
  }
}

/** What a rule sees of the store while a transaction runs. */
export interface StoreView {
  get(key: string): Entry | undefined;
  put(key: string, entry: Entry | undefined): void;
}

/** Where a write happens: the key as the store keeps it (`<app-id>||<key>`, for messages) and the time. */
export interface WriteContext {
  stored: string;
  now: number;
}

/** How one kind of store takes writes. */
export interface StoreRules {
  /** The entry a save leaves (its new ETag), or throws `StoreError`. */
  set(w: StateWrite, current: Entry | undefined, at: WriteContext): Entry;
  /** Throws `StoreError` when the delete is refused. */
  delete(w: StateWrite, current: Entry | undefined, at: WriteContext): void;
  transaction(writes: StateWrite[], view: StoreView, at: (key: string) => WriteContext): void;
}

const MISMATCH = 'possible etag mismatch. error from state store';
const mismatch = (why?: string) => new StoreError(why ? `${MISMATCH}: ${why}` : MISMATCH, 'mismatch');
const hasEtag = (w: StateWrite): w is StateWrite & { etag: string } => w.etag !== undefined && w.etag !== '';

/** `state.in-memory`: ETags compared strictly; a transaction checks every operation first. */
const IN_MEMORY: StoreRules = {
  set(w, current, at) {
    const ttl = inMemoryTtl(w);
    checkStrict(w, current, at);
    return { json: w.json!, etag: randomUUID(), ...expiry(ttl, at) };
  },
  delete: (w, current, at) => checkStrict(w, current, at),
  transaction(writes, view, at) {
    const ttls = writes.map((w) => (w.json === undefined ? 0 : inMemoryTtl(w)));
    for (const w of writes) checkStrict(w, view.get(w.key), at(w.key));
    writes.forEach((w, i) => {
      view.put(
        w.key,
        w.json === undefined ? undefined : { json: w.json, etag: randomUUID(), ...expiry(ttls[i], at(w.key)) },
      );
    });
  },
};

/** `strconv.Atoi`; a negative TTL counts as none. */
function inMemoryTtl(w: StateWrite): number {
  if (w.ttl === undefined) return 0;
  try {
    return Math.max(0, goInt(w.ttl, 'strconv.Atoi'));
  } catch (error) {
    throw new StoreError((error as Error).message);
  }
}

function checkStrict(w: StateWrite, current: Entry | undefined, at: WriteContext): void {
  if (w.concurrency === 'first-write' && !hasEtag(w)) {
    if (current) throw mismatch('item already exists and no etag was passed');
  } else if (hasEtag(w)) {
    if (!current) throw mismatch(`state not exist or expired for key=${at.stored}`);
    if (current.etag !== w.etag) {
      throw mismatch(`state etag not match for key=${at.stored}: current=${current.etag}, expect=${w.etag}`);
    }
  }
}

// state.redis runs a Lua script per write; Redis names a script by its SHA-1 in the error.
const SET_SCRIPT = { line: 14, sha: 'd908b9553add63a82e03589b5c6d01a7654ef0f2' };
const DELETE_SCRIPT = { line: 6, sha: '2446db0de2c963f100727b388f03ead01d18c265' };
const scriptError = (s: typeof SET_SCRIPT, what: string) =>
  `ERR user_script:${s.line}: ${what} script: ${s.sha}, on @user_script:${s.line}.`;

/**
 * `state.redis`: a write succeeds when the key is missing (whatever the ETag), when the ETag is its
 * version, or without an ETag unless the key was written under first-write; a transaction is
 * MULTI/EXEC, which has no rollback.
 */
const REDIS: StoreRules = {
  set(w, current, at) {
    const version = redisVersion(w);
    const ttl = redisTtl(w);
    const entry = redisSet(w, version, current, at, true);
    if (!entry) {
      const error = scriptError(SET_SCRIPT, `failed to set key ${at.stored}`);
      throw hasEtag(w) ? mismatch(error) : new StoreError(`failed to set key ${at.stored}: ${error}`);
    }
    return withRedisTtl(entry, ttl, at);
  },
  delete(w, current, at) {
    const given = hasEtag(w) ? w.etag : '0';
    if (current && current.etag !== given && given !== '0') {
      throw mismatch(scriptError(DELETE_SCRIPT, `failed to delete ${at.stored}`));
    }
  },
  transaction(writes, view, at) {
    // Every ETag and TTL is read before anything runs; then each operation runs on its own.
    const parsed = writes.map((w) =>
      w.json === undefined ? undefined : { version: redisVersion(w), ttl: redisTtl(w) },
    );
    let first: string | undefined;
    writes.forEach((w, i) => {
      const current = view.get(w.key);
      const p = parsed[i];
      if (!p) {
        try {
          REDIS.delete(w, current, at(w.key));
          view.put(w.key, undefined);
        } catch {
          first ??= scriptError(DELETE_SCRIPT, `failed to delete ${at(w.key).stored}`);
        }
        return;
      }
      // In a transaction the script is not told about first-write: it flags nothing.
      const entry = redisSet(w, p.version, current, at(w.key), false);
      if (!entry) first ??= scriptError(SET_SCRIPT, `failed to set key ${at(w.key).stored}`);
      // The EXPIRE or PERSIST of the operation runs whether its script failed or not.
      const now = entry ?? view.get(w.key);
      if (now) view.put(w.key, withRedisTtl(now, p.ttl, at(w.key)));
    });
    if (first !== undefined) throw new StoreError(first);
  },
};

function redisVersion(w: StateWrite): number {
  if (w.concurrency === 'last-write' || !hasEtag(w)) return 0;
  try {
    return goInt(w.etag, 'strconv.Atoi');
  } catch (error) {
    throw new StoreError(`invalid etag value: ${(error as Error).message}`, 'invalid');
  }
}

function redisTtl(w: StateWrite): number | undefined {
  if (w.ttl === undefined) return undefined;
  try {
    return goInt(w.ttl, 'strconv.ParseInt');
  } catch (error) {
    throw new StoreError(`failed to parse ttl from metadata: ${(error as Error).message}`);
  }
}

/** The entry the set script leaves, or `undefined` when it refuses the write. */
function redisSet(w: StateWrite, version: number, current: Entry | undefined, at: WriteContext, flag: boolean) {
  if (current && current.etag !== String(version) && !(version === 0 && !current.firstWrite)) return undefined;
  const firstWrite = current?.firstWrite || (flag && w.concurrency === 'first-write');
  const entry: Entry = { json: w.json!, etag: String(Number(current?.etag ?? 0) + 1) };
  if (current?.expiresAt !== undefined) entry.expiresAt = current.expiresAt;
  if (firstWrite) entry.firstWrite = true;
  return entry;
}

/** `EXPIRE` for a TTL > 0, `PERSIST` for ≤ 0; no TTL leaves the key's expiry as it was. */
function withRedisTtl(entry: Entry, ttl: number | undefined, at: WriteContext): Entry {
  if (ttl === undefined) return entry;
  const { expiresAt: _dropped, ...rest } = entry;
  return { ...rest, ...expiry(ttl, at) };
}

/** `state.postgresql` (v2): UUID ETags, an UPDATE for a write with an ETag, SQL transactions. */
const POSTGRESQL: StoreRules = {
  set(w, current, at) {
    const ttl = postgresTtl(w);
    if (hasEtag(w)) {
      if (!current || current.etag !== uuidOf(w.etag)) throw mismatch();
    } else if (w.concurrency === 'first-write' && current) {
      throw new StoreError('no item was updated');
    }
    return { json: w.json!, etag: randomUUID(), ...expiry(ttl, at) };
  },
  delete(w, current) {
    if (hasEtag(w) && (!current || current.etag !== uuidOf(w.etag))) throw mismatch();
  },
  transaction(writes, view, at) {
    const changed = new Map<string, Entry | undefined>();
    const get = (key: string) => (changed.has(key) ? changed.get(key) : view.get(key));
    for (const w of writes) {
      if (w.json === undefined) {
        POSTGRESQL.delete(w, get(w.key), at(w.key));
        changed.set(w.key, undefined);
      } else changed.set(w.key, POSTGRESQL.set(w, get(w.key), at(w.key)));
    }
    for (const [key, entry] of changed) view.put(key, entry);
  },
};

function postgresTtl(w: StateWrite): number {
  if (w.ttl === undefined) return 0;
  const prefix = "error parsing TTL: incorrect value for metadata 'ttlInSeconds'";
  let ttl: number;
  try {
    ttl = goInt(w.ttl, 'strconv.ParseInt');
  } catch (error) {
    throw new StoreError(`${prefix}: ${(error as Error).message}`);
  }
  if (ttl < -1 || ttl > 2_147_483_647) throw new StoreError(`${prefix}: must be -1 or greater`);
  return ttl;
}

/** The ETag as the UUID PostgreSQL compares, or the `mismatch` Go's `uuid.Parse` makes of it. */
function uuidOf(etag: string): string {
  const hex =
    etag.length === 32
      ? etag
      : etag.length === 36
        ? etag.replace(/^(.{8})-(.{4})-(.{4})-(.{4})-/, '$1$2$3$4')
        : undefined;
  if (hex === undefined) throw mismatch(`invalid UUID length: ${etag.length}`);
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw mismatch('invalid UUID format');
  const h = hex.toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Go's `strconv.Atoi` / `ParseInt(s, 10, 64)`: an optional sign and decimal digits, within int64. */
function goInt(text: string, fn: 'strconv.Atoi' | 'strconv.ParseInt'): number {
  const fail = (why: string) => new Error(`${fn}: parsing ${JSON.stringify(text)}: ${why}`);
  if (!/^[+-]?\d+$/.test(text)) throw fail('invalid syntax');
  const n = BigInt(text);
  if (n > 9_223_372_036_854_775_807n || n < -9_223_372_036_854_775_808n) throw fail('value out of range');
  return Number(n);
}

/** An expiry `ttl` seconds from now when `ttl` > 0 (none otherwise). */
function expiry(ttl: number, at: WriteContext): { expiresAt?: number } {
  return ttl > 0 ? { expiresAt: at.now + ttl * 1000 } : {};
}

export const STORE_KINDS: Record<StateStoreKind, StoreRules> = {
  'in-memory': IN_MEMORY,
  redis: REDIS,
  postgresql: POSTGRESQL,
};
