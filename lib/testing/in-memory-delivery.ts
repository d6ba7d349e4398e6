import { randomUUID } from 'node:crypto';
import { DaprEventStatus } from '../subscriptions/dapr-event.interface';
import { SubscriptionServer } from '../subscriptions/http/subscription-server';
import { SubscriptionHandler } from '../subscriptions/subscription-definition';
import { DaprSubscriptionJson } from '../subscriptions/subscription-list';
import { SubscriptionsService } from '../subscriptions/subscriptions.service';
import { InMemoryPubsub, PublishedMessage } from './in-memory-pubsub';
import { evaluateRule } from './routing-rule';

/** What one delivery came to. */
export interface DeliveryOutcome {
  pubsub: string;
  topic: string;
  /** The CloudEvent `id` the handler saw (a raw delivery's is new each time, as daprd's). */
  id?: string;
  /** `Class.method` of the handler that got it. */
  handler?: string;
  /**
   * The handler's answer as daprd reads it; `UNROUTED` when no subscription of the app takes the
   * event (no handler for the topic, or no routing rule matches and there is no default).
   */
  status: DaprEventStatus | 'UNROUTED';
}

/**
 * Hands in-memory messages to the app's `@DaprSubscribe` handlers the way daprd does, through the
 * same code as an HTTP delivery (`SubscriptionServer.deliver`: the CloudEvent read, dedupe, the
 * handler run, the `SUCCESS`/`RETRY`/`DROP` mapping, events and metrics): the route chosen from the
 * subscription list the app serves on `/dapr/subscribe` (rules in order, then the default), the
 * body a CloudEvent (a raw subscription's envelope with `data_base64`), bulk handlers a batch of
 * up to `maxMessages` entries. A `DROP` (and a message no rule matches) goes to the subscription's
 * `deadLetterTopic` when it has one, as daprd republishes it. A `RETRY` is reported, not
 * redelivered: deliver again to play daprd's retry.
 */
export class InMemoryDelivery {
  constructor(
    private readonly pubsub: InMemoryPubsub,
    private readonly subscriptions: () => SubscriptionsService,
  ) {}

  /** Delivers every message not delivered yet (dead letters they produce included), in publish order. */
  async flush(): Promise<DeliveryOutcome[]> {
    const outcomes: DeliveryOutcome[] = [];
    const server = this.subscriptions().deliveryServer;
    // Dead letters are delivered in the next pass; a loop of dead-letter topics stops after a few.
    for (let pass = 0, pending = this.pending(); pending.length > 0 && pass < 10; pass += 1, pending = this.pending()) {
      while (pending.length > 0) {
        const message = pending.shift()!;
        const target = this.route(server, message);
        if (!target.handler?.bulk) {
          message.delivered = true;
          outcomes.push(...(await this.deliver(server, target, [message])));
          continue;
        }
        // A bulk handler gets the pending messages routed to it, up to maxMessages at a time.
        const batch = [message];
        for (const other of [...pending]) {
          if (batch.length >= target.handler.bulk.maxMessages) break;
          if (this.route(server, other).handler === target.handler) {
            batch.push(other);
            pending.splice(pending.indexOf(other), 1);
          }
        }
        for (const m of batch) m.delivered = true;
        outcomes.push(...(await this.deliver(server, target, batch)));
      }
    }
    return outcomes;
  }

  /** Delivers one message to the handler its topic routes it to; throws when none does. */
  async deliverOne(message: PublishedMessage): Promise<DeliveryOutcome> {
    const server = this.subscriptions().deliveryServer;
    const target = this.route(server, message);
    if (!target.handler) {
      const known = (server?.subscriptions ?? []).map((s) => `${s.pubsubname}/${s.topic}`);
      throw new Error(
        `no @DaprSubscribe handler takes this event on ${message.pubsub}/${message.topic}` +
          (known.length ? ` (the app subscribes to ${known.join(', ')})` : ' (the app has no @DaprSubscribe handler)'),
      );
    }
    message.delivered = true;
    const [outcome] = await this.deliver(server, target, [message]);
    return outcome;
  }

