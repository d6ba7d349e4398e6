import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
import { KugelCommsModule } from '../../../lib';
import { AlertMonitorService, MONITOR_STORE, MonitoredStore } from './alert-monitor.service';
import { MonitorController } from './monitor.controller';

/**
 * The sample stock monitor: follows one store's stock alerts over the stock service's WebSocket.
 * - `BASE_URL_STOCK` (`http://127.0.0.1:8003/api/v1`): the stock service, as Kugelpos names it;
 * - `SECRET_KEY`: signs the service token it connects with (the stock service verifies it);
 * - `MONITOR_TENANT` / `MONITOR_STORE` (`T1` / `S1`): the store to follow.
 */
@Module({
  imports: [
    ConfigModule.forRoot({ ignoreEnvFile: true }),
    TerminusModule.forRoot({ gracefulShutdownTimeoutMs: 0 }),
    KugelCommsModule.forRootAsync({
      imports: [ConfigModule],
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        services: { stock: config.get<string>('BASE_URL_STOCK') ?? 'http://127.0.0.1:8003/api/v1' },
        auth: { serviceToken: { secret: config.getOrThrow<string>('SECRET_KEY') } },
        dapr: { waitForSidecarMs: 0 },
        repositories: { enabled: [] },
        // A restarted stock service is found again within seconds (the defaults wait up to 30 s).
        realtime: { reconnect: { maxDelayMs: 5_000 }, breaker: { resetTimeoutMs: 5_000 } },
      }),
    }),
  ],
  controllers: [MonitorController],
  providers: [
    AlertMonitorService,
    {
      provide: MONITOR_STORE,
      inject: [ConfigService],
      useFactory: (c: ConfigService): MonitoredStore => ({
        tenantId: c.get<string>('MONITOR_TENANT') ?? 'T1',
        storeCode: c.get<string>('MONITOR_STORE') ?? 'S1',
        keep: 50,
      }),
    },
  ],
})
export class MonitorModule {}
