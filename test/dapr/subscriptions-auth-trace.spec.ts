import { Injectable } from '@nestjs/common';
import { context, SpanContext, trace } from '@opentelemetry/api';
import { DaprEvent, DaprSubscribe } from '../../lib';
import { installContextManager, installTracerProvider, RecordingTracerProvider } from '../support/otel';
import { waitUntil } from '../support/processes';
import { SECRETS } from '../support/secrets';
import { cloudEvent, PLATFORMS, post } from '../subscriptions/support/subscriber-app';
import { loadedSubscriptions, startStack, SubscriptionStack } from './subscription-stack';

@Injectable()
class Guarded {
  readonly received: Array<DaprEvent<{ n: number }>> = [];

  @DaprSubscribe('pubsub', 'guarded')
  onEvent(event: DaprEvent<{ n: number }>): void {
    this.received.push(event);
  }
}

@Injectable()
class Traced {
  readonly seen: Array<{ n: number; active?: SpanContext; delivered?: string }> = [];

  @DaprSubscribe('pubsub', 'traced')
  async onEvent(event: DaprEvent<{ n: number }>): Promise<void> {
    await new Promise((r) => setTimeout(r, 5)); // the context must survive an await
    this.seen.push({ n: event.data.n, active: trace.getSpanContext(context.active()), delivered: event.traceparent });
  }
}

describe.each(PLATFORMS)('the app token on a real daprd (%s)', (platform) => {
  let stack: SubscriptionStack;

  beforeAll(async () => {
    stack = await startStack({
      providers: [Guarded],
      platform,
      appToken: SECRETS.appApiToken,
      options: { subscriptions: { appApiToken: SECRETS.appApiToken } },
      subscriptions: 1,
    });
  });
  afterAll(() => stack?.close(), 60_000);

  it('daprd sends APP_API_TOKEN as dapr-api-token: subscriptions load and events arrive', async () => {
    expect(await stack.dapr.publishEvent('pubsub', 'guarded', { n: 1 })).toBe(true);
    const guarded = stack.app.app.get(Guarded);
    await waitUntil(async () => guarded.received.length === 1, 10_000, 'the event');
    expect(guarded.received[0].data).toEqual({ n: 1 });
  });

  it('refuses calls without the token or with a wrong one (401), and never calls the handler', async () => {
    const guarded = stack.app.app.get(Guarded);
    const before = guarded.received.length;
    const route = `${stack.app.url}/dapr/events/pubsub/guarded`;
    const event = cloudEvent('evt-no-token', { n: 2 }, 'guarded');
    const type = { 'content-type': 'application/cloudevents+json' };
    expect(await post(route, event, type)).toMatchObject({ status: 401 });
    expect(await post(route, event, { ...type, 'dapr-api-token': `${SECRETS.appApiToken}x` })).toMatchObject({
      status: 401,
    });
    expect(await post(route, event, { ...type, 'dapr-api-token': SECRETS.appApiToken.slice(0, -1) })).toMatchObject({
      status: 401,
    });
    expect((await fetch(`${stack.app.url}/dapr/subscribe`)).status).toBe(401);
    expect(guarded.received.length).toBe(before);
    expect(await post(route, event, { ...type, 'dapr-api-token': SECRETS.appApiToken })).toEqual({
      status: 200,
      body: { status: 'SUCCESS' },
    });
    expect(guarded.received.length).toBe(before + 1);
  });
});

describe('an app that requires a token its daprd does not send', () => {
  let stack: SubscriptionStack;

  beforeAll(async () => {
    stack = await startStack({
      providers: [Guarded],
      options: { subscriptions: { appApiToken: SECRETS.appApiToken } },
      subscriptions: 0,
    });
  });
  afterAll(() => stack?.close(), 60_000);

  it('gets no subscriptions loaded (GET /dapr/subscribe is refused) and no events', async () => {
    // daprd asked once, got 401 and loaded nothing; a publish reaches no handler.
    await waitUntil(
      async () => (await fetch(`${stack.daprd.httpEndpoint}/v1.0/healthz`)).status === 204,
      10_000,
      'daprd',
    );
    expect(await loadedSubscriptions(stack.daprd)).toEqual([]);
    expect(await stack.dapr.publishEvent('pubsub', 'guarded', { n: 1 })).toBe(true);
    await new Promise((r) => setTimeout(r, 1000));
    expect(stack.app.app.get(Guarded).received).toEqual([]);
  });
});

describe("the handler runs in the event's trace context (real daprd)", () => {
  let stack: SubscriptionStack;
  let provider: RecordingTracerProvider;
  let uninstall: Array<() => void>;

  beforeAll(async () => {
    const tracer = installTracerProvider();
    provider = tracer.provider;
    uninstall = [installContextManager(), tracer.uninstall];
    stack = await startStack({ providers: [Traced], platform: 'fastify', subscriptions: 1 });
  });
  afterAll(async () => {
    await stack?.close();
    for (const u of uninstall ?? []) u();
  }, 60_000);

  it("a publisher's traceparent is the parent of the handler's span", async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const publisherSpan = 'b7ad6b7169203331';
    expect(
      await stack.dapr.publishEvent('pubsub', 'traced', { n: 1 }, { traceparent: `00-${traceId}-${publisherSpan}-01` }),
    ).toBe(true);
    const traced = stack.app.app.get(Traced);
    await waitUntil(async () => traced.seen.length === 1, 10_000, 'the traced event');
    const [seen] = traced.seen;
    // The delivery carries the publisher's trace.
    const delivered = seen.delivered!.split('-');
    expect(delivered[1]).toBe(traceId);
    // The handler's active span is a new span of that trace, child of the delivered context.
    const span = provider.spans.find((s) => s.name === 'traced process')!;
    expect(span).toBeDefined();
    expect(span.parent).toMatchObject({ traceId, spanId: delivered[2], isRemote: true });
    expect(seen.active).toMatchObject({ traceId, spanId: span.context.spanId });
    expect(span.attributes).toMatchObject({ 'messaging.system': 'dapr', 'messaging.destination.name': 'traced' });
    expect(span.ended).toBe(true);
  });
});
