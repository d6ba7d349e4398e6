import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import * as jwt from 'jsonwebtoken';
import { WebSocket } from 'ws';
import { AlertChannelMessage, StockAlert } from '../../sample-app/stock/alerts.interface';
import { MonitorModule } from '../../sample-app/stock/monitor/monitor.module';
import { PathParamsWsAdapter } from '../../sample-app/stock/stock-service/path-params-ws.adapter';
import { StockModule } from '../../sample-app/stock/stock-service/stock.module';
import { captureLogs } from '../support/log-capture';
import { waitUntil } from '../support/processes';
import { SECRETS } from '../support/secrets';
import { restartablePort } from '../support/ws-server';
import { call } from './sample-app.fixture';

/** A raw `ws` client (what another language's client would be): its messages, and how it closed. */
function subscribe(url: string): {
  ws: WebSocket;
  messages: string[];
  closed: Promise<{ code: number; reason: string }>;
  next: (n: number) => Promise<string[]>;
} {
  const ws = new WebSocket(url);
  const messages: string[] = [];
  ws.on('message', (d) => {
    messages.push(d.toString());
    ws.emit('kugel:message');
  });
  ws.on('error', () => undefined);
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  const next = (n: number) =>
    new Promise<string[]>((resolve, reject) => {
      const check = () => {
        if (messages.length < n) return;
        clearTimeout(timer);
        ws.off('kugel:message', check);
        resolve(messages.slice(0, n));
      };
      const timer = setTimeout(() => reject(new Error(`got ${messages.length} of ${n} messages`)), 15_000);
      ws.on('kugel:message', check);
      check();
    });
  return { ws, messages, closed, next };
}

/**
 * The real-time sample as the original runs it: the stock service serves alerts on
 * `/api/v1/ws/{tenant_id}/{store_code}?token=<JWT>` (Nest gateway, `ws` adapter), and the stock
 * monitor subscribes through `RealtimeClient` and shows what it receives on `GET /api/v1/alerts`.
 */
