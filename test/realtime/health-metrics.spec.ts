import { Controller, Get, INestApplication, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import {
  CircuitBreakerHealthIndicator,
  KugelCommsModule,
  RealtimeClient,
  RealtimeConnection,
  RealtimeHealthIndicator,
} from '../../lib';
import { seriesValue } from '../support/metrics';
import { nextEvent, WsTestServer } from '../support/ws-server';

@Controller('health')
class ReadyController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly realtime: RealtimeHealthIndicator,
    private readonly breakers: CircuitBreakerHealthIndicator,
  ) {}

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.realtime.isHealthy('realtime'), () => this.breakers.isHealthy()]);
  }
}

/**
 * Connection state in terminus (a real endpoint answering 200, then 503) and in the Prometheus
 * metrics, through a real `ws` peer that goes down and comes back.
 */
describe('RealtimeClient: health and metrics', () => {
  let server: WsTestServer;
  let app: INestApplication;
  let base: string;
  let registry: Registry;
  let client: RealtimeClient;
  let connection: RealtimeConnection;

  beforeAll(async () => {
    server = await WsTestServer.start();
    registry = new Registry();
    @Module({
      imports: [
        TerminusModule.forRoot({ gracefulShutdownTimeoutMs: 0, logger: false }),
        KugelCommsModule.forRoot({
          services: { stock: server.url },
          metrics: { enabled: true, registry },
          realtime: { sendBufferSize: 2, reconnect: { initialDelayMs: 20, maxDelayMs: 100 } },
        }),
      ],
      controllers: [ReadyController],
    })
    class AppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    client = app.get(RealtimeClient);
    connection = client.connect('stock', '/ws/T1/S1');
    await connection.waitForOpen();
  });

  afterAll(async () => {
    await app.close();
    await server.close();
  });

  it('is up while connected, with each connection in the details', async () => {
    const res = await fetch(`${base}/health/ready`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.info.realtime).toEqual({
      status: 'up',
      connections: {
        [connection.id]: {
          service: 'stock',
          url: `ws://127.0.0.1:${server.port}/ws/T1/S1`,
          state: 'open',
          since: expect.any(String),
          failedAttempts: 0,
          waiting: 0,
          unconfirmed: 0,
          critical: true,
        },
      },
    });
    expect(body.info['circuit-breakers'].breakers['ws:stock']).toMatchObject({ state: 'closed' });
  });

  it('counts connections by state and messages in the metrics', async () => {
    await connection.send('one');
    connection.onMessage.on(() => undefined);
    const got = nextEvent(connection.onMessage, 'the answer');
    for (const ws of server.sockets) ws.send('two');
    await got;
    expect(await seriesValue(registry, 'kugel_comms_ws_connections', { service: 'stock', state: 'open' })).toBe(1);
    expect(await seriesValue(registry, 'kugel_comms_ws_messages_total', { service: 'stock', direction: 'out' })).toBe(
      1,
    );
    expect(await seriesValue(registry, 'kugel_comms_ws_messages_total', { service: 'stock', direction: 'in' })).toBe(1);
    expect(await seriesValue(registry, 'kugel_comms_circuit_breaker_state', { breaker: 'ws:stock' })).toBe(0);
  });

  it('answers 503 while the peer is down, naming the connection, and counts the reconnects and refusals', async () => {
    const closed = nextEvent(connection.onClose, 'the drop');
    await server.stop();
    await closed;
    const res = await fetch(`${base}/health/ready`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as any;
    expect(body.status).toBe('error');
    expect(body.error.realtime).toMatchObject({
      status: 'down',
      message: `not connected: ${connection.id}`,
      connections: { [connection.id]: { state: expect.stringMatching(/^(reconnecting|connecting)$/) } },
    });
    // Reported up within a grace period (a short reconnect must not flap readiness).
    expect(app.get(RealtimeHealthIndicator).isHealthy('rt', { graceMs: 60_000 }).rt.status).toBe('up');
    expect(app.get(RealtimeHealthIndicator).isHealthy('rt', { services: ['other'] }).rt.status).toBe('up');

    const held = [connection.send('a'), connection.send('b')];
    await expect(connection.send('c')).rejects.toMatchObject({ code: 'ERR_SEND_BUFFER_FULL' });
    expect(await seriesValue(registry, 'kugel_comms_ws_buffered_messages', { service: 'stock' })).toBe(2);
    expect(
      await seriesValue(registry, 'kugel_comms_ws_send_failures_total', {
        service: 'stock',
        code: 'ERR_SEND_BUFFER_FULL',
      }),
    ).toBe(1);
    expect(
      await seriesValue(registry, 'kugel_comms_ws_reconnects_total', { service: 'stock', reason: 'closed' }),
    ).toBeGreaterThanOrEqual(1);

    const reopened = nextEvent(connection.onOpen, 'the reconnect');
    await server.restart();
    await reopened;
    await Promise.all(held);
    expect((await fetch(`${base}/health/ready`)).status).toBe(200);
    expect(await seriesValue(registry, 'kugel_comms_ws_buffered_messages', { service: 'stock' })).toBe(0);
  });
});
