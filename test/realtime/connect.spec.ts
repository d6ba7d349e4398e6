import { TestingModule } from '@nestjs/testing';
import * as fs from 'node:fs';
import * as jwt from 'jsonwebtoken';
import * as path from 'node:path';
import {
  CircuitBreakerRegistry,
  isRealtimeError,
  KugelCommsEvents,
  RealtimeClient,
  RealtimeConnection,
  RealtimeError,
} from '../../lib';
import { thrownBy } from '../support/errors';
import { captureLogs } from '../support/log-capture';
import { bootKugelComms } from '../support/module-fixture';
import { SECRETS } from '../support/secrets';
import { nextEvent, WsTestServer } from '../support/ws-server';

const thrown = (fn: () => unknown) => thrownBy(fn, isRealtimeError);

/**
 * Finding the peer, what the handshake carries, and what is refused before any I/O — against real
 * `ws` servers on 127.0.0.1.
 */
describe('RealtimeClient: connecting', () => {
  let server: WsTestServer;
  let app: TestingModule;
  let client: RealtimeClient;
  let logs: ReturnType<typeof captureLogs>;
  const opened: RealtimeConnection[] = [];
  const connect = (...args: Parameters<RealtimeClient['connect']>) => {
    const c = client.connect(...args);
    opened.push(c);
    return c;
  };

  beforeAll(async () => {
    server = await WsTestServer.start({
      intercept: (req, socket) => {
        if (req.url?.startsWith('/api/v1/refuse')) {
          socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
          return true;
        }
        if (req.url?.startsWith('/api/v1/redirect')) {
          socket.end(`HTTP/1.1 302 Found\r\nLocation: ws://127.0.0.1:${other.port}/x\r\nContent-Length: 0\r\n\r\n`);
          return true;
        }
        return false;
      },
    });
    other = await WsTestServer.start();
    logs = captureLogs();
    app = await bootKugelComms({
      services: { stock: `${server.url}/api/v1` },
      auth: { apiKey: SECRETS.apiKey, serviceToken: { secret: SECRETS.serviceTokenSecret } },
      realtime: { reconnect: { initialDelayMs: 20, maxDelayMs: 200 } },
    });
    logs.reinstall();
    client = app.get(RealtimeClient);
  });
  let other: WsTestServer;

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((c) => c.close()));
  });

  afterAll(async () => {
    await app.close();
    await server.close();
    await other.close();
    logs.restore();
  });

  it('finds the peer in `services`, derives ws: from http: and sends the API key', async () => {
    const c = connect('stock', '/ws/T1/S1', { auth: { apiKey: true } });
    expect(c.url).toBe(`ws://127.0.0.1:${server.port}/api/v1/ws/T1/S1`);
    await c.waitForOpen();
    const hs = server.handshakes.at(-1)!;
    expect(hs.url).toBe('/api/v1/ws/T1/S1');
    expect(hs.headers['x-api-key']).toBe(SECRETS.apiKey);
    expect(hs.headers.authorization).toBeUndefined();
  });

  it('sends a bearer token, asking a function again for every attempt', async () => {
    let calls = 0;
    const c = connect('stock', '/ws/bearer', { auth: { bearer: () => `${SECRETS.jwt}${++calls}` } });
    await c.waitForOpen();
    expect(server.handshakes.at(-1)!.headers.authorization).toBe(`Bearer ${SECRETS.jwt}1`);
    const reopened = nextEvent(c.onOpen, 'the reconnect');
    for (const ws of server.sockets) ws.terminate();
    await reopened;
    expect(server.handshakes.at(-1)!.headers.authorization).toBe(`Bearer ${SECRETS.jwt}2`);
  });

  it('mints a service token (ServiceTokenService) for every attempt', async () => {
    const c = connect('stock', '/ws/svc', { auth: { serviceToken: { tenantId: 'T1', serviceName: 'stock-monitor' } } });
    await c.waitForOpen();
    const headers = server.handshakes.at(-1)!.headers;
    expect(headers['x-tenant-id']).toBe('T1');
    const token = String(headers.authorization).replace(/^Bearer /, '');
    const claims = jwt.verify(token, SECRETS.serviceTokenSecret, { algorithms: ['HS256'] }) as jwt.JwtPayload;
    expect(claims).toMatchObject({ sub: 'service:stock-monitor', tenant_id: 'T1', is_service_account: true });
  });

  it('puts query values in the URL the server sees, and `***` wherever the URL is shown', async () => {
    const c = connect('stock', '/ws/T1/S1', { query: () => ({ token: SECRETS.jwt, lang: 'ja' }) });
    await c.waitForOpen();
    const hs = server.handshakes.at(-1)!;
    expect(new URL(hs.url, 'ws://x').searchParams.get('token')).toBe(SECRETS.jwt);
    expect(c.url).toBe(`ws://127.0.0.1:${server.port}/api/v1/ws/T1/S1?token=***&lang=ja`);
    expect(JSON.stringify(c.snapshot())).not.toContain(SECRETS.jwt);
    expect(logs.logger.text()).toContain('token=***');
    expect(logs.logger.text()).not.toContain(SECRETS.jwt);
  });

  it('falls back to BASE_URL_<NAME>, and https: gives wss: (with the TLS checks of `http`)', async () => {
    const fixtures = path.join(__dirname, '..', 'faults', 'fixtures');
    const tls = await WsTestServer.start({
      tls: {
        key: fs.readFileSync(path.join(fixtures, 'self-signed.key')),
        cert: fs.readFileSync(path.join(fixtures, 'self-signed.crt')),
      },
    });
    const saved = process.env.BASE_URL_STOCK_TLS;
    process.env.BASE_URL_STOCK_TLS = `${tls.url}/api`;
    try {
      // A self-signed certificate is refused by default ...
      const strict = connect('stock-tls', '/ws');
      expect(strict.url).toBe(`wss://127.0.0.1:${tls.port}/api/ws`);
      const refused = await nextEvent(strict.onError, 'the TLS failure');
      expect(refused.code).toMatch(/CERT|SELF_SIGNED/);
      await strict.close();
      // ... and accepted only with http.insecureSkipTlsVerify.
      const insecure = await bootKugelComms({ http: { insecureSkipTlsVerify: true } });
      try {
        const c = insecure.get(RealtimeClient).connect('stock-tls', '/ws');
        await c.waitForOpen();
        await c.send('over tls');
        expect(tls.messages).toEqual(['over tls']);
        expect(tls.handshakes[0].url).toBe('/api/ws');
      } finally {
        await insecure.close();
      }
    } finally {
      if (saved === undefined) delete process.env.BASE_URL_STOCK_TLS;
      else process.env.BASE_URL_STOCK_TLS = saved;
      await tls.close();
    }
  });

  it.each(['//evil.example/x', 'ws://evil.example/x', '/ws/../../admin', '/ws/%2E%2E/admin', '/ws/T 1'])(
    'refuses the path %j before any I/O',
    (bad) => {
      const before = server.tcpConnections;
      const e = thrown(() => client.connect('stock', bad));
      expect(e.code).toBe('ERR_BAD_REQUEST_INPUT');
      expect(server.tcpConnections).toBe(before);
      expect(client.connections().every((c) => c.service !== 'stock' || opened.includes(c))).toBe(true);
    },
  );

  it('an unknown service names the option and the variable to set', () => {
    const e = thrown(() => client.connect('inventory', '/ws'));
    expect(e.code).toBe('ERR_UNKNOWN_SERVICE');
    expect(e.message).toContain('services["inventory"]');
    expect(e.message).toContain('BASE_URL_INVENTORY');
  });

  it('refuses bad options and credentials at connect()', () => {
    expect(thrown(() => client.connect('stock', '/ws', { heartbeatIntervalMs: 0 })).message).toContain(
      '"options.heartbeatIntervalMs" must be a positive integer; got 0',
    );
    expect(thrown(() => client.connect('stock', '/ws', { auth: { password: 'x' } as never })).code).toBe(
      'ERR_BAD_REQUEST_INPUT',
    );
    expect(thrown(() => client.connect('stock', '/ws', { query: { token: {} } as never })).message).toMatch(
      /query "token" must be a string/,
    );
  });

  it('never follows a redirect: a 302 is a handshake error and the other host sees nothing', async () => {
    const c = connect('stock', '/redirect', { auth: { apiKey: true } });
    const e = await nextEvent(c.onError, 'the refused handshake');
    expect(e).toMatchObject({ code: 'ERR_HANDSHAKE', statusCode: 302 });
    await c.close();
    expect(other.tcpConnections).toBe(0);
  });

  it('a 4xx handshake is reported with its status and does not count toward the breaker', async () => {
    const c = connect('stock', '/refuse');
    const errors: RealtimeError[] = [];
    c.onError.on((e) => errors.push(e));
    await nextEvent(c.onReconnect, 'the fifth attempt', (e) => e.attempt >= 6);
    expect(errors.length).toBeGreaterThanOrEqual(5);
    expect(errors.every((e) => e.code === 'ERR_HANDSHAKE' && e.statusCode === 401)).toBe(true);
    expect(app.get(CircuitBreakerRegistry).find('ws:stock')?.state).toBe('closed');
  });

  it('emits the app-wide events with the redacted URL', async () => {
    const events = app.get(KugelCommsEvents).realtime;
    const seen: string[] = [];
    const offs = [
      events.opened.on((e) => seen.push(`opened ${e.url} reconnected=${e.reconnected}`)),
      events.message.on((e) => seen.push(`message ${e.direction} ${e.bytes}`)),
      events.closed.on((e) => seen.push(`closed ${e.code} willReconnect=${e.willReconnect}`)),
      events.reconnectScheduled.on((e) => seen.push(`reconnect ${e.reason}`)),
    ];
    try {
      const c = connect('stock', '/ws/ev', { query: { token: SECRETS.jwt } });
      await c.waitForOpen();
      await c.send('12345');
      await c.close();
      const url = `ws://127.0.0.1:${server.port}/api/v1/ws/ev?token=***`;
      expect(seen).toEqual([`opened ${url} reconnected=false`, 'message out 5', 'closed 1000 willReconnect=false']);
    } finally {
      offs.forEach((off) => off());
    }
  });
});
