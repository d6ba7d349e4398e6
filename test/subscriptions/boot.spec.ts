import { Injectable, Scope } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  DaprEvent,
  DaprSubscribe,
  isInvalidOptionsError,
  isInvalidSubscriptionError,
  KugelCommsModule,
} from '../../lib';
import { SubscriptionsService } from '../../lib/subscriptions/subscriptions.service';
import { captureLogs } from '../support/log-capture';
import { SECRETS } from '../support/secrets';
import { cloudEvent, post, startSubscriberApp, SubscriberApp } from './support/subscriber-app';

@Injectable()
class FirstConsumer {
  @DaprSubscribe('pubsub', 'orders')
  onOrder(): void {}
}

@Injectable()
class SecondConsumer {
  @DaprSubscribe('pubsub', 'orders')
  onOrder(): void {}
}

@Injectable()
class Routed {
  readonly seen: string[] = [];

  @DaprSubscribe('pubsub', 'orders', { match: 'event.type == "order.cancelled"', priority: 2, deadLetterTopic: 'dlq' })
  onCancelled(e: DaprEvent): void {
    this.seen.push(`cancelled:${e.id}`);
  }

  @DaprSubscribe('pubsub', 'orders', { match: 'event.type == "order.created"', priority: 1, deadLetterTopic: 'dlq' })
  onCreated(e: DaprEvent): void {
    this.seen.push(`created:${e.id}`);
  }

  @DaprSubscribe('pubsub', 'orders', { deadLetterTopic: 'dlq' })
  onOther(e: DaprEvent): void {
    this.seen.push(`other:${e.id}`);
  }

  @DaprSubscribe('pubsub', 'audit-a', { deadLetterTopic: 'dlq' })
  @DaprSubscribe('pubsub', 'audit-b', { deadLetterTopic: 'dlq' })
  onAudit(e: DaprEvent): void {
    this.seen.push(`audit:${e.topic}`);
  }
}

@Injectable()
class DisagreeingA {
  @DaprSubscribe('pubsub', 'shared', { match: 'event.type == "a"', deadLetterTopic: 'dlq-a' })
  onA(): void {}
}

@Injectable()
class DisagreeingB {
  @DaprSubscribe('pubsub', 'shared', { match: 'event.type == "b"', deadLetterTopic: 'dlq-b' })
  onB(): void {}
}

@Injectable({ scope: Scope.REQUEST })
class PerRequest {
  @DaprSubscribe('pubsub', 'orders')
  onOrder(): void {}
}

@Injectable()
class ShortLease {
  @DaprSubscribe('pubsub', 'orders', { dedupe: { leaseSec: 10 } })
  onOrder(): void {}
}

@Injectable()
class NoHandlers {}

