import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
// In an application: `from 'kugel-comms'`.
import { KugelCommsModule } from '../../lib';
import { HealthController } from '../health/health.controller';
import { MetricsController } from '../metrics/metrics.controller';
import { ReportModule } from './report.module';
import { PromptHttpShutdown } from '../shared/prompt-http-shutdown';

/**
 * The sample report service (app id `report`), its own process with its own sidecar:
 * - `BASE_URL_CART`: the cart service, where the delivery-status callbacks go and whose
 *   transaction list the reconciliation reads; `BASE_URL_TERMINAL`: the terminal service (the
 *   terminal's business date and open counter, for that list);
 * - `DAPR_HTTP_PORT`: its sidecar; `APP_API_TOKEN`: when set, daprd must send it;
 * - `SECRET_KEY`: signs the service token of the callbacks; `PUBSUB_NOTIFY_API_KEY`: the API key
 *   sent instead when no token can be made.
 */
@Module({
  imports: [
    ConfigModule.forRoot({ ignoreEnvFile: true }),
    TerminusModule.forRoot({ gracefulShutdownTimeoutMs: 0 }),
    // Global: ReportModule's consumer injects DeliveryStatusWebRepository.
    KugelCommsModule.forRootAsync({
      isGlobal: true,
      imports: [ConfigModule],
      inject: [ConfigService],
      useFactory: (config: ConfigService) => {
        const secret = config.get<string>('SECRET_KEY');
        const apiKey = config.get<string>('PUBSUB_NOTIFY_API_KEY');
        return {
          services: {
            cart: config.get<string>('BASE_URL_CART') ?? 'http://127.0.0.1:3000/api/v1',
            terminal: config.get<string>('BASE_URL_TERMINAL') ?? 'http://127.0.0.1:8002/api/v1',
          },
          auth: { ...(secret ? { serviceToken: { secret } } : {}), ...(apiKey ? { apiKey } : {}) },
          dapr: { breaker: { resetTimeoutMs: Number(config.get<string>('SAMPLE_BREAKER_RESET_MS') ?? 60_000) } },
          metrics: { enabled: true },
        };
      },
    }),
    ReportModule,
  ],
  controllers: [HealthController, MetricsController],
  providers: [PromptHttpShutdown],
})
export class ReportAppModule {}
