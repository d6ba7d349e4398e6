import { DynamicModule, InjectionToken, Module, ModuleMetadata, OptionalFactoryDependency } from '@nestjs/common';
import { KUGEL_COMMS_REPUBLISHERS_HOST } from '../kugel-comms.constants';
import { EventRepublishers } from './event-republishers.service';
import { getRepublisherToken } from './republisher.decorator';
import { RepublisherOptions } from './republisher-options';

/** `KugelCommsModule.forRepublisherAsync(name, ...)`: the options from a factory with injected providers. */
export interface RepublisherAsyncOptions {
  /** Modules exporting what the factory injects (the app's module holding the source, `ConfigModule`, ...). */
  imports?: ModuleMetadata['imports'];
  inject?: Array<InjectionToken | OptionalFactoryDependency>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Nest's factory signature: the injected values' types are the app's
  useFactory: (...args: any[]) => RepublisherOptions | Promise<RepublisherOptions>;
}

/** What `forRepublisher` returns: the republisher's provider. */
@Module({})
export class KugelCommsRepublisherModule {}

/**
 * A module providing the republisher `name` under `getRepublisherToken(name)`, registered with the
 * root module's `EventRepublishers` when the module is instantiated (a bad option stops boot).
 */
export function republisherFeature(name: string, options: RepublisherOptions | RepublisherAsyncOptions): DynamicModule {
  const token = getRepublisherToken(name);
  const isAsync = typeof (options as RepublisherAsyncOptions)?.useFactory === 'function';
  const factory = isAsync ? (options as RepublisherAsyncOptions).useFactory : () => options as RepublisherOptions;
  const inject = isAsync ? ((options as RepublisherAsyncOptions).inject ?? []) : [];
  return {
    module: KugelCommsRepublisherModule,
    imports: isAsync ? ((options as RepublisherAsyncOptions).imports ?? []) : [],
    providers: [
      {
        provide: token,
        useFactory: async (host: EventRepublishers | undefined, ...args: unknown[]) => {
          if (!host) {
            throw new Error(
              `KugelCommsModule.forRepublisher(${JSON.stringify(name)}) needs KugelCommsModule.forRoot() or forRootAsync() in the application`,
            );
          }
          return host.register(name, await factory(...args));
        },
        inject: [{ token: KUGEL_COMMS_REPUBLISHERS_HOST, optional: true }, ...inject],
      },
    ],
    exports: [token],
  };
}
