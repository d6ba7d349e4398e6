import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ServiceTokenService } from './auth/service-token.service';
import { CircuitBreakerRegistry } from './circuit-breaker/circuit-breaker.registry';
import { DaprClientHelper } from './dapr/dapr-client.helper';
import { CircuitBreakerHealthIndicator } from './health/circuit-breaker.health';
import { HttpClientHelper } from './http/http-client.helper';
import { KUGEL_COMMS_OPTIONS } from './kugel-comms.constants';
import { resolveOptions } from './kugel-comms.defaults';
import { KUGEL_COMMS_MODULE_OPTIONS, KugelCommsConfigurableModule } from './kugel-comms.module-definition';
import { KugelCommsModuleOptions } from './interfaces/kugel-comms-options.interface';
import { KugelCommsEvents } from './observability/comms-events';
import { REPOSITORY_PROVIDERS } from './repositories/repository.providers';

const PROVIDERS = [
  KugelCommsEvents,
  CircuitBreakerRegistry,
  HttpClientHelper,
  DaprClientHelper,
  ServiceTokenService,
  CircuitBreakerHealthIndicator,
  ...REPOSITORY_PROVIDERS,
];

/**
 * `KugelCommsModule.forRoot(options)` / `forRootAsync({ imports, inject, useFactory | useClass |
 * useExisting })`, with `isGlobal`. Options are resolved and validated once, when the module is
 * instantiated: a bad value stops boot with `InvalidOptionsError`.
 */
@Module({
  imports: [TerminusModule],
  providers: [
    {
      provide: KUGEL_COMMS_OPTIONS,
      useFactory: (options: KugelCommsModuleOptions) => resolveOptions(options),
      inject: [KUGEL_COMMS_MODULE_OPTIONS],
    },
    ...PROVIDERS,
  ],
  exports: [KUGEL_COMMS_OPTIONS, ...PROVIDERS],
})
export class KugelCommsModule extends KugelCommsConfigurableModule {}
