import { DynamicModule, Module, Provider } from '@nestjs/common';
import { hasOptionalPeer } from './common/optional-peer';
import { HttpClientHelper } from './http/http-client.helper';
import { getHttpServiceToken } from './http/http-service.decorator';
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
 * Providers of the pooled `ServiceClient` of each named service, under `getServiceClientToken(name)`,
 * and, when `@nestjs/axios` is installed, of its `HttpService`, under `getHttpServiceToken(name)`.
 * Each is created at boot, so an unknown name stops start-up with the discovery error.
 */
export function serviceClientFeature(serviceNames: readonly string[]): DynamicModule {
  if (!Array.isArray(serviceNames) || serviceNames.some((name) => typeof name !== 'string')) {
    throw new TypeError(
      `KugelCommsModule.forFeature() takes an array of service names; got ${JSON.stringify(serviceNames) ?? String(serviceNames)}`,
    );
  }
  const host = (http: HttpClientHelper | undefined): HttpClientHelper => {
    if (!http) {
      throw new Error(
        `KugelCommsModule.forFeature(${JSON.stringify(serviceNames)}) needs KugelCommsModule.forRoot() or forRootAsync() in the application`,
      );
    }
    return http;
  };
  const inject = [{ token: KUGEL_COMMS_FEATURE_HOST, optional: true }];
  const names = [...new Set(serviceNames)];
  const providers: Provider[] = names.map((name) => ({
    provide: getServiceClientToken(name),
    useFactory: (http: HttpClientHelper | undefined) => host(http).getServiceClient(name),
    inject,
  }));
  if (hasOptionalPeer('@nestjs/axios')) {
    for (const name of names) {
      providers.push({
        provide: getHttpServiceToken(name),
        useFactory: (http: HttpClientHelper | undefined) => host(http).getHttpService(name),
        inject,
      });
    }
  }
  return {
    module: KugelCommsFeatureModule,
    providers,
    exports: providers.map((p) => (p as { provide: string }).provide),
  };
}