describe('sample app: stock alerts over WebSocket', () => {
  let stock: INestApplication;
  let monitor: INestApplication;
  let stockPort: number;
  let monitorBase: string;
  let logs: ReturnType<typeof captureLogs>;
  const saved = { ...process.env };
  const stockBase = () => `http://127.0.0.1:${stockPort}`;
  const alertsUrl = (tenant: string, store: string, token?: string) =>
    `ws://127.0.0.1:${stockPort}/api/v1/ws/${tenant}/${store}${token === undefined ? '' : `?token=${token}`}`;
  const tokenFor = (tenant: string, secret: string = SECRETS.serviceTokenSecret) =>
    jwt.sign({ sub: 'service:test', tenant_id: tenant }, secret, { algorithm: 'HS256', expiresIn: 300 });

  async function startStock(): Promise<void> {
    const moduleRef = await Test.createTestingModule({ imports: [StockModule] }).compile();
    stock = moduleRef.createNestApplication({ logger: ['error', 'warn', 'log'] });
    stock.useWebSocketAdapter(new PathParamsWsAdapter(stock));
    await stock.listen(stockPort, '127.0.0.1');
    logs.reinstall();
  }
  const setItem = (item: string, body: Record<string, number>) =>
    call('PUT', `${stockBase()}/api/v1/tenants/T1/stores/S1/stock/${item}`, body);
  const sell = (item: string, quantityChange: number) =>
    call('POST', `${stockBase()}/api/v1/tenants/T1/stores/S1/stock/${item}/update`, { quantityChange });
  const monitorView = async () => (await call('GET', `${monitorBase}/api/v1/alerts`)).body;

  beforeAll(async () => {
    logs = captureLogs();
    // The stock service restarts on its port in a test: not an ephemeral one (see restartablePort).
    stockPort = await restartablePort();
    Object.assign(process.env, {
      SECRET_KEY: SECRETS.serviceTokenSecret,
      ALERT_COOLDOWN_SECONDS: '60',
      BASE_URL_STOCK: `http://127.0.0.1:${stockPort}/api/v1`,
      MONITOR_TENANT: 'T1',
      MONITOR_STORE: 'S1',
    });
    await startStock();
    const moduleRef = await Test.createTestingModule({ imports: [MonitorModule] }).compile();
    monitor = moduleRef.createNestApplication({ logger: ['error', 'warn', 'log'] });
    await monitor.listen(0, '127.0.0.1');
    logs.reinstall();
    const address = monitor.getHttpServer().address() as { port: number };
    monitorBase = `http://127.0.0.1:${address.port}`;
  });

  afterAll(async () => {
    await monitor?.close();
    await stock?.close();
    process.env = saved;
    logs.restore();
  });

  it.each([
    ['no token', undefined, 'No token provided'],
    ['a token signed with another key', tokenFor('T1', 'another-key-entirely'), 'Authentication failed'],
    ["another tenant's token", tokenFor('T2'), 'Tenant ID mismatch'],
  ])('closes a subscriber with %s: 1008 and the original reason', async (_what, token, reason) => {
    const s = subscribe(alertsUrl('T1', 'S1', token));
    expect(await s.closed).toEqual({ code: 1008, reason });
    expect(s.messages).toEqual([]);
  });

  it('greets a subscriber, sends the current alerts, and answers "ping" with "pong"', async () => {
    expect((await setItem('B001', { currentQuantity: 3, reorderPoint: 10, reorderQuantity: 40 })).status).toBe(200);
    const s = subscribe(alertsUrl('T1', 'S1', tokenFor('T1')));
    const [hello, current] = (await s.next(2)).map((m) => JSON.parse(m) as AlertChannelMessage);
    expect(hello).toEqual({
      type: 'connection',
      status: 'connected',
      tenant_id: 'T1',
      store_code: 'S1',
      message: expect.any(String),
    });
    expect(current).toMatchObject({ type: 'stock_alert', alert_type: 'reorder_point', item_code: 'B001' });
    s.ws.send('ping');
    expect((await s.next(3))[2]).toBe('pong');
    s.ws.close();
    await s.closed;
  });

  it('the monitor, subscribed through RealtimeClient, shows the alerts that follow stock updates', async () => {
    await waitUntil(async () => (await monitorView()).connection === 'open', 15_000, 'the monitor to connect');
    await setItem('A001', { currentQuantity: 20, reorderPoint: 10, reorderQuantity: 50, minimumQuantity: 5 });
    expect((await sell('A001', -12)).body).toMatchObject({ currentQuantity: 8 });
    expect((await sell('A001', -4)).body).toMatchObject({ currentQuantity: 4 });
    await waitUntil(
      async () => (await monitorView()).alerts.filter((a: StockAlert) => a.item_code === 'A001').length >= 2,
      15_000,
      'two alerts for A001 at the monitor',
    );
    const view = await monitorView();
    const a001 = view.alerts.filter((a: StockAlert) => a.item_code === 'A001');
    expect(a001).toEqual([
      {
        type: 'stock_alert',
        alert_type: 'reorder_point',
        tenant_id: 'T1',
        store_code: 'S1',
        item_code: 'A001',
        current_quantity: 8,
        reorder_point: 10,
        reorder_quantity: 50,
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      },
      // The reorder alert of A001 is in its cooldown: only the new kind is sent.
      expect.objectContaining({ alert_type: 'minimum_stock', current_quantity: 4, minimum_quantity: 5 }),
    ]);
    expect(view.pongs).toBeGreaterThanOrEqual(1);
    const ready = await call('GET', `${monitorBase}/health/ready`);
    expect(ready.status).toBe(200);
    expect(ready.body.info['stock-alerts'].connections['stock#1']).toMatchObject({
      state: 'open',
      url: `ws://127.0.0.1:${stockPort}/api/v1/ws/T1/S1?token=***`,
    });
  });

  it('the monitor subscribes again after the stock service restarts', async () => {
    const before = (await monitorView()).alerts.length;
    await stock.close();
    await waitUntil(async () => (await monitorView()).connection !== 'open', 15_000, 'the monitor to notice');
    await startStock();
    await waitUntil(async () => (await monitorView()).connection === 'open', 20_000, 'the monitor to reconnect');
    await setItem('C001', { currentQuantity: 1, reorderPoint: 0, reorderQuantity: 10, minimumQuantity: 2 });
    await waitUntil(
      async () => (await monitorView()).alerts.some((a: StockAlert) => a.item_code === 'C001'),
      15_000,
      'the alert after the restart',
    );
    expect((await monitorView()).alerts.length).toBeGreaterThan(before);
  });

  it('never logs a token: the URL is logged with token=***', () => {
    const text = logs.logger.text();
    expect(text).toContain('token=***');
    expect(text).toMatch(/alert subscriber service:stock-monitor connected to T1\/S1/);
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{5,}\./);
  });
});
