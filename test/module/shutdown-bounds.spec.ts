import { INestApplicationContext, Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import * as http from 'node:http';
import {
  DaprClientHelper,
  DaprEvent,
  DaprSubscribe,
  EventHandledEvent,
  HttpClientHelper,
  KugelCommsEvents,
  KugelCommsModule,
  KugelCommsModuleOptions,
  RepublishSource,
  UndeliveredEvent,
} from '../../lib';
import { SubscriptionsService } from '../../lib/subscriptions/subscriptions.service';
import { KugelCommsTesting, KugelCommsTestingModule } from '../../lib/testing';
import { closesWithin, handlesFromNow } from '../support/handles';
import { captureLogs } from '../support/log-capture';
import { startSilentTcpServer, startTestServer } from '../support/test-server';
import { cloudEvent, PLATFORMS, startSubscriberApp } from '../subscriptions/support/subscriber-app';

/** Slack for a busy 2-core machine on top of each stated bound (docs/operations.md, "How long app.close() can take"). */
const MARGIN_MS = 2_000;
/** Time a handle gets to be destroyed after the close before it counts as left behind. */
const GRACE_MS = 3_000;

async function boot(options: KugelCommsModuleOptions, imports: object[] = []): Promise<INestApplicationContext> {
  const moduleRef = await Test.createTestingModule({
    imports: [KugelCommsModule.forRoot(options), ...(imports as [])],
  }).compile();
  await moduleRef.init();
  return moduleRef;
}

/** Waits (10 ms steps) until `predicate()` holds; rejects after `timeoutMs`. */
async function until(predicate: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * `app.close()` ends within its stated bound while the module waits on the network or on the
 * app's code at start-up or shutdown, and leaves no timer or socket of that wait behind. Each case
 * is a real app (a testing module, or a Nest HTTP app on port 0) against a real server that does
 * not answer, and follows the handles created from the boot on (async_hooks, `handlesFromNow`).
 */
describe('app.close() is bounded while the module waits on the network or the app', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  let handles: ReturnType<typeof handlesFromNow> | undefined;

  afterEach(async () => {
    handles?.stop();
    handles = undefined;
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('the start-up wait for a sidecar that accepts and never answers: close() ends it at once; a call it held is answered, not sent', async () => {
    const silent = await startSilentTcpServer();
    cleanups.push(() => silent.close());
    handles = handlesFromNow();
    const app = await boot({ dapr: { httpEndpoint: silent.url, waitForSidecarMs: 60_000 } });
    cleanups.push(() => app.close());
    await silent.waitFor(() => silent.open === 1, 'the first probe of the sidecar');
    // Held until the wait for the sidecar ends.
    const held = app.get(DaprClientHelper).detailed.publishEvent('pubsub', 'orders', { n: 1 });

    await closesWithin(() => app.close(), MARGIN_MS);
    await expect(held).resolves.toMatchObject({ ok: false, code: 'ERR_CLIENT_CLOSED' });
    await silent.waitFor(() => silent.open === 0, 'the probe connection to close');
    expect(silent.accepted).toBe(1);
    expect(await handles.alive(GRACE_MS)).toEqual({});
    // The probe's deadline and the pause between probes were cleared, not left to run out.
    expect(handles.timersFired()).toBe(0);
  });

  it('refuses a sidecar wait without a bound a timer can hold (InvalidOptionsError naming it)', async () => {
    const app = await boot({ dapr: { waitForSidecarMs: 0 } });
    cleanups.push(() => app.close());
    const dapr = app.get(DaprClientHelper);
    for (const bad of [Infinity, -1, 2 ** 31]) {
      await expect(dapr.waitForSidecar(bad)).rejects.toMatchObject({
        name: 'InvalidOptionsError',
        option: 'waitForSidecar(timeoutMs)',
      });
    }
    // A probe's timeout that is not a finite value from 1 ms up takes the default instead
    // (test/health/probe-bounds.spec.ts).
  });

  it('the start-up wait between two probes of a sidecar not ready yet: close() ends it, its pause cleared', async () => {
    const notReady = await startTestServer((_req, res) => res.writeHead(500).end());
    cleanups.push(() => notReady.close());
    handles = handlesFromNow();
    const app = await boot({ dapr: { httpEndpoint: notReady.url, waitForSidecarMs: 60_000 } });
    cleanups.push(() => app.close());
    await until(() => notReady.requests.length >= 2, 'two probes');

    await closesWithin(() => app.close(), MARGIN_MS);
    const probes = notReady.requests.length;
    expect(await handles.alive(GRACE_MS)).toEqual({});
    expect(handles.timersFired()).toBe(0);
    expect(notReady.requests.length).toBe(probes);
  });

  it('a REST call in flight to a peer that never answers: close() cuts it, and its retry is never sent', async () => {
    const silent = await startSilentTcpServer();
    cleanups.push(() => silent.close());
    handles = handlesFromNow();
    const app = await boot({
      services: { peer: silent.url },
      dapr: { waitForSidecarMs: 0 },
      http: { timeoutMs: 60_000, retries: 3 },
    });
    cleanups.push(() => app.close());
    const call = app
      .get(HttpClientHelper)
      .getServiceClient('peer')
      .get('/items')
      .catch((e: unknown) => e);
    await silent.waitFor(() => silent.open === 1, 'the call to connect');

    await closesWithin(() => app.close(), MARGIN_MS);
    // Its socket was destroyed; the retry that follows (a GET may go again) is refused unsent.
    expect(await call).toMatchObject({ name: 'HttpClientError', code: 'ERR_CANCELED' });
    expect(await handles.alive(GRACE_MS)).toEqual({});
    expect(silent.accepted).toBe(1);
  });

  it('a republish pass stuck in the source: close() gives it shutdownTimeoutMs, then logs what it abandoned', async () => {
    const logs = captureLogs();
    cleanups.push(async () => logs.restore());
    let asked = 0;
    const source: RepublishSource = {
      findUndelivered: () => {
        asked += 1;
        return new Promise<UndeliveredEvent[]>(() => undefined);
      },
      markPublished: async () => undefined,
      markFailed: async () => undefined,
    };
    const shutdownTimeoutMs = 500;
    handles = handlesFromNow();
    const moduleRef = await Test.createTestingModule({
      imports: [
        KugelCommsModule.forRoot({ dapr: { waitForSidecarMs: 0 } }),
        KugelCommsModule.forRepublisher('stuck', { source, firstPassAfterMs: 0, shutdownTimeoutMs }),
      ],
    }).compile();
    logs.reinstall();
    await moduleRef.init();
    cleanups.push(() => moduleRef.close());
    await until(() => asked === 1, 'the pass to ask the source');

    await closesWithin(() => moduleRef.close(), shutdownTimeoutMs + MARGIN_MS);
    const warning = logs.logger.lines.find((l) => l.level === 'warn' && l.text.includes('republisher "stuck"'));
    expect(warning?.text).toMatch(
      /did not end within 500 ms \(shutdownTimeoutMs\); abandoned while waiting for the source's findUndelivered\(\)/,
    );
    expect(await handles.alive(GRACE_MS)).toEqual({});
    expect(asked).toBe(1);
  });

  describe.each(PLATFORMS)('a delivery whose handler never ends (%s)', (platform) => {
    @Injectable()
    class Stuck {
      readonly events: DaprEvent[] = [];

      @DaprSubscribe('pubsub', 'orders', { deadLetterTopic: 'orders-dlq' })
      onOrder(event: DaprEvent): Promise<void> {
        this.events.push(event);
        return new Promise<void>(() => undefined);
      }
    }

    it('close() answers it RETRY after subscriptions.shutdownTimeoutMs, its signal aborted', async () => {
      const shutdownTimeoutMs = 500;
      handles = handlesFromNow();
      const sub = await startSubscriberApp({
        platform,
        providers: [Stuck],
        // No handler timeout: only the shutdown's grace ends the delivery.
        options: { dapr: { waitForSidecarMs: 0 }, subscriptions: { handlerTimeoutMs: 0, shutdownTimeoutMs } },
      });
      cleanups.push(() => sub.close());
      const stuck = sub.app.get(Stuck);
      const answer = postOnce(`${sub.url}/dapr/events/pubsub/orders`, cloudEvent('stuck-1', {}));
      await until(() => stuck.events.length === 1, 'the handler to run');

      await closesWithin(() => sub.close(), shutdownTimeoutMs + MARGIN_MS);
      await expect(answer).resolves.toEqual({ status: 200, body: { status: 'RETRY' } });
      expect(stuck.events[0].signal?.aborted).toBe(true);
      expect(stuck.events[0].signal?.reason).toMatchObject({ name: 'AbortError' });
      expect(sub.handled).toEqual([
        expect.objectContaining({ id: 'stuck-1', status: 'RETRY', reason: 'shutdown', handlerRan: true }),
      ]);
      expect(await handles.alive(GRACE_MS)).toEqual({});
    });
  });
});

describe('deliveries after the shutdown grace', () => {
  @Injectable()
  class Deduped {
    readonly seen: string[] = [];

    @DaprSubscribe('pubsub', 'orders', { deadLetterTopic: 'orders-dlq', dedupe: true })
    onOrder(event: DaprEvent): void {
      this.seen.push(event.id);
    }
  }

  it('are answered RETRY without running the handler or taking a dedupe claim', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        KugelCommsModule.forRoot({ subscriptions: { shutdownTimeoutMs: 0 } }),
        KugelCommsTestingModule.forRoot(),
      ],
      providers: [Deduped],
    }).compile();
    await moduleRef.init();
    try {
      const kugel = moduleRef.get(KugelCommsTesting);
      const handled: EventHandledEvent[] = [];
      moduleRef.get(KugelCommsEvents).eventHandled.on((e) => handled.push(e));
      expect(await kugel.dapr.deliver('pubsub', 'orders', { n: 1 }, { id: 'before' })).toMatchObject({
        status: 'SUCCESS',
      });
      const claims = Object.keys(kugel.dapr.state()).length;
      expect(claims).toBeGreaterThan(0); // the claim and done mark of the first
      // The grace is over (nothing in flight: at once); the HTTP server would close next.
      await moduleRef.get(SubscriptionsService).beforeApplicationShutdown();

      expect(await kugel.dapr.deliver('pubsub', 'orders', { n: 2 }, { id: 'after' })).toMatchObject({
        status: 'RETRY',
      });
      expect(moduleRef.get(Deduped).seen).toEqual(['before']);
      // No sidecar call for it: no claim was taken (and released again).
      expect(handled.find((e) => e.id === 'after')).toMatchObject({
        status: 'RETRY',
        reason: 'shutdown',
        handlerRan: false,
        dedupeCalls: 0,
      });
      expect(Object.keys(kugel.dapr.state())).toHaveLength(claims);
    } finally {
      await moduleRef.close();
    }
  });
});

/** One POST on its own connection (closed after the answer), as daprd would deliver an event. */
function postOnce(url: string, body: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/cloudevents+json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
