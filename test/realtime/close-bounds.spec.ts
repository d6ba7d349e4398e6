import { TestingModule } from '@nestjs/testing';
import { Duplex } from 'node:stream';
import { isRealtimeError, RealtimeClient, RealtimeConnection, RealtimeError } from '../../lib';
import { closesWithin, handlesFromNow } from '../support/handles';
import { bootKugelComms } from '../support/module-fixture';
import { closedPort, SilentTcpServer, startSilentTcpServer } from '../support/test-server';
import { nextEvent, WsTestServer } from '../support/ws-server';

/** Slack for a busy 2-core machine on top of each stated bound (docs/operations.md, "How long app.close() can take"). */
const MARGIN_MS = 2_000;
/** Time a handle of a closed connection gets to be destroyed before it counts as left behind. */
const GRACE_MS = 3_000;

/** A promise that never settles, and how many times the function giving it was called. */
function neverSettling(): { fn: () => Promise<string>; calls: () => number } {
  let calls = 0;
  return {
    fn: () => {
      calls += 1;
      return new Promise<string>(() => undefined);
    },
    calls: () => calls,
  };
}

/**
 * `app.close()` ends within its stated bound in every state a real-time connection can be in, and
 * leaves no timer or socket of it behind. Each case boots a real app (a testing module with
 * `KugelCommsModule`), a real peer on port 0 (or a port nothing listens on), and follows the
 * handles created from the first `connect()` (async_hooks, see `handlesFromNow`).
 */
