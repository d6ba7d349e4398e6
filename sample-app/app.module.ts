import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
// In an application: `from 'kugel-comms'`.
import { KugelCommsModule } from '../lib';
import { CartController } from './cart/cart.controller';
import { CartDataModule } from './cart/cart-data.module';
import { CartService } from './cart/cart.service';
import { CartStore } from './cart/cart.store';
import { NotifyAuthGuard } from './cart/notify-auth.guard';
import { TransactionsController } from './cart/transactions.controller';
import { TranlogOutbox } from './cart/tranlog.outbox';
import { HealthController } from './health/health.controller';
import { MetricsController } from './metrics/metrics.controller';
import { PromptHttpShutdown } from './shared/prompt-http-shutdown';

/**
 * The sample cart service (app id `cart`). kugel-comms is configured asynchronously from
 * `ConfigService` (environment variables):
 * - `BASE_URL_MASTER_DATA` / `BASE_URL_TERMINAL`: master-data and the terminal service (the
 *   sample's one peer answers both);
 * - `DAPR_HTTP_PORT` / `DAPR_API_TOKEN`: the sidecar (read by the module);
 * - `SECRET_KEY` / `PUBSUB_NOTIFY_API_KEY`: what the consumers' delivery-status callbacks must carry;
 * - `SAMPLE_BREAKER_RESET_MS`: how long an open breaker waits before its trial (60 s by default);
 * - `SAMPLE_REPUBLISH_INTERVAL_MS` / `SAMPLE_REPUBLISH_MIN_AGE_MS`: the republisher's pace (5 s / 10 s);
 * - `SAMPLE_CART_UPDATE_ATTEMPTS`: tries of a cart change that meets a conflict (10).
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
            terminal: config.get<string>('BASE_URL_TERMINAL') ?? 'http://127.0.0.1:8002/api/v1',
          },
          dapr: { breaker: { resetTimeoutMs } },
          // Prometheus metrics in prom-client's global registry, served by GET /metrics.
          metrics: { enabled: true },
        };
      },
    }),
    CartDataModule,
    // The republisher: what the consumers have not acknowledged is published again, under its own id.
    KugelCommsModule.forRepublisherAsync('tranlog', {
      imports: [ConfigModule, CartDataModule],
      inject: [ConfigService, TranlogOutbox],
      useFactory: (config: ConfigService, outbox: TranlogOutbox) => ({
        source: outbox,
        intervalMs: Number(config.get<string>('SAMPLE_REPUBLISH_INTERVAL_MS') ?? 5_000),
        minAgeMs: Number(config.get<string>('SAMPLE_REPUBLISH_MIN_AGE_MS') ?? 10_000),
        maxUndeliveredAgeMs: 5 * 60_000,
      }),
    }),
  ],
  controllers: [CartController, TransactionsController, HealthController, MetricsController],
  providers: [CartService, CartStore, NotifyAuthGuard, PromptHttpShutdown],
})
export class AppModule {}
