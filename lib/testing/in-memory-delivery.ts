import { randomUUID } from 'node:crypto';
import { DaprEventStatus } from '../subscriptions/dapr-event.interface';
import { Answer, DeliveryBody, SubscriptionServer } from '../subscriptions/http/subscription-server';
import { SubscriptionHandler } from '../subscriptions/subscription-definition';
import { DaprSubscriptionJson } from '../subscriptions/subscription-list';
import { SubscriptionsService } from '../subscriptions/subscriptions.service';
import { DeliveryFault, InMemoryFaults } from './in-memory-faults';
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
  /** The HTTP status the app answered the delivery with (absent for `UNROUTED`). */
  httpStatus?: number;
}

/**
 * Hands in-memory messages to the app's `@DaprSubscribe` handlers the way daprd does, through the
 * same code as an HTTP delivery: the app's HTTP checks first, in the order its routes make them
 * (`dapr-api-token` → 401, `Content-Type` → 415, the body against `subscriptions.maxBodyBytes`),
 * then `SubscriptionServer.deliver` (the CloudEvent read, dedupe, the handler run, the
 * `SUCCESS`/`RETRY`/`DROP` mapping, events and metrics). The request is daprd's: the route chosen
 * from the subscription list the app serves on `/dapr/subscribe` (rules in order, then the
 * default), the body the CloudEvent's JSON bytes (`application/cloudevents+json`; a raw
 * subscription's envelope with `data_base64`), bulk handlers a batch of up to `maxMessages` entries
 * (`application/json`), the sidecar's app token as `dapr-api-token`. The app's answer is read as
 * daprd reads it: 2xx with a status, 404 dropped, anything else retried; for bulk, a 2xx's
 * `statuses` per entry (an entry left out is retried), 404 every entry dropped without the
 * dead-letter topic, anything else every entry retried. A `DROP` (and a message no rule matches)
 * goes to the subscription's `deadLetterTopic` when it has one, as daprd republishes it. A `RETRY`
 * is reported, not redelivered: deliver again to play daprd's retry.
 */
export class InMemoryDelivery {
  constructor(
    private readonly pubsub: InMemoryPubsub,
    private readonly subscriptions: () => SubscriptionsService,
    private readonly faults: InMemoryFaults,
    private readonly appApiToken: string | undefined,
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
    const fault = this.faults.deliveryFault(handler.pubsub, handler.topic);
    let statuses: DaprEventStatus[];
    let answer: Answer;
    let deadLetters = true;
    if (handler.bulk) {
      const entries = batch.map((m, i) => ({
        entryId: randomUUID(),
        event: handler.rawPayload ? Buffer.from(m.body, 'utf8').toString('base64') : envelopes[i],
        contentType: handler.rawPayload ? 'application/octet-stream' : 'application/cloudevents+json',
        metadata: {},
      }));
      const body = { entries, id: randomUUID(), metadata: {}, pubsubname: handler.pubsub, topic: handler.topic };
      answer = await this.post(server, handler, body, 'application/json', {}, fault);
      const listed = bulkStatuses(answer);
      // daprd treats a bulk 404 as every entry handled: dropped, not sent to the dead-letter topic.
      deadLetters = answer.status !== 404;
      statuses = entries.map((e) => (answer.status === 404 ? 'DROP' : (listed?.get(e.entryId) ?? 'RETRY')));
    } else {
      const envelope = envelopes[0];
      const headers: Record<string, string> = { pubsubname: handler.pubsub };
      for (const name of ['traceparent', 'tracestate']) {
        const value = envelope[name];
        if (typeof value === 'string' && value.length > 0) headers[name] = value;
      }
      answer = await this.post(server, handler, envelope, 'application/cloudevents+json', headers, fault);
      statuses = [singleStatus(answer)];
    }
    return batch.map((m, i) => {
      if (statuses[i] === 'DROP' && deadLetters && handler.deadLetterTopic) {
        this.pubsub.deadLetter(m, handler.deadLetterTopic);
      }
      return {
        pubsub: m.pubsub,
        topic: m.topic,
        id: String(envelopes[i].id),
        handler: handler.name,
        status: statuses[i],
        httpStatus: answer.status,
      };
    });
  }

  /**
   * daprd's POST of `value` to the handler's route, checked as the app's routes check a request
   * (token, content type, size, in that order), with `fault` applied to it when one is set.
   */
  private async post(
    server: SubscriptionServer,
    handler: SubscriptionHandler,
    value: unknown,
    contentType: string,
    extra: Record<string, string>,
    fault: DeliveryFault | undefined,
  ): Promise<Answer> {
    const headers: Record<string, string> = { ...extra, 'content-type': contentType };
    if (this.appApiToken !== undefined) headers['dapr-api-token'] = this.appApiToken;
    if (fault === 'wrong-token') headers['dapr-api-token'] = `not-${this.appApiToken ?? 'the-token'}`;
    if (fault === 'content-type') headers['content-type'] = 'text/plain';
    const header = (name: string) => headers[name];
    if (!server.authorized(header)) return server.unauthorized();
    const badType = server.checkContentType(header);
    if (badType) return badType;
    let bytes = Buffer.from(fault === 'malformed' ? '{"not json' : JSON.stringify(value), 'utf8');
    if (fault === 'oversize') {
      bytes = Buffer.concat([bytes, Buffer.alloc(Math.max(0, server.maxBodyBytes + 1 - bytes.length), ' ')]);
    }
    const body: DeliveryBody =
      bytes.length > server.maxBodyBytes ? { kind: 'too-large', size: bytes.length } : { kind: 'bytes', bytes };
    return server.deliver(handler, header, body);
  }
}

/** A single delivery's answer as daprd reads it: 2xx by its status (none or `""`: success), 404 drop, else retry. */
function singleStatus(answer: Answer): DaprEventStatus {
  if (answer.status === 404) return 'DROP';
  if (answer.status < 200 || answer.status > 299) return 'RETRY';
  const status = (answer.body as { status?: unknown } | undefined)?.status;
  if (status === undefined || status === '' || status === 'SUCCESS') return 'SUCCESS';
  return status === 'DROP' ? 'DROP' : 'RETRY';
}

/** A 2xx bulk answer's statuses by entry id (`undefined` when it has none to read: every entry retried). */
function bulkStatuses(answer: Answer): Map<string, DaprEventStatus> | undefined {
  if (answer.status < 200 || answer.status > 299) return undefined;
  const list = (answer.body as { statuses?: unknown } | undefined)?.statuses;
  if (!Array.isArray(list)) return undefined;
  const out = new Map<string, DaprEventStatus>();
  for (const item of list as Array<{ entryId?: unknown; status?: unknown }>) {
    if (typeof item?.entryId !== 'string') continue;
    out.set(item.entryId, item.status === 'SUCCESS' || item.status === 'DROP' ? item.status : 'RETRY');
  }
  return out;
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
