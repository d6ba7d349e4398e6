import { Logger } from '@nestjs/common';
import { DaprEvent, DaprEventStatus } from '../dapr-event.interface';
import { SubscriptionHandler } from '../subscription-definition';
import { ClaimOutcome } from '../../claims/claim-terms';
import { DedupeStore } from '../../claims/dedupe-store.interface';
import { CommitResult, HeldClaim } from '../../claims/held-claim';
import { StateTransactionOperation } from '../../dapr/dapr.interfaces';

/** Why an event did not reach its handler. */
export type SkipReason = 'health-check' | 'duplicate' | 'in-progress' | 'store-unavailable' | 'no-dedupe-key';

/**
 * The verdict on one event: run the handler (then `finish` with how it went, exactly once: it
 * settles the claim and resolves to the round trips that took), or answer `status` without it.
 * `calls` counts sidecar round trips so far.
 */
export type DedupeVerdict =
  | {
      run: true;
      calls: number;
      finish: (handlerSucceeded: boolean) => Promise<number>;
      /** Instead of `finish(true)`, for a transactional handler: its writes and the done mark in one transaction. */
      commit: (effects: StateTransactionOperation[]) => Promise<CommitResult>;
      /** Stops renewing the claim while the handler still runs: it lapses with its lease. */
      letGo: () => void;
    }
  | { run: false; calls: number; status: DaprEventStatus; reason: SkipReason };

/** How one claim ended (see `ClaimOutcome`), for events and metrics. */
export interface ClaimSettled {
  handler: SubscriptionHandler;
  event: DaprEvent;
  key: string;
  outcome: ClaimOutcome;
  /** Sidecar round trips after the claim was taken (renewals, settling). */
  calls: number;
  renewals: number;
}

/** What the consumer needs besides each subscription's own dedupe settings. */
export interface ConsumerTiming {
  /** The longest one write to the dedupe store can take: the sidecar's timeout (writes are sent once). */
  writeBudgetMs: number;
  now?: () => number;
  /** Told how every claim ended. */
  onSettled?: (settled: ClaimSettled) => void;
}

/** @internal What one claim attempt works with: the consumer's store, timing and claims in hand. */
export interface ConsumerParts {
  /** This replica, as written in its claims. */
  owner: string;
  store: DedupeStore;
  logger: Logger;
  timing: ConsumerTiming;
  now: () => number;
  /** Keys whose claims this replica holds now. */
  held: Map<string, HeldClaim>;
  /** Keys an attempt of this replica is claiming right now, with that attempt. */
  claiming: Map<string, Promise<unknown>>;
}
