import { Body, Controller, Get, Module, Post } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { CircuitBreakerHealthIndicator, DaprClientHelper, KugelCommsModule } from 'kugel-comms';
import { CatalogModule } from './catalog.module.js';

@Controller('health')
class HealthController {
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
    return this.health.check([() => this.breakers.isHealthy(), () => this.breakers.isSidecarHealthy()]);
  }
}

@Controller('events')
class EventsController {
  constructor(private readonly dapr: DaprClientHelper) {}

  @Post()
  async publish(@Body() body: Record<string, unknown>) {
    return { published: await this.dapr.publishEvent('pubsub', 'compat', body) };
  }
}

@Module({
  imports: [
    ConfigModule.forRoot({ ignoreEnvFile: true }),
    TerminusModule,
    KugelCommsModule.forRootAsync({
      imports: [ConfigModule],
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        services: {
          'master-data': config.getOrThrow<string>('MASTER_DATA_URL'),
          pricing: { baseUrl: config.getOrThrow<string>('PRICING_URL'), retries: 0, breaker: { failureThreshold: 2 } },
          stock: { baseUrl: config.getOrThrow<string>('STOCK_URL'), retries: 0, breaker: { failureThreshold: 2 } },
        },
        dapr: { httpEndpoint: config.getOrThrow<string>('DAPR_HTTP_ENDPOINT'), waitForSidecarMs: 5000 },
        health: {
          criticalBreakers: ['pubsub:pubsub', 'http:stock'],
          degradedBreakers: config.get<string>('DEGRADED_BREAKERS')?.split(',').filter(Boolean) ?? [],
        },
      }),
    }),
    CatalogModule,
  ],
  controllers: [HealthController, EventsController],
})
export class AppModule {}
