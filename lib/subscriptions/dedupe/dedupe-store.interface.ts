/** A replica's claim on an event key: it runs the handler until `until` (epoch ms). */
export interface ClaimRecord {
  state: 'claimed';
  owner: string;
  until: number;
}

/** The handler finished for this key. */
export interface DoneRecord {
  state: 'done';
  owner: string;
  at: number;
}

/**
 * A write that did not happen. `answered`: the store (through the sidecar) answered with an error
 * status — a conflict or a failure, to be told apart by reading; not answered: no answer at all
 * (connection error, timeout, open breaker), so the store is unavailable.
 */
export interface StoreFailure {
  ok: false;
  answered: boolean;
  error: string;
}

export type StoreWrite = { ok: true } | StoreFailure;

/** Whether a key has its done mark (absent and unreadable are never confused). */
export type DoneView = { ok: true; done: boolean } | StoreFailure;

/** The claim on a key, if any, with the ETag a take-over writes with. */
export type ClaimView = { ok: true; claim?: ClaimRecord; etag?: string } | StoreFailure;

/**
 * The few operations the idempotent consumer needs from a key-value store with first-write
 * concurrency. Each result carries the number of sidecar round trips it took.
 */
export interface DedupeStore {
  /** Writes the claim only if no record exists for `claimKey` (first-write). */
  claim(store: string, claimKey: string, record: ClaimRecord, ttlSec: number): Promise<StoreWrite & { calls: number }>;
  /** Reads the done mark. */
  readDone(store: string, doneKey: string): Promise<DoneView & { calls: number }>;
  /** Reads the claim and its ETag. */
  readClaim(store: string, claimKey: string): Promise<ClaimView & { calls: number }>;
  /** Replaces an expired claim only if it still has `etag` (nobody replaced it first). */
  takeOver(
    store: string,
    claimKey: string,
    etag: string | undefined,
    record: ClaimRecord,
    ttlSec: number,
  ): Promise<StoreWrite & { calls: number }>;
  /** Writes the done mark (an upsert: a second writer writes the same fact). */
  markDone(store: string, doneKey: string, record: DoneRecord, ttlSec: number): Promise<StoreWrite & { calls: number }>;
  /** Deletes the claim so that the next delivery runs the handler. */
  release(store: string, claimKey: string): Promise<StoreWrite & { calls: number }>;
}
