import { json, startTestServer, TestServer } from '../support/test-server';

/** One event daprd delivered: the body, the route it came to and its `traceparent` header. */
export interface Delivery {
  body: Record<string, unknown>;
  traceparent?: string;
  /** The route daprd posted to (one per subscription). */
  route: string;
  contentType?: string;
  /** `Date.now()` when it arrived. */
  at: number;
}

/** One programmatic subscription the app announces on `/dapr/subscribe`. */
export interface SubscriptionSpec {
  topic: string;
  route: string;
  /** @default 'pubsub' */
  pubsubname?: string;
  /** Subscription metadata (string values only, as daprd requires), e.g. `{ rawPayload: 'true' }`. */
  metadata?: Record<string, string>;
}

/** A subscribing app: answers `/dapr/subscribe` and records each delivery. */
export interface Subscriber {
  server: TestServer;
  /** The delivered bodies (CloudEvents), in order, every route together. */
  events: Array<Record<string, unknown>>;
  /** The same deliveries with their route and headers. */
  deliveries: Delivery[];
}

/**
 * Starts the app: one subscription to `topic` on `route`, or the subscriptions given. Every
 * delivery is answered `SUCCESS`.
 */
export async function startSubscriber(topic: string | SubscriptionSpec[], route = '/events'): Promise<Subscriber> {
  const subscriptions = typeof topic === 'string' ? [{ topic, route }] : topic;
  const routes = new Set(subscriptions.map((s) => s.route));
  const events: Array<Record<string, unknown>> = [];
  const deliveries: Delivery[] = [];
  const server = await startTestServer((req, res, body) => {
    if (req.method === 'GET' && req.url === '/dapr/subscribe') {
      return json(
        res,
        200,
        subscriptions.map((s) => ({
          pubsubname: s.pubsubname ?? 'pubsub',
          topic: s.topic,
          route: s.route,
          ...(s.metadata ? { metadata: s.metadata } : {}),
        })),
      );
    }
    if (req.method === 'POST' && routes.has(req.url ?? '')) {
      const event = JSON.parse(body) as Record<string, unknown>;
      events.push(event);
      deliveries.push({
        body: event,
        traceparent: req.headers.traceparent as string | undefined,
        route: req.url ?? '',
        contentType: req.headers['content-type'],
        at: Date.now(),
      });
      return json(res, 200, { status: 'SUCCESS' });
    }
    if (req.url === '/dapr/config') return json(res, 200, {});
    json(res, 404, {});
  });
  return { server, events, deliveries };
}
