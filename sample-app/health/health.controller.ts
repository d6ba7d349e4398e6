import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { CircuitBreakerHealthIndicator } from '../../lib';

/**
 * Kubernetes probes, by the convention the README explains:
 * - `GET /health/live` never depends on peers or the sidecar (a restart cannot fix them);
 * - `GET /health/ready` reports every breaker and the pod's own sidecar, and answers 503 with
 *   terminus' standard body when one is down, so the pod stops receiving traffic until it recovers.
 */
@Controller('health')
export class HealthController {
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
      () => this.breakers.isHealthy('circuit-breakers'),
      () => this.breakers.isSidecarHealthy('dapr-sidecar'),
    ]);
  }
}
