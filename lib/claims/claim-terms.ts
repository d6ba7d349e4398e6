import { Logger } from '@nestjs/common';
import { DedupeStore } from './dedupe-store.interface';

/**
 * How a claim ended:
 * - `done`: its done mark is written (copies are answered `SUCCESS`);
 * - `released`: deleted after the handler failed (the next delivery runs it);
 * - `lost`: it passed to another replica, or lapsed, while its handler ran;
 * - `not-written`: the handler returned, but the store could not take its done mark (written again
 *   until it lands, for as long as a done mark lives) before the claim passed on or the app shut
 *   down: a redelivery runs the handler again (an outage between the effect and its mark);
 * - `abandoned`: the app shut down while the handler ran; the lease runs out on its own.
 */
export type ClaimOutcome = 'done' | 'released' | 'lost' | 'not-written' | 'abandoned';

/** What a held claim needs to know about itself and its store. */
export interface ClaimTerms {
  store: DedupeStore;
  /** The Dapr state store's name. */
  storeName: string;
  key: string;
  owner: string;
  token: string;
  leaseMs: number;
  /** How long a claim record lives (the done mark's life plus the lease). */
  claimTtlSec: number;
  /** How long the done mark lives. */
  doneTtlSec: number;
  /** The longest one write to the store can take (the sidecar's timeout: writes are sent once). */
  writeBudgetMs: number;
  now: () => number;
  logger: Logger;
  /** `Class.method: event <id> (key ...) on pubsub/topic`, for log lines. */
  where: string;
  /** Called once when the claim is lost or lapses while the handler runs (the handler should stop). */
  onLost: (why: string) => void;
  /** Called once with how the claim ended, the round trips it took after it was taken, its renewals. */
  onSettled: (outcome: ClaimOutcome, calls: number, renewals: number) => void;
}

/**
 * How far apart replica clocks may be when a lease is judged by time: a done mark is written
 * without an ETag only if it lands this long before the lease ends, and a claim that could not be
 * renewed is given up this long before it ends.
 */
export const CLOCK_MARGIN_MS = 1_000;
