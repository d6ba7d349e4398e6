import { DynamicModule, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { ServiceTokenService } from './auth/service-token.service';
import { BreakerEvents } from './circuit-breaker/breaker-events';
import { CircuitBreakerRegistry } from './circuit-breaker/circuit-breaker.registry';
import { DaprClientHelper } from './dapr/dapr-client.helper';
import { CircuitBreakerHealthIndicator } from './health/circuit-breaker.health';
import { HttpClientHelper } from './http/http-client.helper';
import { serviceClientFeature, withFeatureHost } from './kugel-comms-feature.module';
import { KUGEL_COMMS_RESOLVED_OPTIONS } from './kugel-comms.constants';
import { KugelCommsEvents } from './kugel-comms.events';
import {
  KUGEL_COMMS_ASYNC_OPTIONS_TYPE,
  KUGEL_COMMS_OPTIONS_TYPE,
  KUGEL_COMMS_USER_OPTIONS,
  KugelCommsConfigurableModule,
} from './kugel-comms.module-definition';
import { KugelCommsModuleOptions } from './interfaces/kugel-comms-options.interface';
import { KugelCommsMetrics } from './observability/comms-metrics.service';
import { resolveOptions } from './options/resolve-options';
import { REPOSITORY_PROVIDERS, repositoryProviders } from './repositories/repository.providers';
import { EventRepublishers } from './republish/event-republishers.service';
import { RepublishMetrics } from './republish/republish-metrics.service';
import { RepublisherHealthIndicator } from './republish/republisher.health';
import { RepublisherAsyncOptions, republisherFeature } from './republish/republisher-feature';
import { RepublisherOptions } from './republish/republisher-options';
import { SubscriptionEvents } from './subscriptions/subscription-events';
import { SubscriptionMetrics } from './subscriptions/subscription-metrics.service';
import { PromptHttpShutdown } from './subscriptions/http/prompt-http-shutdown';
import { SubscriptionsService } from './subscriptions/subscriptions.service';
import { RealtimeClient } from './realtime/realtime-client.service';
import { RealtimeEvents } from './realtime/realtime-events';
import { RealtimeMetrics } from './realtime/realtime-metrics.service';
import { RealtimeHealthIndicator } from './realtime/realtime.health';
import { CallEvents } from './transport/call-events';

/**
 * Each part's events, one instance each in the app, and `KugelCommsEvents`, which gathers them
 * for the app (its properties are these same sources). The listeners are wired here too: the
 * metrics providers below subscribe to the events they count.
 */
const EVENTS = [CallEvents, BreakerEvents, SubscriptionEvents, RealtimeEvents, KugelCommsEvents];

const PROVIDERS = [
  ...EVENTS,
  CircuitBreakerRegistry,
  HttpClientHelper,
  DaprClientHelper,
  ServiceTokenService,
  CircuitBreakerHealthIndicator,
  KugelCommsMetrics,
  SubscriptionsService,
  SubscriptionMetrics,
  PromptHttpShutdown,
  EventRepublishers,
  RepublishMetrics,
  RepublisherHealthIndicator,
  RealtimeClient,
  RealtimeHealthIndicator,
  RealtimeMetrics,
];

/**
 * `KugelCommsModule.forRoot(options)` / `forRootAsync({ imports, inject, useFactory | useClass |
 * useExisting })`, with `isGlobal`. Options are resolved and validated once, when the module is
 * instantiated: a bad value stops boot with `InvalidOptionsError`.
 */
@Module({
  imports: [TerminusModule, DiscoveryModule],
  providers: [
    {
      provide: KUGEL_COMMS_RESOLVED_OPTIONS,
      useFactory: (options: KugelCommsModuleOptions) => resolveOptions(options),
      inject: [KUGEL_COMMS_USER_OPTIONS],
    },
    ...PROVIDERS,
  ],
  exports: [KUGEL_COMMS_RESOLVED_OPTIONS, ...PROVIDERS],
})
export class KugelCommsModule extends KugelCommsConfigurableModule {
  /** Registers the repositories named in `repositories.enabled` (all of them by default). */
  static override forRoot(options: typeof KUGEL_COMMS_OPTIONS_TYPE): DynamicModule {
    return withFeatureHost(
      withRepositories(super.forRoot(options), repositoryProviders(options?.repositories?.enabled)),
    );
  }

  /** Registers every repository: async options are not known while the module graph is built. */
  static override forRootAsync(options: typeof KUGEL_COMMS_ASYNC_OPTIONS_TYPE): DynamicModule {
    return withFeatureHost(withRepositories(super.forRootAsync(options), REPOSITORY_PROVIDERS));
  }

  /**
   * Makes the pooled `ServiceClient` of each named service injectable with
   * `@InjectServiceClient(name)` in the importing module (the same object `getServiceClient(name)`
   * returns). Needs `forRoot`/`forRootAsync` somewhere in the application, global or not; an
   * unknown name stops boot with the discovery error.
   */
  static forFeature(serviceNames: readonly string[]): DynamicModule {
    return serviceClientFeature(serviceNames);
  }

  /**
   * Registers a republisher named `name` over `options.source` (see `RepublisherOptions`), started
   * when the application has bootstrapped and stopped on shutdown; inject it with
   * `@InjectRepublisher(name)`. Needs `forRoot`/`forRootAsync` somewhere in the application.
   */
  static forRepublisher(name: string, options: RepublisherOptions): DynamicModule {
    return republisherFeature(name, options);
  }

  /** `forRepublisher` with the options from a factory (the source is usually one of the app's providers). */
  static forRepublisherAsync(name: string, options: RepublisherAsyncOptions): DynamicModule {
    return republisherFeature(name, options);
  }
}

function withRepositories(
  module: DynamicModule,
  repositories: Array<new (...args: never[]) => unknown>,
): DynamicModule {
  return {
    ...module,
    providers: [...(module.providers ?? []), ...repositories],
    exports: [...(module.exports ?? []), ...repositories],
  };
}
