import { TestingModule } from '@nestjs/testing';
import { Registry } from 'prom-client';
import { DaprClientHelper, KugelCommsEvents, RequestCompletedEvent } from '../../lib';
import { bootKugelComms } from '../support/module-fixture';
import { installContextManager, newSpanContext, withSpan } from '../support/otel';
import { waitUntil } from '../support/processes';
import { Daprd } from './daprd';
import { Delivery, startSubscriber, Subscriber } from './subscriber';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * The trace id of a delivered CloudEvent, from its `traceparent` attribute; the delivery request's
 * own `traceparent` header must carry the same one. (Span ids are not compared: a daprd with
 * tracing turned on makes its own child span.)
 */
function traceIdOf(event: Delivery): string | undefined {
  const attribute = String(event.body.traceparent ?? '').match(TRACEPARENT)?.[1];
  const header = String(event.traceparent ?? '').match(TRACEPARENT)?.[1];
  expect(header).toBe(attribute);
  return attribute;
}

describe('observability of sidecar calls on a real daprd', () => {
  let subscriber: Subscriber;
  let daprd: Daprd;
  let app: TestingModule;
  let dapr: DaprClientHelper;
  let registry: Registry;
  const completed: RequestCompletedEvent[] = [];

  beforeAll(async () => {
    subscriber = await startSubscriber('traced');
    daprd = await Daprd.start({ appPort: subscriber.server.port });
    registry = new Registry();
    app = await bootKugelComms({
      dapr: { httpEndpoint: daprd.httpEndpoint, waitForSidecarMs: 5000, retries: 0 },
      metrics: { enabled: true, registry },
    });
    dapr = app.get(DaprClientHelper);
    app.get(KugelCommsEvents).requestCompleted.on((e) => completed.push(e));
  });

  afterAll(async () => {
    await app?.close();
    await daprd?.dispose();
    await subscriber?.server.close();
  });

  /** Publishes `{ n }` and waits for its delivery. */
  async function publishAndReceive(n: number, publish: () => Promise<boolean>) {
    await expect(publish()).resolves.toBe(true);
    await waitUntil(
      async () => subscriber.deliveries.some((e) => (e.body.data as { n?: number })?.n === n),
      10_000,
      `delivery of event ${n}`,
    );
    return subscriber.deliveries.find((e) => (e.body.data as { n?: number })?.n === n)!;
  }

  it('carries a caller-set traceparent through daprd to the subscriber (same trace id)', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const traceparent = `00-${traceId}-00f067aa0ba902b7-01`;
    const event = await publishAndReceive(1, () => dapr.publishEvent('pubsub', 'traced', { n: 1 }, { traceparent }));
    expect(traceIdOf(event)).toBe(traceId);
  });

  it("carries the active OpenTelemetry span's trace id through daprd to the subscriber", async () => {
    const uninstall = installContextManager();
    try {
      const span = newSpanContext();
      const event = await publishAndReceive(2, () =>
        withSpan(span, () => dapr.publishEvent('pubsub', 'traced', { n: 2 })),
      );
      expect(traceIdOf(event)).toBe(span.traceId);
    } finally {
      uninstall();
    }
  });

  it('sends no trace context when there is none (no span active, none set by the caller)', async () => {
    const event = await publishAndReceive(3, () => dapr.publishEvent('pubsub', 'traced', { n: 3 }));
    // this daprd traces nothing itself: an event published without trace context has none
    const traceId = String(event.body.traceparent ?? '').match(TRACEPARENT)?.[1];
    expect(traceId === undefined || /^0+$/.test(traceId)).toBe(true);
  });

  it('counts sidecar calls under service "dapr" with route templates in the events', async () => {
    /** `kugel_comms_requests_total` by "service method status_class" now. */
    const requestsTotal = async () => {
      const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === 'kugel_comms_requests_total');
      return Object.fromEntries(
        (metric?.values ?? []).map((v) => [`${v.labels.service} ${v.labels.method} ${v.labels.status_class}`, v.value]),
      );
    };
    // Counted from here on: what the tests before this one did is left out.
    const countsBefore = await requestsTotal();
    const before = completed.length;
    await expect(dapr.saveState('statestore', 'obs-1', { v: 1 })).resolves.toBe(true);
    await expect(dapr.getState('statestore', 'obs-1')).resolves.toEqual({ v: 1 });
    await expect(dapr.getState('statestore', 'obs-missing')).resolves.toBeNull();
    await expect(dapr.publishEvent('pubsub', 'untraced', { n: 4 })).resolves.toBe(true);
    expect(
      completed.slice(before).map(({ client, method, route, status, outcome }) => ({
        client,
        method,
        route,
        status,
        outcome,
      })),
    ).toEqual([
      { client: 'dapr', method: 'POST', route: '/v1.0/state/:store', status: 204, outcome: 'success' },
      { client: 'dapr', method: 'GET', route: '/v1.0/state/:store/:key', status: 200, outcome: 'success' },
      { client: 'dapr', method: 'GET', route: '/v1.0/state/:store/:key', status: 204, outcome: 'success' },
      { client: 'dapr', method: 'POST', route: '/v1.0/publish/:pubsub/:topic', status: 204, outcome: 'success' },
    ]);
    const countsAfter = await requestsTotal();
    const grown = Object.fromEntries(
      Object.entries(countsAfter)
        .map(([labels, n]) => [labels, n - (countsBefore[labels] ?? 0)])
        .filter(([, n]) => n !== 0),
    );
    // 1 save and 1 publish, 2 gets (one of them a missing key: 204 is a success)
    expect(grown).toEqual({ 'dapr POST 2xx': 2, 'dapr GET 2xx': 2 });
    const gauge = (await registry.getMetricsAsJSON()).find((m) => m.name === 'kugel_comms_circuit_breaker_state')!;
    expect(Object.fromEntries(gauge.values.map((v) => [v.labels.breaker, v.value]))).toEqual({
      'pubsub:pubsub': 0,
      'state:statestore': 0,
    });
  });
});
