import { Injectable } from '@nestjs/common';
import { BreakerEvents, BreakerStateChangedEvent } from './circuit-breaker/breaker-events';
import { EventSource } from './common/event';
import { RealtimeEvents } from './realtime/realtime-events';
import {
  ClaimSettledEvent,
  EventHandledEvent,
  EventReceivedEvent,
  SubscriptionEvents,
} from './subscriptions/subscription-events';
import {
  CallEvents,
  RequestCompletedEvent,
  RetryBudgetExhaustedEvent,
  RetryScheduledEvent,
} from './transport/call-events';

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
 *
 * Each part owns its events (`CallEvents` of the call pipeline, `BreakerEvents` of the breakers'
 * registry, `SubscriptionEvents` of the subscriptions, `RealtimeEvents` of the WebSocket client);
 * this object gathers the same sources in one place, so a listener here hears every emit.
 */
@Injectable()
export class KugelCommsEvents {
  readonly requestCompleted: EventSource<RequestCompletedEvent>;
  readonly retryScheduled: EventSource<RetryScheduledEvent>;
  readonly retryBudgetExhausted: EventSource<RetryBudgetExhaustedEvent>;
  readonly breakerStateChanged: EventSource<BreakerStateChangedEvent>;
  readonly eventReceived: EventSource<EventReceivedEvent>;
  readonly eventHandled: EventSource<EventHandledEvent>;
  readonly claimSettled: EventSource<ClaimSettledEvent>;
  readonly realtime: RealtimeEvents;

  constructor(
    calls: CallEvents = new CallEvents(),
    breakers: BreakerEvents = new BreakerEvents(),
    subscriptions: SubscriptionEvents = new SubscriptionEvents(),
    realtime: RealtimeEvents = new RealtimeEvents(),
  ) {
    this.requestCompleted = calls.requestCompleted;
    this.retryScheduled = calls.retryScheduled;
    this.retryBudgetExhausted = calls.retryBudgetExhausted;
    this.breakerStateChanged = breakers.breakerStateChanged;
    this.eventReceived = subscriptions.eventReceived;
    this.eventHandled = subscriptions.eventHandled;
    this.claimSettled = subscriptions.claimSettled;
    this.realtime = realtime;
  }
}
