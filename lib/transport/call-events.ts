import { EventSource } from '../common/event';

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
 * The events of the call pipeline, emitted by every REST and sidecar call: `requestCompleted`
 * once per logical call, `retryScheduled` per retry, `retryBudgetExhausted` when a wanted retry
 * found the service's budget spent. Listeners run synchronously on the call's path; an exception
 * in a listener is swallowed and never changes the call's outcome.
 */
export class CallEvents {
  readonly requestCompleted = new EventSource<RequestCompletedEvent>();
  readonly retryScheduled = new EventSource<RetryScheduledEvent>();
  readonly retryBudgetExhausted = new EventSource<RetryBudgetExhaustedEvent>();
}
