import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { CircuitBreakerHealthIndicator, RepublisherHealthIndicator } from '../../lib';

/**
 * Kubernetes probes, by the convention of docs/operations.md, "Health and Kubernetes probes":
 * - `GET /health/live` never depends on peers or the sidecar (a restart cannot fix them);
 * - `GET /health/ready` answers 503 with terminus' standard body when the pod's own sidecar is
 *   down, so the pod stops receiving traffic until it recovers; it reports every breaker with its
 *   details, but none is critical (`health.criticalBreakers` is left empty): the cart store and the
 *   pub/sub are shared by every pod, and their outage must not take every pod out at once;
 * - `GET /health/backlog` reports the republishers (503 when an event has waited for its consumers
 *   too long): for dashboards and alerts, not a probe (restarting the pod fixes no backlog).
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly breakers: CircuitBreakerHealthIndicator,
    private readonly republishers: RepublisherHealthIndicator,
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
      () => this.breakers.isHealthy('circuit-breakers'),
      () => this.breakers.isSidecarHealthy('dapr-sidecar'),
    ]);
  }

  @Get('backlog')
  @HealthCheck()
  backlog() {
    return this.health.check([() => this.republishers.isHealthy('backlog')]);
  }
}
