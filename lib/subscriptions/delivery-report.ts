import { Logger } from '@nestjs/common';
import { DaprEventStatus } from './dapr-event.interface';
import { DedupeVerdict } from './dedupe/consumer-terms';
import { Answer } from './handler-answers';
import { HandlerRun, messageOf } from './handler-run';
import { SubscriptionHandler } from './subscription-definition';
import { EventHandledEvent, SubscriptionEvents } from './subscription-events';

/**
 * What the dispatcher tells about each delivery: the log line of its answer, the `eventReceived`
 * and `eventHandled` events, and the attributes of the handler's span. The answers that need no
 * handler run (too late, invalid, skipped by the dedupe) are reported here whole.
 */
export class DeliveryReport {
  constructor(
    private readonly events: SubscriptionEvents,
    private readonly logger: Logger,
    /** Shutdown's grace, named in the log line of a handler it cut. */
    private readonly shutdown: { graceMs: number },
  ) {}

  /** A delivery after shutdown's grace: `RETRY`, no claim taken, the handler not called. */
  tooLate(h: SubscriptionHandler, id: string, bulk: boolean): DaprEventStatus {
    this.logger.warn(`${h.name}: event ${id} on ${h.pubsub}/${h.topic} came after shutdown's grace → RETRY (not run)`);
    this.handled(h, id, bulk, { status: 'RETRY', reason: 'shutdown', handlerRan: false, dedupeCalls: 0 });
    return 'RETRY';
  }

  invalid(h: SubscriptionHandler, bulk: boolean, entryId: string | undefined, reason: string): DaprEventStatus {
    this.logger.error(
      `${h.name}: ${bulk ? `bulk entry ${entryId}` : 'delivery'} on ${h.pubsub}/${h.topic} cannot be an event: ${reason} → DROP (handler not called)`,
    );
    this.handled(h, undefined, bulk, {
      status: 'DROP',
      reason: 'invalid',
      handlerRan: false,
      dedupeCalls: 0,
      error: reason,
    });
    return 'DROP';
  }

  skipped(h: SubscriptionHandler, id: string, bulk: boolean, verdict: DedupeVerdict & { run: false }): DaprEventStatus {
    this.handled(h, id, bulk, {
      status: verdict.status,
      reason: verdict.reason,
      handlerRan: false,
      dedupeCalls: verdict.calls,
    });
    return verdict.status;
  }

  log(h: SubscriptionHandler, id: string, answer: Answer, run: HandlerRun): void {
    const where = `${h.name}: event ${id} on ${h.pubsub}/${h.topic}`;
    if (answer.reason === 'handled') this.logger.debug(`${where} handled in ${run.durationMs.toFixed(1)} ms`);
    else if (answer.reason === 'dropped')
      this.logger.warn(`${where} dropped by the handler: ${messageOf(answer.error)} → DROP`);
    else if (answer.reason === 'retries-exhausted')
      return; // DeliveryLimit logged it
    else if (answer.reason === 'timeout')
      this.logger.error(`${where} still running after ${h.handlerTimeoutMs} ms → RETRY`);
    else if (answer.reason === 'shutdown') {
      const grace = `${this.shutdown.graceMs} ms, subscriptions.shutdownTimeoutMs`;
      this.logger.warn(`${where} still running when shutdown's grace (${grace}) ended → RETRY (its signal aborted)`);
    } else {
      const stack = answer.error instanceof Error ? answer.error.stack : undefined;
      this.logger.error(`${where} failed: ${messageOf(answer.error)} → RETRY`, stack);
    }
  }

  attributes(h: SubscriptionHandler, id?: string): Record<string, string> {
    const a: Record<string, string> = {
      'messaging.system': 'dapr',
      'messaging.operation.type': 'process',
      'messaging.destination.name': h.topic,
      'dapr.pubsub': h.pubsub,
      'code.function': h.name,
    };
    if (id !== undefined) a['messaging.message.id'] = id;
    return a;
  }

  received(h: SubscriptionHandler, id: string, bulk: boolean): void {
    if (this.events.eventReceived.hasListeners) {
      this.events.eventReceived.emit({ pubsub: h.pubsub, topic: h.topic, handler: h.name, id, bulk });
    }
  }

  handled(
    h: SubscriptionHandler,
    id: string | undefined,
    bulk: boolean,
    rest: Omit<EventHandledEvent, 'pubsub' | 'topic' | 'handler' | 'id' | 'bulk'>,
  ): void {
    if (this.events.eventHandled.hasListeners) {
      this.events.eventHandled.emit({ pubsub: h.pubsub, topic: h.topic, handler: h.name, id, bulk, ...rest });
    }
  }
}
