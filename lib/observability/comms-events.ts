import { Injectable } from '@nestjs/common';
import { CircuitStateChange } from '../circuit-breaker/circuit-breaker';
import { EventSource } from '../common/event';
import { ClaimSettledEvent, EventHandledEvent, EventReceivedEvent } from '../subscriptions/subscription-events';
import { RealtimeEvents } from '../realtime/realtime-events';

/**
 * A breaker changed state (name, from, to, reason, consecutive failures, epoch ms). The change
 * from open to half-open is noticed lazily: when a call, a health check or a metrics scrape reads
 * the breaker after its reset timeout.
 */
export type BreakerStateChangedEvent = CircuitStateChange;

/** One logical call finished (after all its attempts). */
export interface RequestCompletedEvent {
  /** Service name, or `dapr` for sidecar calls. */
  client: string;
  method: string;
  /** Route template when the caller gave one (repositories do), else the path without its query. */
  route: string;
  /** HTTP status of the last attempt, when there was an answer. */
  status?: number;
  /**
   * `success`, `error` (answer ≥ 400, or no answer: connection error, timeout, abort), or
   * `rejected` (refused by an open breaker, nothing sent; `attempts` is 0).
   */
  outcome: 'success' | 'error' | 'rejected';
  /** Node/axios error code when there was no answer (`ECONNREFUSED`, `ECONNABORTED`, ...). */
  errorCode?: string;
  /** From the call's start to its outcome, backoff delays included. */
  durationMs: number;
  /** Attempts sent (1 + retries). */
  attempts: number;
  /** Breaker that guarded the call, if any. */
  breaker?: string;
}

/** A retry was decided and will be sent after `delayMs`. */
export interface RetryScheduledEvent {
  client: string;
  method: string;
  route: string;
  /** 1 for the first retry. */
  retry: number;
  /** The status or error code that caused it. */
  reason: string;
  delayMs: number;
}

/** A retry was wanted but the service's retry budget was spent. */
export interface RetryBudgetExhaustedEvent {
  client: string;
  method: string;
  route: string;
}

/**
 * Typed events any app can subscribe to: inject `KugelCommsEvents` and call
 * `events.requestCompleted.on((e) => ...)`, which returns the unsubscribe function. The Prometheus
 * metrics are built on them. Listeners run synchronously on the call's path (keep them cheap); an
 * exception in a listener is swallowed and never changes the call's outcome.
 *
 * - `requestCompleted`: one logical REST or sidecar call ended (all attempts);
 * - `retryScheduled`: a retry will be sent;
 * - `retryBudgetExhausted`: a retry was wanted but the service's retry budget was spent;
 * - `breakerStateChanged`: a circuit breaker changed state;
 * - `eventReceived` / `eventHandled`: daprd delivered an event to a `@DaprSubscribe` handler, and
 *   the answer it got (emitted before the answer is sent);
 * - `claimSettled`: a dedupe claim ended (done mark, release, lost, not written, abandoned).
 * - `realtime.*`: WebSocket connections opened, closed, reconnecting, messages, failed sends.
 */
@Injectable()
export class KugelCommsEvents {
  readonly requestCompleted = new EventSource<RequestCompletedEvent>();
  readonly retryScheduled = new EventSource<RetryScheduledEvent>();
  readonly retryBudgetExhausted = new EventSource<RetryBudgetExhaustedEvent>();
  readonly breakerStateChanged = new EventSource<BreakerStateChangedEvent>();
  readonly eventReceived = new EventSource<EventReceivedEvent>();
  readonly eventHandled = new EventSource<EventHandledEvent>();
  readonly claimSettled = new EventSource<ClaimSettledEvent>();
  readonly realtime = new RealtimeEvents();
}
