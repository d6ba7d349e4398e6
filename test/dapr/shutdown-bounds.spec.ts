import { Injectable } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { DaprEvent, DaprSubscribe, KugelCommsModule, RepublishSource, UndeliveredEvent } from '../../lib';
import { closesWithin, handlesFromNow } from '../support/handles';
import { captureLogs } from '../support/log-capture';
import { waitUntil } from '../support/processes';
import { Daprd } from './daprd';
import { startStack, SubscriptionStack } from './subscription-stack';

/** Slack for a busy 2-core machine on top of each stated bound (docs/operations.md, "How long app.close() can take"). */
const MARGIN_MS = 2_000;
const SHUTDOWN_TIMEOUT_MS = 500;

@Injectable()
class Stuck {
  readonly events: DaprEvent[] = [];

  @DaprSubscribe('pubsub', 'orders', { deadLetterTopic: 'orders-dlq' })
  onOrder(event: DaprEvent): Promise<void> {
    this.events.push(event);
    return new Promise<void>(() => undefined);
  }
}

/**
 * `app.close()` ends within its stated bound while a real daprd is part of the wait: a delivery
 * daprd is waiting on (over its kept-alive connection to the app), and a republish pass whose
 * publish daprd accepted and whose mark in the app's source never ends.
 */
describe('app.close() is bounded with a real daprd', () => {
  let stack: SubscriptionStack | undefined;
  let daprd: Daprd | undefined;
  let moduleRef: TestingModule | undefined;

  afterEach(async () => {
    await stack?.close();
    stack = undefined;
    await moduleRef?.close();
    moduleRef = undefined;
    await daprd?.dispose();
    daprd = undefined;
  });

  it('a delivery daprd waits on, whose handler never ends: RETRY after subscriptions.shutdownTimeoutMs', async () => {
    stack = await startStack({
      providers: [Stuck],
      // No handler timeout: only the shutdown's grace ends the delivery.
      options: { subscriptions: { handlerTimeoutMs: 0, shutdownTimeoutMs: SHUTDOWN_TIMEOUT_MS } },
      subscriptions: 1,
    });
    const stuck = stack.app.app.get(Stuck);
    // The test's own fetch client (undici) keeps its connection to daprd: not the app's.
    const handles = handlesFromNow({ ignore: /undici/ });
    expect(await stack.dapr.publishEvent('pubsub', 'orders', { n: 1 })).toBe(true);
    await waitUntil(async () => stuck.events.length >= 1, 15_000, 'the delivery to reach the handler');

    // The sidecar keeps running and delivering: the app closes on its own.
    await closesWithin(() => stack!.app.close(), SHUTDOWN_TIMEOUT_MS + MARGIN_MS);
    expect(stuck.events[0].signal?.aborted).toBe(true);
    expect(stack.app.handled[0]).toMatchObject({ status: 'RETRY', reason: 'shutdown', handlerRan: true });
    // Nothing of the app is left: the connections daprd kept alive to it are closed.
    expect(await handles.alive(3_000)).toEqual({});
    handles.stop();
  });

  it('a republish pass whose publish daprd accepted and whose markPublished() never ends: abandoned after shutdownTimeoutMs', async () => {
    daprd = await Daprd.start();
    const logs = captureLogs();
    const marked: string[] = [];
    const source: RepublishSource = {
      findUndelivered: async () => [
        { eventId: 'tx-1', pubsub: 'pubsub', topic: 'tranlog', data: { n: 1 }, createdAt: new Date(0) },
      ],
      markPublished: (event: UndeliveredEvent) => {
        marked.push(event.eventId);
        return new Promise<void>(() => undefined);
      },
      markFailed: async () => undefined,
    };
    try {
      moduleRef = await Test.createTestingModule({
        imports: [
          KugelCommsModule.forRoot({ dapr: { httpEndpoint: daprd.httpEndpoint, waitForSidecarMs: 0 } }),
          KugelCommsModule.forRepublisher('tranlog', {
            source,
            firstPassAfterMs: 0,
            minAgeMs: 0,
            shutdownTimeoutMs: SHUTDOWN_TIMEOUT_MS,
          }),
        ],
      }).compile();
      logs.reinstall();
      const handles = handlesFromNow();
      await moduleRef.init();
      await waitUntil(async () => marked.length === 1, 15_000, 'the publish to be accepted and marked');

      await closesWithin(() => moduleRef!.close(), SHUTDOWN_TIMEOUT_MS + MARGIN_MS);
      const warning = logs.logger.lines.find((l) => l.level === 'warn' && l.text.includes('republisher "tranlog"'));
      expect(warning?.text).toMatch(/abandoned while waiting for 1 markPublished\(\)\/markFailed\(\) call\(s\)/);
      // The sidecar client's sockets and the pass's timers are gone.
      expect(await handles.alive(3_000)).toEqual({});
      handles.stop();
    } finally {
      logs.restore();
    }
  });
});
