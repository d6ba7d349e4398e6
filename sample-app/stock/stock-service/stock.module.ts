import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
import { ALERT_COOLDOWN_MS, InventoryService } from './inventory.service';
import { STOCK_SECRET_KEY, StockAlertsGateway } from './stock-alerts.gateway';
import { StockController } from './stock.controller';
import { StockHealthController } from './stock-health.controller';
import { StoreConnections } from './store-connections';

/**
 * The sample stock service: stock per store, the Kugelpos alert rules, and the alert WebSocket.
 * `SECRET_KEY` verifies the subscribers' tokens (the monitor signs its service token with it);
 * `ALERT_COOLDOWN_SECONDS` (60) spaces the alerts of one item. `GET /health/live` and
 * `/health/ready` are its probes.
 */
@Module({
  imports: [ConfigModule.forRoot({ ignoreEnvFile: true }), TerminusModule.forRoot({ gracefulShutdownTimeoutMs: 0 })],
  controllers: [StockController, StockHealthController],
  providers: [
    StoreConnections,
    InventoryService,
    StockAlertsGateway,
    {
      provide: STOCK_SECRET_KEY,
      inject: [ConfigService],
      useFactory: (c: ConfigService) => c.getOrThrow('SECRET_KEY'),
    },
    {
      provide: ALERT_COOLDOWN_MS,
      inject: [ConfigService],
      useFactory: (c: ConfigService) => Number(c.get('ALERT_COOLDOWN_SECONDS') ?? 60) * 1000,
    },
  ],
})
export class StockModule {}