describe('RealtimeClient: app.close() is bounded in every state', () => {
  let app: TestingModule | undefined;
  let handles: ReturnType<typeof handlesFromNow> | undefined;
  const cleanups: Array<() => Promise<void>> = [];

  afterEach(async () => {
    handles?.stop();
    handles = undefined;
    await app?.close();
    app = undefined;
    for (const c of cleanups.splice(0)) await c();
  });

  async function boot(services: Record<string, string>, realtime: object = {}): Promise<RealtimeClient> {
    app = await bootKugelComms({ services, dapr: { waitForSidecarMs: 0 }, realtime });
    handles = handlesFromNow();
    return app.get(RealtimeClient);
  }

  async function expectNothingLeft(): Promise<void> {
    expect(await handles!.alive(GRACE_MS)).toEqual({});
  }

  it('a credential function that never settles: the attempt fails with ERR_HANDSHAKE_TIMEOUT and the backoff goes on', async () => {
    const server = await WsTestServer.start();
    cleanups.push(() => server.close());
    const client = await boot({ peer: server.url }, { handshakeTimeoutMs: 300, reconnect: { initialDelayMs: 50 } });
    const bearer = neverSettling();
    const c = client.connect('peer', '/ws', { auth: { bearer: bearer.fn } });
    const errors: RealtimeError[] = [];
    c.onError.on((e) => errors.push(e));

    const first = await nextEvent(c.onReconnect, 'the first failed attempt');
    expect(first).toMatchObject({ attempt: 1, reason: 'error' });
    expect(errors[0]).toMatchObject({ code: 'ERR_HANDSHAKE_TIMEOUT' });
    expect(errors[0].message).toMatch(/credentials .* not made within 300 ms/);
    // The next attempt calls the function again, and fails the same way.
    await nextEvent(c.onReconnect, 'the second failed attempt', (e) => e.attempt === 2);
    expect(bearer.calls()).toBeGreaterThanOrEqual(2);
    expect(errors.map((e) => e.code)).toEqual(['ERR_HANDSHAKE_TIMEOUT', 'ERR_HANDSHAKE_TIMEOUT']);
    expect(c.snapshot()).toMatchObject({ failedAttempts: 2, lastError: { code: 'ERR_HANDSHAKE_TIMEOUT' } });
    // No TCP connection was ever opened: the handshake needs the credentials first.
    expect(server.tcpConnections).toBe(0);

    await closesWithin(() => app!.close(), MARGIN_MS);
    expect(c.state).toBe('closed');
    await expectNothingLeft();
  });

  it('a credential function pending: close() ends at once, and what it gives later is never sent', async () => {
    const server = await WsTestServer.start();
    cleanups.push(() => server.close());
    // The attempt's own deadline is far off: only close() can end the wait.
    const client = await boot({ peer: server.url }, { handshakeTimeoutMs: 60_000 });
    let give!: (headers: Record<string, string>) => void;
    let called = 0;
    const c = client.connect('peer', '/ws', {
      headers: () => {
        called += 1;
        return new Promise<Record<string, string>>((resolve) => (give = resolve));
      },
    });
    const sent = c.send('held while the credentials are made').catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
    expect([called, c.state]).toEqual([1, 'connecting']);

    await closesWithin(() => app!.close(), MARGIN_MS);
    expect(c.state).toBe('closed');
    const e = await sent;
    expect(isRealtimeError(e) && e.code).toBe('ERR_CONNECTION_CLOSED');
    expect(isRealtimeError(e) && e.written).toBe(false);
    // The function settles after the close: its headers are dropped, no connection is made.
    give({ 'x-late': 'too late' });
    await new Promise((r) => setTimeout(r, 200));
    expect(server.tcpConnections).toBe(0);
    expect(called).toBe(1);
    await expectNothingLeft();
  });

  it('an opening handshake a peer accepted over TCP and never answers: close() ends at once', async () => {
    const silent: SilentTcpServer = await startSilentTcpServer();
    cleanups.push(() => silent.close());
    const client = await boot({ peer: silent.url }, { handshakeTimeoutMs: 60_000 });
    const c = client.connect('peer', '/ws');
    await silent.waitFor(() => silent.open === 1, 'the TCP connection of the handshake');
    expect(c.state).toBe('connecting');

    await closesWithin(() => app!.close(), MARGIN_MS);
    expect(c.state).toBe('closed');
    await silent.waitFor(() => silent.open === 0, 'the client to drop the half-open handshake');
    await expectNothingLeft();
  });

  it('waiting out a reconnect backoff step: close() ends at once', async () => {
    const dead = await closedPort();
    const client = await boot(
      { dead: `http://127.0.0.1:${dead}` },
      { reconnect: { initialDelayMs: 60_000, maxDelayMs: 60_000, jitter: 0 } },
    );
    const c = client.connect('dead', '/ws');
    const step = await nextEvent(c.onReconnect, 'the first failed attempt');
    expect(step.delayMs).toBe(60_000);
    expect(c.state).toBe('reconnecting');

    await closesWithin(() => app!.close(), MARGIN_MS);
    expect(c.state).toBe('closed');
    await expectNothingLeft();
  });

  it('messages written and never confirmed: close() waits heartbeatTimeoutMs for them, then ends', async () => {
    // Reads every frame, never answers a ping: receipts never come.
    const server = await WsTestServer.start({ autoPong: false });
    cleanups.push(() => server.close());
    const heartbeatTimeoutMs = 1_000;
    const client = await boot(
      { peer: server.url },
      { heartbeatIntervalMs: 60_000, heartbeatTimeoutMs, sendTimeoutMs: 60_000 },
    );
    const c: RealtimeConnection = client.connect('peer', '/ws');
    await c.waitForOpen();
    const pending = c.send('never confirmed').catch((e: unknown) => e);
    await server.waitFor(() => server.messages.length === 1, 'the message at the peer');

    await closesWithin(() => app!.close(), heartbeatTimeoutMs + MARGIN_MS);
    const e = await pending;
    expect(isRealtimeError(e) && e.code).toBe('ERR_CONNECTION_CLOSED');
    expect(isRealtimeError(e) && e.written).toBe(true);
    await expectNothingLeft();
  });

  it('a peer that never answers the closing handshake: close() gives it 2 s, then drops the socket', async () => {
    const paused: Duplex[] = [];
    // The peer stops reading once the connection is open: the close frame is never read nor answered.
    const server = await WsTestServer.start({ onConnection: (_ws, _req, raw) => (raw.pause(), paused.push(raw)) });
    cleanups.push(() => server.close());
    const client = await boot({ peer: server.url }, { heartbeatIntervalMs: 60_000 });
    const c = client.connect('peer', '/ws');
    await c.waitForOpen();
    expect(paused).toHaveLength(1);

    await closesWithin(() => app!.close(), 2_000 + MARGIN_MS);
    expect(c.state).toBe('closed');
    // The peer's side of the socket is the peer's: only the client's must be gone.
    for (const raw of paused) raw.destroy();
    await expectNothingLeft();
  });
});