async function bootError(providers: Array<new () => unknown>, options = {}): Promise<Error> {
  try {
    const app = await startSubscriberApp({ providers, options });
    await app.close();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the boot to fail');
}

describe('@DaprSubscribe at boot', () => {
  it('two handlers claiming the same pubsub/topic/route fail the boot, naming both', async () => {
    const error = await bootError([FirstConsumer, SecondConsumer]);
    expect(isInvalidSubscriptionError(error)).toBe(true);
    expect(error.message).toContain('FirstConsumer.onOrder and SecondConsumer.onOrder both claim pubsub/orders');
  });

  it('handlers of one topic that disagree on its dead-letter topic fail the boot, naming both', async () => {
    const error = await bootError([DisagreeingA, DisagreeingB]);
    expect(isInvalidSubscriptionError(error)).toBe(true);
    expect(error.message).toMatch(/DisagreeingA\.onA and DisagreeingB\.onB .*different "deadLetterTopic"/);
  });

  it('a handler on a request-scoped provider fails the boot', async () => {
    const error = await bootError([PerRequest]);
    expect(error.message).toContain('PerRequest.onOrder: the class is request-scoped');
  });

  it('a dedupe lease no longer than the handler timeout fails the boot, naming the handler', async () => {
    const error = await bootError([ShortLease]);
    expect(error.message).toContain(
      '@DaprSubscribe on ShortLease.onOrder: dedupe.leaseSec (10 s) must be longer than the handler timeout (30000 ms)',
    );
  });

  it('bad module options fail the boot naming the option; a token value is never shown', async () => {
    const prefix = await bootError([Routed], { subscriptions: { routePrefix: 'dapr/{events}' } });
    expect(isInvalidOptionsError(prefix)).toBe(true);
    expect(prefix.message).toContain('"subscriptions.routePrefix"');
    const token = await bootError([Routed], { subscriptions: { appApiToken: `${SECRETS.appApiToken}\n` } });
    expect(token.message).toContain('"subscriptions.appApiToken"');
    expect(token.message).not.toContain(SECRETS.appApiToken);
  });

  describe('routing rules: several handlers on one topic', () => {
    let app: SubscriberApp;
    beforeAll(async () => {
      app = await startSubscriberApp({
        providers: [Routed],
        options: { subscriptions: { routePrefix: '/events/in/' } },
      });
    });
    afterAll(() => app?.close());

    it('lists the rules in priority order and the handler without a rule as the default', async () => {
      const list = (await (await fetch(`${app.url}/dapr/subscribe`)).json()) as Array<Record<string, any>>;
      const orders = list.find((s) => s.topic === 'orders')!;
      expect(orders.route).toBeUndefined();
      expect(orders.routes.rules.map((r: { match: string }) => r.match)).toEqual([
        'event.type == "order.created"',
        'event.type == "order.cancelled"',
      ]);
      expect(orders.routes.default).toBe('/events/in/pubsub/orders');
      for (const rule of orders.routes.rules)
        expect(rule.path).toMatch(/^\/events\/in\/pubsub\/orders\/match-[0-9a-f]{12}$/);
      expect(list.map((s) => s.topic).sort()).toEqual(['audit-a', 'audit-b', 'orders']);
      expect(app.app.get(SubscriptionsService).subscriptions).toEqual(list);
    });

    it('each rule path reaches its own handler; one method may subscribe to two topics', async () => {
      const list = (await (await fetch(`${app.url}/dapr/subscribe`)).json()) as Array<Record<string, any>>;
      const [created, cancelled] = list.find((s) => s.topic === 'orders')!.routes.rules;
      expect((await post(`${app.url}${created.path}`, cloudEvent('c1', {}))).body).toEqual({ status: 'SUCCESS' });
      expect((await post(`${app.url}${cancelled.path}`, cloudEvent('x1', {}))).body).toEqual({ status: 'SUCCESS' });
      expect((await post(`${app.url}/events/in/pubsub/orders`, cloudEvent('o1', {}))).body).toEqual({
        status: 'SUCCESS',
      });
      expect((await post(`${app.url}/events/in/pubsub/audit-b`, cloudEvent('a1', {}, 'audit-b'))).body).toEqual({
        status: 'SUCCESS',
      });
      expect(app.app.get(Routed).seen).toEqual(['created:c1', 'cancelled:x1', 'other:o1', 'audit:audit-b']);
    });
  });

  it('an app without handlers serves no subscription routes', async () => {
    const app = await startSubscriberApp({ providers: [NoHandlers] });
    try {
      expect((await fetch(`${app.url}/dapr/subscribe`)).status).toBe(404);
      expect(app.app.get(SubscriptionsService).subscriptions).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('says at boot which subscriptions have no dead-letter topic', async () => {
    const logs = captureLogs();
    try {
      const moduleRef = await Test.createTestingModule({
        imports: [KugelCommsModule.forRoot({ dapr: { waitForSidecarMs: 0 } })],
        providers: [FirstConsumer],
      }).compile();
      logs.reinstall();
      const app = moduleRef.createNestApplication();
      await app.init();
      await app.close();
      expect(logs.logger.lines).toContainEqual({
        level: 'warn',
        text: expect.stringContaining(
          '[SubscriptionsService] no deadLetterTopic on pubsub/orders: a RETRY or DROP answer is only as good as daprd',
        ),
      });
    } finally {
      logs.restore();
    }
  });

  it('a module without an HTTP server (an application context) warns and boots', async () => {
    const logs = captureLogs();
    try {
      const moduleRef = await Test.createTestingModule({
        imports: [KugelCommsModule.forRootAsync({ useFactory: () => ({ dapr: { waitForSidecarMs: 0 } }) })],
        providers: [FirstConsumer],
      }).compile();
      logs.reinstall();
      await moduleRef.init();
      await moduleRef.close();
      expect(logs.logger.text()).toContain('1 @DaprSubscribe handler(s) found but the app has no HTTP server');
    } finally {
      logs.restore();
    }
  });
});
