import { EventSource } from '../common/event';
import { DaprEventStatus } from './dapr-event.interface';
import { ClaimOutcome } from '../claims/claim-terms';
import { SkipReason } from './dedupe/consumer-terms';

/** daprd delivered an event to a `@DaprSubscribe` handler's route (one per bulk entry). */
export interface EventReceivedEvent {
  pubsub: string;
  topic: string;
  /** The handler, as `Class.method`. */
  handler: string;
  /** CloudEvent id (the entry id for raw bulk entries); absent when the body held no id. */
  id?: string;
  bulk: boolean;
}

/**
 * Why an event got its answer:
 * - `handled` (SUCCESS), `dropped` (the handler threw `DropEvent`), `failed` (it threw anything
 *   else: RETRY), `timeout` (still running after the handler timeout: RETRY);
 * - `shutdown`: still running when shutdown's grace (`subscriptions.shutdownTimeoutMs`) ended, or
 *   delivered after it (then not run): RETRY;
 * - `invalid`: the body (or bulk entry) cannot be an event: DROP, the handler not called;
 * - dedupe: `duplicate` (SUCCESS), `health-check` (SUCCESS), `in-progress` (another replica holds
 *   the claim: RETRY), `store-unavailable` (RETRY), `no-dedupe-key` (DROP).
 */
export type EventOutcomeReason =
  | 'handled'
  | 'dropped'
  | 'failed'
  | 'timeout'
  | 'shutdown'
  | 'invalid'
  /** A failure that reached the subscription's `maxDeliveries`: answered `DROP`. */
  | 'retries-exhausted'
  | SkipReason;

/** A delivered event was answered. */
export interface EventHandledEvent {
  pubsub: string;
  topic: string;
  handler: string;
  id?: string;
  bulk: boolean;
  status: DaprEventStatus;
  reason: EventOutcomeReason;
  /** Whether the handler was called for it. */
  handlerRan: boolean;
  /** Handler run time in milliseconds, when it ran (for a batch, the whole batch's). */
  durationMs?: number;
  /** Sidecar round trips the dedupe made for this event before the answer. */
  dedupeCalls: number;
  /** The handler's error message (`dropped`, `failed`) or why the body was refused (`invalid`). */
  error?: string;
}

/**
 * A dedupe claim ended (after its handler settled, or when the app shut down first). `lost` and
 * `not-written` are the outcomes to watch: a claim that passed to another replica or lapsed while
 * its handler ran, and a handler's outcome the store could not take (its event runs again after
 * the lease).
 */
export interface ClaimSettledEvent {
  pubsub: string;
  topic: string;
  handler: string;
  /** CloudEvent id of the delivery that took the claim. */
  id: string;
  /** The dedupe key. */
  key: string;
  outcome: ClaimOutcome;
  /** Sidecar round trips after the claim was taken (renewals, settling). */
  calls: number;
  /** Successful renewals of the claim's lease. */
  renewals: number;
}

/**
 * The events of `@DaprSubscribe` handlers: `eventReceived` when daprd delivers an event to a
 * handler's route, `eventHandled` with the answer it got (emitted before the answer is sent),
 * `claimSettled` when a dedupe claim ends. A listener that throws never changes the answer.
 */
export class SubscriptionEvents {
  readonly eventReceived = new EventSource<EventReceivedEvent>();
  readonly eventHandled = new EventSource<EventHandledEvent>();
  readonly claimSettled = new EventSource<ClaimSettledEvent>();
}
