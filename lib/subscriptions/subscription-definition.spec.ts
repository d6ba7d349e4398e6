import { isInvalidOptionsError } from '../errors/invalid-options.error';
import { isInvalidSubscriptionError } from '../errors/invalid-subscription.error';
import { DaprSubscribeOptions } from './dapr-subscribe.decorator';
import { defineSubscription, groupByTopic, SubscriptionHandler } from './subscription-definition';
import { subscriptionList } from './subscription-list';
import { DEFAULTS } from '../options/defaults';
import { resolveSubscriptionOptions } from '../options/resolve-subscriptions';
import { thrownBy } from '../../test/support/errors';

const OPTIONS = resolveSubscriptionOptions({}, {}, 5_000);
const define = (options: DaprSubscribeOptions = {}, topic = 'orders', name = 'Orders.onOrder', order = 0) =>
  defineSubscription(name, { pubsub: 'pubsub', topic, options }, () => undefined, OPTIONS, order);

describe('subscriptions options', () => {
  it('defaults: routePrefix dapr/events, 30 s handler timeout, 4 MiB bodies, no token, 5 s shutdown grace, idle connections closed', () => {
    expect(OPTIONS).toEqual({
      routePrefix: 'dapr/events',
      appApiToken: undefined,
      handlerTimeoutMs: 30_000,
      maxBodyBytes: 4 * 1024 * 1024,
      shutdownTimeoutMs: 5_000,
      sidecarTimeoutMs: 5_000,
      closeIdleConnections: true,
    });
  });

  it('closeIdleConnections: a boolean, else InvalidOptionsError naming it', () => {
    expect(resolveSubscriptionOptions({ closeIdleConnections: false }, {}, 5_000).closeIdleConnections).toBe(false);
    expect(() => resolveSubscriptionOptions({ closeIdleConnections: 'no' as never }, {}, 5_000)).toThrow(
      /"subscriptions\.closeIdleConnections".*must be true or false/,
    );
  });

  it('reads APP_API_TOKEN from the environment; the option wins', () => {
    expect(resolveSubscriptionOptions({}, { APP_API_TOKEN: 'env-token' }, 5_000).appApiToken).toBe('env-token');
    expect(
      resolveSubscriptionOptions({ appApiToken: 'option' }, { APP_API_TOKEN: 'env-token' }, 5_000).appApiToken,
    ).toBe('option');
  });

  it('trims slashes from the prefix and refuses one that could not be a plain path', () => {
    expect(resolveSubscriptionOptions({ routePrefix: '/in/events/' }, {}, 5_000).routePrefix).toBe('in/events');
    for (const bad of ['', '/', 'a/../b', 'dapr/:topic', 'dapr/subscribe', 'a b']) {
      const error = thrownBy(() => resolveSubscriptionOptions({ routePrefix: bad }, {}, 5_000));
      expect(isInvalidOptionsError(error)).toBe(true);
      expect(error.message).toContain('"subscriptions.routePrefix"');
    }
  });

  it('refuses bad numbers and hides a bad token', () => {
    expect(thrownBy(() => resolveSubscriptionOptions({ handlerTimeoutMs: -1 }, {}, 5_000)).message).toContain(
      '"subscriptions.handlerTimeoutMs"',
    );
    for (const bad of [-1, 1.5, Infinity, '5000']) {
      expect(
        thrownBy(() => resolveSubscriptionOptions({ shutdownTimeoutMs: bad as number }, {}, 5_000)).message,
      ).toContain('"subscriptions.shutdownTimeoutMs"');
    }
    expect(thrownBy(() => resolveSubscriptionOptions({ maxBodyBytes: 0 }, {}, 5_000)).message).toContain(
      '"subscriptions.maxBodyBytes"',
    );
    const token = thrownBy(() => resolveSubscriptionOptions({ appApiToken: 'secret value' }, {}, 5_000));
    expect(token.message).toContain('(value hidden)');
    expect(token.message).not.toContain('secret value');
  });
});

