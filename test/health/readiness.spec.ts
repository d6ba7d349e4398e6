import { Controller, Get, INestApplication, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { AddressInfo } from 'node:net';
import { CircuitBreakerHealthIndicator, CircuitBreakerRegistry, KugelCommsModule } from '../../lib';
import { HealthOptions } from '../../lib/interfaces/kugel-comms-options.interface';
import { closedPort, startTestServer, TestServer } from '../support/test-server';

/** The probes of docs/operations.md: liveness on nothing, readiness on the pod's sidecar and the breakers. */
@Controller('health')
class ProbeController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly breakers: CircuitBreakerHealthIndicator,
  ) {}

  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.breakers.isSidecarHealthy('dapr-sidecar', 1_000),
      () => this.breakers.isHealthy('circuit-breakers'),
    ]);
  }
}

/**
 * Readiness reports the pod's own ability to serve (its sidecar reachable); a shared dependency's
 * open breaker (a state store every pod uses) is in the details, and fails readiness only when the
 * app lists it in `health.criticalBreakers`. A real Nest HTTP app on port 0, probed like the
 * kubelet, against a real local sidecar stand-in server (or a closed port).
 */
describe('readiness: the pod own sidecar by default, shared breakers only when listed', () => {
  let sidecar: TestServer;
  let app: INestApplication | undefined;
  beforeAll(async () => {
    sidecar = await startTestServer((_req, res) => res.writeHead(204).end());
  });
  afterAll(() => sidecar.close());
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  /** Boots the app, opens the `state:statestore` breaker, and returns the probe answers. */
  async function probe(health: HealthOptions, httpEndpoint = sidecar.url) {
    @Module({
      imports: [
        TerminusModule.forRoot({ gracefulShutdownTimeoutMs: 0, logger: false }),
        KugelCommsModule.forRoot({ dapr: { httpEndpoint, waitForSidecarMs: 0 }, health }),
      ],
      controllers: [ProbeController],
    })
    class AppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    const base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    const registry = app.get(CircuitBreakerRegistry);
    registry.get('pubsub:pubsub', { failureThreshold: 1 });
    // A Redis outage: the state store's breaker is open in every pod at once.
    registry.get('state:statestore', { failureThreshold: 1 }).tryAcquire()!.failure();
    const get = async (path: string) => {
      const res = await fetch(`${base}${path}`);
      return { status: res.status, body: (await res.json()) as Record<string, any> };
    };
    return { ready: await get('/health/ready'), live: await get('/health/live') };
  }

  it('by default: 200 with the state store breaker open, reported in the details, not critical', async () => {
    const { ready, live } = await probe({});
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ok');
    expect(ready.body.details).toEqual({
      'dapr-sidecar': { status: 'up' },
      'circuit-breakers': {
        status: 'up',
        breakers: {
          'state:statestore': {
            state: 'open',
            consecutiveFailures: 1,
            openedAt: expect.any(String),
            nextAttemptAt: expect.any(String),
            critical: false,
          },
          'pubsub:pubsub': { state: 'closed', consecutiveFailures: 0, critical: false },
        },
      },
    });
    expect(live.status).toBe(200);
  });

  it('listed in health.criticalBreakers: 503 naming the open breaker; liveness stays 200', async () => {
    const { ready, live } = await probe({ criticalBreakers: ['state:statestore'] });
    expect(ready.status).toBe(503);
    expect(ready.body.status).toBe('error');
    expect(ready.body.error).toEqual({
      'circuit-breakers': expect.objectContaining({
        status: 'down',
        message: 'open circuit: state:statestore',
        breakers: expect.objectContaining({
          'state:statestore': expect.objectContaining({ state: 'open', critical: true }),
          'pubsub:pubsub': expect.objectContaining({ critical: false }),
        }),
      }),
    });
    expect(live).toEqual({ status: 200, body: { status: 'ok', info: {}, error: {}, details: {} } });
  });

  it("the pod's own sidecar unreachable: 503 by default, saying why; liveness stays 200", async () => {
    const { ready, live } = await probe({}, `http://127.0.0.1:${await closedPort()}`);
    expect(ready.status).toBe(503);
    expect(ready.body.error).toEqual({
      'dapr-sidecar': { status: 'down', message: expect.stringMatching(/^sidecar not healthy: .*ECONNREFUSED/) },
    });
    expect(ready.body.info['circuit-breakers'].status).toBe('up');
    expect(live.status).toBe(200);
  });
});
