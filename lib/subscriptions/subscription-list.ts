import { SubscriptionHandler } from './subscription-definition';

/** One item of the `GET /dapr/subscribe` answer, in the shape daprd v1.18 decodes. */
export interface DaprSubscriptionJson {
  pubsubname: string;
  topic: string;
  route?: string;
  routes?: { rules: Array<{ match: string; path: string }>; default?: string };
  /** String values only: daprd refuses every subscription when one value is not a string. */
  metadata?: Record<string, string>;
  deadLetterTopic?: string;
  bulkSubscribe?: { enabled: true; maxMessagesCount: number; maxAwaitDurationMs: number };
}

/**
 * The programmatic subscriptions, one item per topic: a topic with a single handler and no rule
 * uses `route`; otherwise `routes.rules` in priority order and `routes.default` for the handler
 * without a rule (daprd picks the first rule whose CEL `match` is true, else the default).
 */
export function subscriptionList(topics: SubscriptionHandler[][]): DaprSubscriptionJson[] {
  return topics.map((group) => {
    const first = group[0];
    const item: DaprSubscriptionJson = { pubsubname: first.pubsub, topic: first.topic };
    const fallback = group.find((h) => h.match === undefined);
    const rules = group.filter((h) => h.match !== undefined);
    if (rules.length === 0) item.route = fallback!.path;
    else {
      item.routes = { rules: rules.map((h) => ({ match: h.match!, path: h.path })) };
      if (fallback) item.routes.default = fallback.path;
    }
    const metadata = { ...first.metadata };
    if (first.rawPayload) metadata.rawPayload = 'true';
    if (Object.keys(metadata).length > 0) item.metadata = metadata;
    if (first.deadLetterTopic) item.deadLetterTopic = first.deadLetterTopic;
    if (first.bulk) {
      item.bulkSubscribe = {
        enabled: true,
        maxMessagesCount: first.bulk.maxMessages,
        maxAwaitDurationMs: first.bulk.maxAwaitMs,
      };
    }
    return item;
  });
}
