import { StateTransactionOperation } from '../dapr/dapr.interfaces';

/**
 * A replica's claim on an event key: it runs the handler, and holds the claim until `until` (epoch
 * ms), renewing it while the handler runs. `token` names this one run of the handler.
 */
export interface ClaimRecord {
  state: 'claimed';
  owner: string;
  token: string;
  until: number;
}

/** The handler finished for this key: the claim turned into its done mark, same key. */
export interface DoneRecord {
  state: 'done';
  owner: string;
  token: string;
  at: number;
}

/** What the dedupe store keeps per event key: one record, a claim or a done mark. */
export type DedupeRecord = ClaimRecord | DoneRecord;

/**
 * How a write came out:
 * - `conflict`: its condition did not hold (the key exists, or its ETag moved on): nothing written;
 * - `failed`: the store answered with another error (to be told apart by reading);
 * - `unavailable`: no answer, and provably nothing written (refused, breaker open);
 * - `unknown`: it may have been written (a timeout or a reset after it may have reached the
 *   sidecar); such writes are never sent again by the client — read back to find out.
 */
export type WriteOutcome =
  { ok: true } | { ok: false; reason: 'conflict' | 'failed' | 'unavailable' | 'unknown'; error: string };

/** A read: the record (absent when there is none) and its ETag, or why it could not be read. */
export type ReadOutcome = { ok: true; record?: DedupeRecord; etag?: string } | { ok: false; error: string };

/**
 * The few operations the idempotent consumer needs from a key-value store with ETags and
 * first-write concurrency, each one sidecar round trip. No write is sent twice (a repeat of a
 * conditional write would meet its own first attempt and read as a conflict).
 */
export interface DedupeStore {
  /** Writes `record` only if no record exists for `key` (first-write). */
  insert(store: string, key: string, record: ClaimRecord, ttlSec: number): Promise<WriteOutcome>;
  /** Reads the record of `key` and its ETag. */
  read(store: string, key: string): Promise<ReadOutcome>;
  /** Replaces the record of `key` only while it still has `etag` (nobody wrote it since it was read). */
  replace(store: string, key: string, etag: string, record: DedupeRecord, ttlSec: number): Promise<WriteOutcome>;
  /**
   * Writes the done mark unconditionally: for a claim whose lease provably holds (the consumer's
   * time fence), so no ETag is needed and no read goes before it.
   */
  markDone(store: string, key: string, record: DoneRecord, ttlSec: number): Promise<WriteOutcome>;
  /** Deletes the record of `key` only while it still has `etag`. */
  remove(store: string, key: string, etag: string): Promise<WriteOutcome>;
  /**
   * One state transaction: the handler's `effects`, then the done mark of `key` (by `etag` when
   * given, else unconditionally, for a claim whose lease provably holds).
   */
  commit(
    store: string,
    key: string,
    etag: string | undefined,
    record: DoneRecord,
    ttlSec: number,
    effects: StateTransactionOperation[],
  ): Promise<WriteOutcome>;
}
