import { TestingModule } from '@nestjs/testing';
import { CircuitBreakerHealthIndicator, CircuitBreakerRegistry } from '../../lib';
import { bootKugelComms } from '../support/module-fixture';
import { closedPort } from '../support/test-server';

describe('CircuitBreakerHealthIndicator', () => {
  let app: TestingModule;
  afterEach(() => app?.close());

  const boot = async (health = {}) => {
    app = await bootKugelComms({
      dapr: { httpEndpoint: `http://127.0.0.1:${await closedPort()}`, waitForSidecarMs: 0 },
      health,
    });
    const registry = app.get(CircuitBreakerRegistry);
    const shared = registry.get('state:statestore', { failureThreshold: 1, resetTimeoutMs: 2_147_483_647 });
    const own = registry.get('pubsub:pubsub', { failureThreshold: 1 });
    shared.tryAcquire()!.failure(); // open, with the longest reset timeout allowed
    return { indicator: app.get(CircuitBreakerHealthIndicator), shared, own };
  };

  it('reports an open breaker listed as critical as down, with its details, and never throws', async () => {
    const { indicator } = await boot({ criticalBreakers: ['state:statestore', 'pubsub:pubsub'] });
    expect(indicator.isHealthy('breakers')).toEqual({
      breakers: {
        status: 'down',
        message: 'open circuit: state:statestore',
        breakers: {
          'state:statestore': {
            state: 'open',
            consecutiveFailures: 1,
            openedAt: expect.any(String),
            nextAttemptAt: expect.any(String),
            critical: true,
          },
          'pubsub:pubsub': { state: 'closed', consecutiveFailures: 0, critical: true },
        },
      },
    });
  });

  it('by default no breaker is critical: an open one is reported up, with its details', async () => {
    const { indicator } = await boot();
    expect(indicator.isHealthy('breakers').breakers).toMatchObject({
      status: 'up',
      breakers: {
        'state:statestore': { state: 'open', critical: false },
        'pubsub:pubsub': { state: 'closed', critical: false },
      },
    });
  });

  it("reports it up with the details under openCircuitIs: 'up' (liveness use)", async () => {
    const { indicator } = await boot({ criticalBreakers: ['state:statestore'] });
    const result = indicator.isHealthy('breakers', { openCircuitIs: 'up' });
    expect(result.breakers.status).toBe('up');
    expect(result.breakers.breakers['state:statestore'].state).toBe('open');
  });

  it('lets only critical breakers make it down', async () => {
    const { indicator, own } = await boot({ criticalBreakers: ['pubsub:pubsub'] });
    expect(indicator.isHealthy('breakers').breakers).toMatchObject({
      status: 'up',
      breakers: { 'state:statestore': { state: 'open', critical: false } },
    });
    own.tryAcquire()!.failure();
    expect(indicator.isHealthy('breakers').breakers).toMatchObject({
      status: 'down',
      message: 'open circuit: pubsub:pubsub',
    });
  });

  it('reports a dead sidecar as down, saying why', async () => {
    const { indicator } = await boot();
    await expect(indicator.isSidecarHealthy('sidecar', 500)).resolves.toEqual({
      sidecar: { status: 'down', message: expect.stringMatching(/^sidecar not healthy: .*ECONNREFUSED/) },
    });
  });
});
