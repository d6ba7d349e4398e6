import { TestingModule } from '@nestjs/testing';
import * as net from 'node:net';
import {
  CircuitBreakerHealthIndicator,
  CircuitBreakerRegistry,
  isRealtimeError,
  KugelCommsModuleOptions,
  RealtimeClient,
  RealtimeConnection,
  RealtimeConnectOptions,
  RealtimeError,
  RealtimeReconnectEvent,
} from '../../lib';
import { bootKugelComms } from '../support/module-fixture';
import { closedPort } from '../support/test-server';
import { nextEvent, WsTestServer, WsTestServerOptions } from '../support/ws-server';

/** The outcome of a send, as the caller sees it. */
async function outcome(p: Promise<void>): Promise<'sent' | RealtimeError> {
  try {
    await p;
    return 'sent';
  } catch (error) {
    if (isRealtimeError(error)) return error;
    throw error;
  }
}

/**
 * Reconnect, heartbeat, send buffer and breaker on real `ws` servers. Every wait is for an event
 * (a connection opened, a close, a message at the server), bounded by a generous deadline.
 */
describe('RealtimeConnection: staying connected', () => {
  const apps: TestingModule[] = [];
  const servers: WsTestServer[] = [];
  const connections: RealtimeConnection[] = [];

  async function setup(
    serverOptions: WsTestServerOptions = {},
    options: KugelCommsModuleOptions = {},
  ): Promise<{ server: WsTestServer; client: RealtimeClient; app: TestingModule }> {
    const server = await WsTestServer.start(serverOptions);
    servers.push(server);
    const app = await bootKugelComms({
      services: { peer: server.url },
      ...options,
      realtime: { reconnect: { initialDelayMs: 20, maxDelayMs: 200, jitter: 0 }, ...options.realtime },
    });
    apps.push(app);
    return { server, client: app.get(RealtimeClient), app };
  }
  const connect = (client: RealtimeClient, options?: RealtimeConnectOptions, service = 'peer') => {
    const c = client.connect(service, '/ws', options);
    connections.push(c);
    return c;
  };

  afterEach(async () => {
    await Promise.all(connections.splice(0).map((c) => c.close()));
    await Promise.all(apps.splice(0).map((a) => a.close()));
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  it('reconnects after the peer restarts on the same port; what was sent meanwhile arrives after, in order', async () => {
    const { server, client } = await setup();
    const c = connect(client);
    await c.waitForOpen();
    await Promise.all([c.send('a'), c.send('b')]);
    const closed = nextEvent(c.onClose, 'the drop');
    await server.stop();
    expect((await closed).code).toBe(1006);
    const whileDown = ['c', 'd', 'e'].map((m) => c.send(m));
    expect(['reconnecting', 'connecting']).toContain(c.state);
    const reopened = nextEvent(c.onOpen, 'the reconnect');
    await server.restart();
    expect(await reopened).toMatchObject({ reconnected: true });
    expect(await Promise.all(whileDown.map(outcome))).toEqual(['sent', 'sent', 'sent']);
    expect(server.perConnection).toEqual([
      ['a', 'b'],
      ['c', 'd', 'e'],
    ]);
  });

  it('re-sends, first and in order, what was written but not confirmed when the peer died', async () => {
    const { server, client } = await setup();
    const c = connect(client);
    await c.waitForOpen();
    // Written in this turn of the event loop; the receipt ping would follow in the next one.
    const burst = ['m1', 'm2', 'm3'].map((m) => c.send(m));
    await server.stop();
    const later = c.send('m4');
    await server.restart();
    expect(await Promise.all([...burst, later].map(outcome))).toEqual(['sent', 'sent', 'sent', 'sent']);
    // At-least-once: the first connection may or may not have read them; the second one gets them all, in order.
    expect(server.perConnection.at(-1)).toEqual(['m1', 'm2', 'm3', 'm4']);
  });

  it('with resendUnconfirmed: false, they are rejected ERR_NOT_CONFIRMED (written: true) instead', async () => {
    const { server, client } = await setup();
    const c = connect(client, { resendUnconfirmed: false });
    await c.waitForOpen();
    const burst = ['m1', 'm2'].map((m) => c.send(m));
    await server.stop();
    const results = await Promise.all(burst.map(outcome));
    for (const r of results) {
      expect(r).toMatchObject({ code: 'ERR_NOT_CONFIRMED', written: true });
    }
    const reopened = nextEvent(c.onOpen, 'the reconnect');
    await server.restart();
    await reopened;
    await c.send('after');
    expect(server.perConnection.at(-1)).toEqual(['after']);
  });

  it('a full send buffer refuses the next message at once; the held ones arrive after the reconnect', async () => {
    const { server, client } = await setup();
    const c = connect(client, { sendBufferSize: 3 });
    await c.waitForOpen();
    const closed = nextEvent(c.onClose, 'the drop');
    await server.stop();
    await closed;
    const held = ['h1', 'h2', 'h3'].map((m) => c.send(m));
    const refused = await outcome(c.send('h4'));
    expect(refused).toMatchObject({ code: 'ERR_SEND_BUFFER_FULL', written: false });
    expect((refused as RealtimeError).message).toContain('send buffer full (3 messages');
    expect(c.snapshot()).toMatchObject({ waiting: 3, unconfirmed: 0 });
    await server.restart();
    expect(await Promise.all(held.map(outcome))).toEqual(['sent', 'sent', 'sent']);
    expect(server.perConnection.at(-1)).toEqual(['h1', 'h2', 'h3']);
  });

  it('detects a peer that stops answering pings without closing, drops it and reconnects', async () => {
    const { server, client } = await setup({ autoPong: false });
    const c = connect(client, { heartbeatIntervalMs: 100, heartbeatTimeoutMs: 300 });
    await c.waitForOpen();
    const error = await nextEvent(c.onError, 'the heartbeat timeout');
    expect(error.code).toBe('ERR_HEARTBEAT_TIMEOUT');
    const closed = await nextEvent(c.onClose, 'the close after the heartbeat timeout');
    expect(closed).toMatchObject({ wasOpen: true, willReconnect: true, error: 'ERR_HEARTBEAT_TIMEOUT', code: 1006 });
    await nextEvent(c.onOpen, 'the reconnect');
    expect(server.handshakes.length).toBe(2);
  });

  it('detects a peer whose process hangs (it stops reading its socket)', async () => {
    const { client } = await setup({ onConnection: (_ws, _req, raw) => raw.pause() });
    const c = connect(client, { heartbeatIntervalMs: 100, heartbeatTimeoutMs: 300 });
    await c.waitForOpen();
    const sent = c.send('into the void');
    expect((await nextEvent(c.onError, 'the heartbeat timeout')).code).toBe('ERR_HEARTBEAT_TIMEOUT');
    // Not confirmed, so it is re-sent on the next connection (which the hung peer also stops reading).
    expect(c.snapshot().waiting + c.snapshot().unconfirmed).toBe(1);
    await c.close();
    expect(await outcome(sent)).toMatchObject({ code: 'ERR_CONNECTION_CLOSED', written: true });
  });

  it('backs off a peer that accepts and closes at once; a stable connection starts again from the first step', async () => {
    let refuse = true;
    const { server, client } = await setup({
      onConnection: (ws) => {
        if (refuse) ws.close(1008, 'Authentication failed');
      },
    });
    const c = connect(client, { reconnect: { resetAfterMs: 300 } });
    const delays: number[] = [];
    c.onReconnect.on((e) => delays.push(e.delayMs));
    const closes: number[] = [];
    c.onClose.on((e) => closes.push(e.code));
    await nextEvent(c.onReconnect, 'the fourth reconnect', (e) => e.attempt >= 5);
    // Each attempt opened (a handshake success), yet the delay grows: none stayed open for resetAfterMs.
    expect(delays.slice(0, 4)).toEqual([20, 40, 80, 160]);
    expect(closes.slice(0, 4)).toEqual([1008, 1008, 1008, 1008]);
    refuse = false;
    await nextEvent(c.onOpen, 'an accepted connection', (e) => e.reconnected);
    // A lower bound, not a race: the connection must have been open for more than resetAfterMs.
    await new Promise((r) => setTimeout(r, 400));
    const next = nextEvent(c.onReconnect, 'the reconnect after a stable connection');
    for (const ws of server.sockets) ws.terminate();
    expect((await next).delayMs).toBe(20);
  });

  it('the breaker stops attempts at a dead peer: no socket is opened while it is open', async () => {
    const port = await closedPort();
    const { app, client } = await setup(
      {},
      {
        services: { dead: `http://127.0.0.1:${port}` },
        realtime: { breaker: { failureThreshold: 3, resetTimeoutMs: 60_000 } },
      },
    );
    const c = connect(client, {}, 'dead');
    const refused: RealtimeReconnectEvent = await nextEvent(
      c.onReconnect,
      'an attempt refused by the breaker',
      (e) => e.reason === 'circuit-open',
    );
    // Held back until the breaker lets a trial through, not hammering on the backoff's 20 ms steps.
    expect(refused.delayMs).toBeGreaterThan(55_000);
    expect(app.get(CircuitBreakerRegistry).find('ws:dead')?.state).toBe('open');
    // Reported by default; down where the check lists it as critical.
    const indicator = app.get(CircuitBreakerHealthIndicator);
    expect(indicator.isHealthy()['circuit-breakers']).toMatchObject({
      status: 'up',
      breakers: { 'ws:dead': { state: 'open', critical: false } },
    });
    const health = indicator.isHealthy('circuit-breakers', { criticalBreakers: ['ws:dead'] });
    expect(health['circuit-breakers']).toMatchObject({ status: 'down', breakers: { 'ws:dead': { state: 'open' } } });

    // The port comes alive: a listener counts connections while new connections to the peer are refused.
    let accepted = 0;
    const listener = net.createServer((s) => {
      accepted += 1;
      s.destroy();
    });
    await new Promise<void>((r) => listener.listen(port, '127.0.0.1', r));
    try {
      const second = connect(client, {}, 'dead');
      const error = await nextEvent(second.onError, 'the refusal');
      expect(error.code).toBe('ERR_CIRCUIT_OPEN');
      await second.close();
      expect(accepted).toBe(0);
      // Control: the listener does count.
      await new Promise<void>((resolve, reject) =>
        net.connect(port, '127.0.0.1').once('connect', resolve).once('error', reject),
      );
      await new Promise((r) => setImmediate(r));
      expect(accepted).toBe(1);
    } finally {
      await new Promise((r) => listener.close(r));
    }
  });
});