describe('defineSubscription', () => {
  it('routes a handler to /<prefix>/<pubsub>/<topic>, segments percent-encoded', () => {
    expect(define().path).toBe('/dapr/events/pubsub/orders');
    expect(define({}, 'a/b ?#').path).toBe('/dapr/events/pubsub/a%2Fb%20%3F%23');
  });

  it('gives a rule a route of its own, stable across restarts', () => {
    const a = define({ match: 'event.type == "a"' });
    expect(a.path).toMatch(/^\/dapr\/events\/pubsub\/orders\/match-[0-9a-f]{12}$/);
    expect(define({ match: 'event.type == "a"' }).path).toBe(a.path);
    expect(define({ match: 'event.type == "b"' }).path).not.toBe(a.path);
  });

  it('turns metadata values into strings (daprd refuses every subscription otherwise)', () => {
    expect(define({ metadata: { n: 5, on: true, s: 'x' } }).metadata).toEqual({ n: '5', on: 'true', s: 'x' });
  });

  it("takes maxDeliveries as given, 'broker' when absent", () => {
    expect(define().maxDeliveries).toBe('broker');
    expect(define({ maxDeliveries: 5 }).maxDeliveries).toBe(5);
    expect(define({ maxDeliveries: false }).maxDeliveries).toBe(false);
  });

  it('fills bulk and dedupe defaults', () => {
    expect(define({ bulk: true }).bulk).toEqual(DEFAULTS.subscriptions.bulk);
    expect(define({ dedupe: true }).dedupe).toEqual({ ...DEFAULTS.subscriptions.dedupe, key: undefined, transactional: false });
    expect(define({ dedupe: false }).dedupe).toBeUndefined();
  });

  it.each<[string, DaprSubscribeOptions, string]>([
    ['a JSON boolean in metadata', { metadata: { x: {} as never } }, 'metadata.x must be a string'],
    ['rawPayload in metadata', { metadata: { rawPayload: 'true' } }, 'use the rawPayload option'],
    ['a dead-letter topic equal to the topic', { deadLetterTopic: 'orders' }, 'must differ from the topic'],
    ['an empty match', { match: ' ' }, 'match " " must be a non-empty CEL expression'],
    ['bulk.maxMessages 0', { bulk: { maxMessages: 0 } }, 'bulk.maxMessages 0 must be an integer'],
    ['a lease shorter than the timeout', { dedupe: { leaseSec: 5 }, handlerTimeoutMs: 5_000 }, 'dedupe.leaseSec (5 s)'],
    [
      'a lease that outlasts the handler but not the two sidecar writes',
      { dedupe: { leaseSec: 14 }, handlerTimeoutMs: 5_000 },
      'plus two sidecar writes (2 × dapr.timeoutMs = 10000 ms), 15000 ms in all',
    ],
    ['dedupe without timeout or lease', { dedupe: true, handlerTimeoutMs: 0 }, 'needs an explicit leaseSec'],
    ['dedupe on raw payloads without a key', { dedupe: true, rawPayload: true }, 'needs dedupe.key'],
    ['a dedupe store that is no component name', { dedupe: { store: 'a b' } }, 'dedupe.store "a b"'],
    ['a negative handler timeout', { handlerTimeoutMs: -1 }, 'handlerTimeoutMs -1'],
    ['dedupe.transactional with bulk', { dedupe: { transactional: true }, bulk: true }, 'not available with bulk'],
    ['dedupe.transactional not a boolean', { dedupe: { transactional: 'yes' as never } }, 'dedupe.transactional "yes"'],
    ['maxDeliveries 0', { maxDeliveries: 0 }, "maxDeliveries 0 must be a whole number from 1, false or 'broker'"],
    ['maxDeliveries 2.5', { maxDeliveries: 2.5 }, 'maxDeliveries 2.5 must be a whole number'],
    ['maxDeliveries true', { maxDeliveries: true as never }, 'maxDeliveries true must be a whole number'],
  ])('refuses %s, naming the handler', (_what, options, message) => {
    const error = thrownBy(() => define(options));
    expect(isInvalidSubscriptionError(error)).toBe(true);
    expect(error.message).toContain('@DaprSubscribe on Orders.onOrder:');
    expect(error.message).toContain(message);
  });

  it('refuses a pubsub that is not a component name and an empty topic', () => {
    expect(() => defineSubscription('A.b', { pubsub: '', topic: 't', options: {} }, () => 0, OPTIONS, 0)).toThrow(
      /pubsub "" must be a Dapr component name/,
    );
    expect(() => defineSubscription('A.b', { pubsub: 'p', topic: '', options: {} }, () => 0, OPTIONS, 0)).toThrow(
      /topic "" must be a non-empty string/,
    );
  });
});

describe('groupByTopic and the /dapr/subscribe list', () => {
  const h = (name: string, options: DaprSubscribeOptions = {}, topic = 'orders', order = 0): SubscriptionHandler =>
    define(options, topic, name, order);

  it('fails on two handlers for one route, naming both', () => {
    const error = thrownBy(() => groupByTopic([h('A.one'), h('B.two')]));
    expect(isInvalidSubscriptionError(error)).toBe(true);
    expect(error.message).toContain('A.one and B.two both claim pubsub/orders with the default route');
    expect(() => groupByTopic([h('A.one', { match: 'x' }), h('B.two', { match: 'x' })])).toThrow(/the rule "x"/);
  });

  it('fails when the handlers of a topic disagree on what daprd keeps per topic', () => {
    expect(() => groupByTopic([h('A.one', { match: 'x', bulk: true }), h('B.two')])).toThrow(/different "bulk"/);
    expect(() => groupByTopic([h('A.one', { match: 'x', rawPayload: true }), h('B.two')])).toThrow(
      /different "rawPayload"/,
    );
  });

  it('lists one item per topic: route, or rules by priority then discovery order with a default', () => {
    const groups = groupByTopic([
      h('A.fallback', {}, 'orders', 0),
      h('A.late', { match: 'late', priority: 5 }, 'orders', 1),
      h('A.early', { match: 'early', priority: -1 }, 'orders', 2),
      h('A.tie', { match: 'tie', priority: 5 }, 'orders', 3),
      h('B.raw', { rawPayload: true, bulk: { maxMessages: 10, maxAwaitMs: 50 }, deadLetterTopic: 'dlq' }, 'raw', 4),
    ]);
    const list = subscriptionList(groups);
    expect(list[0]).toEqual({
      pubsubname: 'pubsub',
      topic: 'orders',
      routes: {
        rules: ['early', 'late', 'tie'].map((match) => ({ match, path: expect.stringMatching(/\/match-/) })),
        default: '/dapr/events/pubsub/orders',
      },
    });
    expect(list[1]).toEqual({
      pubsubname: 'pubsub',
      topic: 'raw',
      route: '/dapr/events/pubsub/raw',
      metadata: { rawPayload: 'true' },
      deadLetterTopic: 'dlq',
      bulkSubscribe: { enabled: true, maxMessagesCount: 10, maxAwaitDurationMs: 50 },
    });
    // Every metadata value in the answer is a string.
    for (const item of list) for (const v of Object.values(item.metadata ?? {})) expect(typeof v).toBe('string');
  });

  it('leaves out routes.default when every handler of the topic has a rule', () => {
    const [item] = subscriptionList(groupByTopic([h('A.a', { match: 'a' })]));
    expect(item.routes).toEqual({ rules: [{ match: 'a', path: expect.any(String) }] });
  });
});
