import { DynamicModule, Module, Provider } from '@nestjs/common';
import { HttpClientHelper } from './http/http-client.helper';
import { getServiceClientToken } from './http/service-client.decorator';
import { KUGEL_COMMS_FEATURE_HOST, KUGEL_COMMS_REPUBLISHERS_HOST } from './kugel-comms.constants';
import { EventRepublishers } from './republish/event-republishers.service';

/**
 * Lends the root module's `HttpClientHelper` to every `forFeature` module, and its
 * `EventRepublishers` to every `forRepublisher` module, under internal tokens.
 * It is global, so that `forFeature` works in any module, also when the root module is not
 * (`isGlobal: false` keeps `HttpClientHelper` itself visible only where the root is imported), the
 * way `@nestjs/config` keeps a global host for `ConfigModule.forFeature`.
 */
@Module({})
export class KugelCommsFeatureHostModule {}

/** What `KugelCommsModule.forFeature()` returns: one provider per service client. */
@Module({})
export class KugelCommsFeatureModule {}

/** Adds the global host to a root dynamic module (the host imports that same root module). */
export function withFeatureHost(root: DynamicModule): DynamicModule {
  const host: DynamicModule = {
    module: KugelCommsFeatureHostModule,
    global: true,
    imports: [root],
    providers: [
      { provide: KUGEL_COMMS_FEATURE_HOST, useExisting: HttpClientHelper },
      { provide: KUGEL_COMMS_REPUBLISHERS_HOST, useExisting: EventRepublishers },
    ],
    exports: [KUGEL_COMMS_FEATURE_HOST, KUGEL_COMMS_REPUBLISHERS_HOST],
  };
  // A cycle of module references (root → host → root); Nest's scanner and module keys allow it.
  root.imports = [...(root.imports ?? []), host];
  return root;
}

/**
 * Providers of the pooled `ServiceClient` of each named service, under `getServiceClientToken(name)`.
 * Each is created at boot, so an unknown name stops start-up with the discovery error.
 */
export function serviceClientFeature(serviceNames: readonly string[]): DynamicModule {
  if (!Array.isArray(serviceNames) || serviceNames.some((name) => typeof name !== 'string')) {
    throw new TypeError(
      `KugelCommsModule.forFeature() takes an array of service names; got ${JSON.stringify(serviceNames) ?? String(serviceNames)}`,
    );
  }
  const providers: Provider[] = [...new Set(serviceNames)].map((name) => ({
    provide: getServiceClientToken(name),
    useFactory: (http: HttpClientHelper | undefined) => {
      if (!http) {
        throw new Error(
          `KugelCommsModule.forFeature(${JSON.stringify(serviceNames)}) needs KugelCommsModule.forRoot() or forRootAsync() in the application`,
        );
      }
      return http.getServiceClient(name);
    },
    inject: [{ token: KUGEL_COMMS_FEATURE_HOST, optional: true }],
  }));
  return {
    module: KugelCommsFeatureModule,
    providers,
    exports: providers.map((p) => (p as { provide: string }).provide),
  };
}
