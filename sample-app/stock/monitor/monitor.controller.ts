import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { CircuitBreakerHealthIndicator, RealtimeHealthIndicator } from '../../../lib';
import { AlertMonitorService } from './alert-monitor.service';

/** The monitor's routes: the alerts it received, and the Kubernetes probes. */
@Controller()
export class MonitorController {
  constructor(
    private readonly monitor: AlertMonitorService,
    private readonly health: HealthCheckService,
    private readonly realtime: RealtimeHealthIndicator,
    private readonly breakers: CircuitBreakerHealthIndicator,
  ) {}

  /** The last alerts (newest last) and the state of the subscription. */
  @Get('api/v1/alerts')
  alerts() {
    return this.monitor.view();
  }

  @Get('health/live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  /** Not ready while the alert subscription is down (for longer than 5 s) or the stock breaker is open. */
  @Get('health/ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.realtime.isHealthy('stock-alerts', { graceMs: 5_000 }),
      () => this.breakers.isHealthy('circuit-breakers'),
    ]);
  }
}
