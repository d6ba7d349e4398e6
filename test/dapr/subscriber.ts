import { json, startTestServer, TestServer } from '../support/test-server';

/** One event daprd delivered: the CloudEvent body and the `traceparent` header it came with. */
export interface Delivery {
  body: Record<string, unknown>;
  traceparent?: string;
}

/** A subscribing app: answers `/dapr/subscribe` for `topic` on `pubsub` and records each delivery. */
export interface Subscriber {
  server: TestServer;
  /** The delivered CloudEvents, in order. */
  events: Array<Record<string, unknown>>;
  /** The same deliveries with their `traceparent` headers. */
  deliveries: Delivery[];
}

export async function startSubscriber(topic: string, route = '/events'): Promise<Subscriber> {
  const events: Array<Record<string, unknown>> = [];
  const deliveries: Delivery[] = [];
  const server = await startTestServer((req, res, body) => {
    if (req.method === 'GET' && req.url === '/dapr/subscribe') {
      return json(res, 200, [{ pubsubname: 'pubsub', topic, route }]);
    }
    if (req.method === 'POST' && req.url === route) {
      const event = JSON.parse(body) as Record<string, unknown>;
      events.push(event);
      deliveries.push({ body: event, traceparent: req.headers.traceparent as string | undefined });
      return json(res, 200, { status: 'SUCCESS' });
    }
    if (req.url === '/dapr/config') return json(res, 200, {});
    json(res, 404, {});
  });
  return { server, events, deliveries };
}
