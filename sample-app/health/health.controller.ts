import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { CircuitBreakerHealthIndicator, RepublisherHealthIndicator } from '../../lib';

/**
 * Kubernetes probes, by the convention the README explains:
 * - `GET /health/live` never depends on peers or the sidecar (a restart cannot fix them);
 * - `GET /health/ready` reports every breaker and the pod's own sidecar, and answers 503 with
 *   terminus' standard body when one is down, so the pod stops receiving traffic until it recovers;
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
