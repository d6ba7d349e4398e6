import { Logger } from '@nestjs/common';
import { Answer } from './handler-answers';
import { SubscriptionHandler } from './subscription-definition';

/**
 * Pub/sub component kinds on which daprd redelivers a `RETRY` in place, holding every event
 * behind it until it succeeds (measured on daprd v1.18.1: docs/components.md). There, one event
 * whose handler always fails blocks its partition for ever, unless its deliveries are bounded.
 */
export const IN_PLACE_REDELIVERY = new Set(['pubsub.kafka']);

/** The bound `maxDeliveries: 'broker'` takes on those kinds (a subscription with a dead-letter topic). */
export const IN_PLACE_MAX_DELIVERIES = 10;

/** Failed deliveries remembered at most (the oldest forgotten first): a bound on memory. */
const REMEMBERED = 10_000;

/** How the sidecar names its components' kinds (`DaprClientHelper.componentTypes`). */
export type ComponentTypes = () => Promise<Map<string, string> | undefined>;

/**
 * A bounded `RETRY`: counts the failed deliveries of each event (by pub/sub, topic and id, in this
 * replica), and turns the failure that reaches the subscription's `maxDeliveries` into `DROP`, so
 * daprd forwards the event to the dead-letter topic instead of delivering it again. Only handler
 * failures count (a throw, a timeout): not a `RETRY` of the dedupe (`in-progress`,
 * `store-unavailable`) or of shutdown, which say nothing about the event.
 *
 * Counted per replica: a copy delivered to another replica (a rebalance) starts again from 0, so
 * the bound is "at least `maxDeliveries`", never fewer.
 */
export class DeliveryLimit {
  private readonly failures = new Map<string, number>();
  private types?: Promise<Map<string, string> | undefined>;
  private askedAt = -Infinity;
  private readonly warned = new Set<string>();

  constructor(
    private readonly componentTypes: ComponentTypes,
    private readonly logger: Logger,
  ) {}

  /** The answer to send: `answer`, or `DROP` (`retries-exhausted`) when this failure reaches the bound. */
  async apply(h: SubscriptionHandler, id: string, answer: Answer): Promise<Answer> {
    const key = `${h.pubsub}\u0000${h.topic}\u0000${id}`;
    if (answer.status !== 'RETRY') {
      this.failures.delete(key);
      return answer;
    }
    if (answer.reason !== 'failed' && answer.reason !== 'timeout') return answer;
    const failed = (this.failures.get(key) ?? 0) + 1;
    this.failures.delete(key); // re-inserted last: the map's order is the order of last failure
    this.failures.set(key, failed);
    if (this.failures.size > REMEMBERED) this.failures.delete(this.failures.keys().next().value as string);
    const limit = await this.limitOf(h);
    if (limit === undefined || failed < limit) return answer;
    this.failures.delete(key);
    const where = h.deadLetterTopic ? `the dead-letter topic ${h.deadLetterTopic} keeps it` : 'no dead-letter topic: it is gone';
    this.logger.error(
      `${h.name}: event ${id} on ${h.pubsub}/${h.topic} failed ${failed} deliveries (maxDeliveries ${limit}) → DROP (${where})`,
    );
    return { status: 'DROP', reason: 'retries-exhausted', error: answer.error };
  }

  /** The subscription's bound: its own number, none, or its broker's default. */
  private async limitOf(h: SubscriptionHandler): Promise<number | undefined> {
    if (h.maxDeliveries === false) return undefined;
    if (typeof h.maxDeliveries === 'number') return h.maxDeliveries;
    const kind = await this.kindOf(h.pubsub);
    if (kind === undefined || !IN_PLACE_REDELIVERY.has(kind)) return undefined;
    if (h.deadLetterTopic) return IN_PLACE_MAX_DELIVERIES;
    if (!this.warned.has(h.name)) {
      this.warned.add(h.name);
      this.logger.warn(
        `${h.name}: ${h.pubsub} is ${kind}, which redelivers a RETRY in place and holds the events behind it: ` +
          `with no deadLetterTopic, an event whose handler always fails blocks its partition for ever. ` +
          `Set deadLetterTopic (the event goes there after ${IN_PLACE_MAX_DELIVERIES} failed deliveries) or maxDeliveries`,
      );
    }
    return undefined;
  }

  /**
   * The component's kind, asked of the sidecar once; again, at most every 30 s, while its answer
   * names no such component (the sidecar was unreachable, or is still loading components).
   */
  private async kindOf(pubsub: string): Promise<string | undefined> {
    if (!this.types && performance.now() - this.askedAt >= 30_000) {
      this.askedAt = performance.now();
      this.types = this.componentTypes();
    }
    const types = await this.types;
    if (!types?.has(pubsub)) this.types = undefined;
    return types?.get(pubsub);
  }
}
