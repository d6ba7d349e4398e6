import { Injectable } from '@nestjs/common';
import { CircuitStateChange } from '../circuit-breaker/circuit-breaker';
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
  /** `success`, `error` (answer ≥ 400 or network failure), or `rejected` (open breaker, no I/O). */
  outcome: 'success' | 'error' | 'rejected';
  /** Node/axios error code when there was no answer (`ECONNREFUSED`, `ECONNABORTED`, ...). */
  errorCode?: string;
  durationMs: number;
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
 * Typed events any app can subscribe to (`events.requestCompleted.on(e => ...)`); the Prometheus
 * metrics and the logs are built on them. Listeners run synchronously and cannot affect calls.
 */
@Injectable()
export class KugelCommsEvents {
  readonly requestCompleted = new EventSource<RequestCompletedEvent>();
  readonly retryScheduled = new EventSource<RetryScheduledEvent>();
  readonly retryBudgetExhausted = new EventSource<RetryBudgetExhaustedEvent>();
  readonly breakerStateChanged = new EventSource<CircuitStateChange>();
}
