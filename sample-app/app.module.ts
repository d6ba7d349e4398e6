import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
// In an application: `from 'kugel-comms'`.
import { KugelCommsModule } from '../lib';
import { CartController } from './cart/cart.controller';
import { CartService } from './cart/cart.service';
import { HealthController } from './health/health.controller';
import { MetricsController } from './metrics/metrics.controller';
import { ReportModule } from './report/report.module';

/**
 * The sample cart service. kugel-comms is configured asynchronously from `ConfigService`
 * (environment variables):
 * - `BASE_URL_MASTER_DATA`, `BASE_URL_CART`: the peers (found by the module's own discovery too);
 * - `DAPR_HTTP_PORT` / `DAPR_API_TOKEN`: the sidecar (read by the module);
 * - `SAMPLE_BREAKER_RESET_MS`: how long an open breaker waits before its trial (60 s by default);
 * - `APP_API_TOKEN`: when set, daprd must send it (the subscription routes answer 401 otherwise).
 */
@Module({
  imports: [
    ConfigModule.forRoot({ ignoreEnvFile: true }),
    TerminusModule.forRoot({ gracefulShutdownTimeoutMs: 0 }),
    KugelCommsModule.forRootAsync({
      imports: [ConfigModule],
      inject: [ConfigService],
      useFactory: (config: ConfigService) => {
        const resetTimeoutMs = Number(config.get<string>('SAMPLE_BREAKER_RESET_MS') ?? 60_000);
        return {
          services: {
            'master-data': config.get<string>('BASE_URL_MASTER_DATA') ?? 'http://127.0.0.1:8002/api/v1',
            cart: config.get<string>('BASE_URL_CART') ?? 'http://127.0.0.1:8002/api/v1',
          },
          dapr: { breaker: { resetTimeoutMs } },
          repositories: { enabled: ['itemMaster', 'paymentMaster', 'tranlog', 'pubsub', 'stateStore'] },
          // Prometheus metrics in prom-client's global registry, served by GET /metrics.
          metrics: { enabled: true },
        };
      },
    }),
    // The receiving half: daprd delivers the cart's transactions to ReportConsumer.
    ReportModule,
  ],
  controllers: [CartController, HealthController, MetricsController],
  providers: [CartService],
})
export class AppModule {}