  private pending(): PublishedMessage[] {
    return this.pubsub.list().filter((m) => !m.delivered);
  }

  /** The handler daprd would post `message` to, and the subscription it belongs to. */
  private route(
    server: SubscriptionServer | undefined,
    message: PublishedMessage,
  ): { handler?: SubscriptionHandler; item?: DaprSubscriptionJson } {
    const item = server?.subscriptions.find((s) => s.pubsubname === message.pubsub && s.topic === message.topic);
    if (!server || !item) return {};
    let path = item.routes ? undefined : item.route;
    if (item.routes) {
      const event = message.cloudEvent ?? {};
      path = item.routes.rules.find((rule) => evaluateRule(rule.match, event))?.path ?? item.routes.default;
    }
    return { handler: path === undefined ? undefined : server.handlerFor(path), item };
  }

  private async deliver(
    server: SubscriptionServer | undefined,
    target: { handler?: SubscriptionHandler; item?: DaprSubscriptionJson },
    batch: PublishedMessage[],
  ): Promise<DeliveryOutcome[]> {
    const { handler, item } = target;
    if (!server || !handler) {
      // daprd acks an event no rule takes as dropped, to the dead-letter topic when there is one.
      for (const m of batch) if (item?.deadLetterTopic) this.pubsub.deadLetter(m, item.deadLetterTopic);
      return batch.map((m) => ({ pubsub: m.pubsub, topic: m.topic, status: 'UNROUTED' as const }));
    }
    const envelopes = batch.map((m) => envelopeOf(m, handler));
    let statuses: DaprEventStatus[];
    if (handler.bulk) {
      const entries = batch.map((m, i) => ({
        entryId: randomUUID(),
        event: handler.rawPayload ? Buffer.from(m.body, 'utf8').toString('base64') : envelopes[i],
        contentType: handler.rawPayload ? 'application/octet-stream' : 'application/cloudevents+json',
        metadata: {},
      }));
      const body = { entries, id: randomUUID(), metadata: {}, pubsubname: handler.pubsub, topic: handler.topic };
      const answer = await server.deliver(handler, () => undefined, { kind: 'value', value: body });
      const byEntry = new Map(
        ((answer.body as { statuses?: Array<{ entryId: string; status: DaprEventStatus }> }).statuses ?? []).map(
          (s) => [s.entryId, s.status],
        ),
      );
      statuses = entries.map((e) => byEntry.get(e.entryId) ?? 'RETRY');
    } else {
      const envelope = envelopes[0];
      const trace = (name: string) => {
        const value = envelope[name];
        return typeof value === 'string' && value.length > 0 ? value : undefined;
      };
      const answer = await server.deliver(handler, trace, { kind: 'value', value: envelope });
      statuses = [(answer.body as { status: DaprEventStatus }).status];
    }
    return batch.map((m, i) => {
      if (statuses[i] === 'DROP' && handler.deadLetterTopic) this.pubsub.deadLetter(m, handler.deadLetterTopic);
      return {
        pubsub: m.pubsub,
        topic: m.topic,
        id: String(envelopes[i].id),
        handler: handler.name,
        status: statuses[i],
      };
    });
  }
}

/** The CloudEvent daprd posts for `message` to `handler`'s route. */
function envelopeOf(message: PublishedMessage, handler: SubscriptionHandler): Record<string, unknown> {
  const common = { specversion: '1.0', topic: message.topic, pubsubname: message.pubsub, type: 'com.dapr.event.sent' };
  if (handler.rawPayload) {
    // A new envelope on every delivery, the broker's bytes as data_base64 (daprd's FromRawPayload).
    return {
      ...common,
      id: randomUUID(),
      source: 'Dapr',
      datacontenttype: 'application/octet-stream',
      data_base64: Buffer.from(message.body, 'utf8').toString('base64'),
    };
  }
  if (message.cloudEvent) return { ...message.cloudEvent };
  return {
    ...common,
    id: randomUUID(),
    source: 'Dapr',
    datacontenttype: message.contentType,
    data: message.data,
  };
}
