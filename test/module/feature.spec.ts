import { DynamicModule, Injectable, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TestingModule } from '@nestjs/testing';
import {
  getServiceClientToken,
  HttpClientHelper,
  InjectServiceClient,
  isHttpClientError,
  KugelCommsModule,
  KugelCommsModuleOptions,
  ServiceClient,
} from '../../lib';
import {
  configWithServices,
  KugelOptionsFactory,
  OptionsFactoryModule,
  optionsFromConfig,
  registrationSuite,
} from './support/registration';

/** A feature service that injects pooled clients by name, in its constructor and as a property. */
@Injectable()
class CatalogService {
  @InjectServiceClient('pricing') readonly pricing!: ServiceClient;

  constructor(@InjectServiceClient('master-data') readonly masterData: ServiceClient) {}
}

@Module({ imports: [KugelCommsModule.forFeature(['master-data', 'pricing'])], providers: [CatalogService] })
class CatalogModule {}

/** A second feature module asking for one of the same services. */
@Injectable()
class OrdersService {
  constructor(@InjectServiceClient('master-data') readonly masterData: ServiceClient) {}
}

@Module({ imports: [KugelCommsModule.forFeature(['master-data'])], providers: [OrdersService] })
class OrdersModule {}

describe('KugelCommsModule.forFeature and @InjectServiceClient', () => {
  const suite = registrationSuite();
  const compile = suite.compile;
  const services = () => ({ 'master-data': `${suite.peer.url}/md`, pricing: `${suite.peer.url}/prices` });
  const options = (): KugelCommsModuleOptions => ({ services: services(), dapr: { waitForSidecarMs: 0 } });
  const configModule = () => configWithServices(services());
  /** The injected clients are the pooled ones, and they call the configured peers. */
  const expectInjected = async (ref: TestingModule) => {
    const http = ref.get(HttpClientHelper);
    const catalog = ref.get(CatalogService);
    expect(catalog.masterData).toBeInstanceOf(ServiceClient);
    expect(catalog.masterData).toBe(http.getServiceClient('master-data'));
    expect(catalog.pricing).toBe(http.getServiceClient('pricing'));
    expect(ref.get(OrdersService).masterData).toBe(catalog.masterData);
    expect(ref.get(getServiceClientToken('pricing'))).toBe(catalog.pricing);
    await expect(catalog.masterData.get('/items/i1')).resolves.toEqual({ url: '/md/items/i1' });
    await expect(catalog.pricing.get('/p/i1')).resolves.toEqual({ url: '/prices/p/i1' });
  };

  const roots: Array<[string, (isGlobal: boolean) => unknown[]]> = [
    ['forRoot', (isGlobal) => [KugelCommsModule.forRoot({ ...options(), isGlobal })]],
    [
      'forRootAsync with useFactory and ConfigService',
      (isGlobal) => [
        configModule(),
        KugelCommsModule.forRootAsync({
          imports: [ConfigModule],
          inject: [ConfigService],
          useFactory: optionsFromConfig,
          isGlobal,
        }),
      ],
    ],
    [
      'forRootAsync with useClass',
      (isGlobal) => [
        configModule(),
        KugelCommsModule.forRootAsync({ imports: [ConfigModule], useClass: KugelOptionsFactory, isGlobal }),
      ],
    ],
    [
      'forRootAsync with useExisting',
      (isGlobal) => [
        configModule(),
        KugelCommsModule.forRootAsync({ imports: [OptionsFactoryModule], useExisting: KugelOptionsFactory, isGlobal }),
      ],
    ],
  ];

  describe.each(roots)('%s', (_how, root) => {
    it.each([false, true])('isGlobal %s: feature modules inject the pooled clients', async (isGlobal) => {
      await expectInjected(await compile([...root(isGlobal), CatalogModule, OrdersModule]));
    });

    it('forFeature next to the root module, in the same module', async () => {
      const ref = await compile(
        [...root(false), KugelCommsModule.forFeature(['master-data', 'pricing']), OrdersModule],
        [CatalogService],
      );
      await expectInjected(ref);
    });

    it('an unknown service name stops boot with the discovery error', async () => {
      @Module({ imports: [KugelCommsModule.forFeature(['master-data', 'inventory'])] })
      class InventoryModule {}
      let error: unknown;
      try {
        await compile([...root(false), InventoryModule]);
      } catch (e) {
        error = e;
      }
      expect(isHttpClientError(error)).toBe(true);
      expect((error as Error).message).toBe(
        'unknown service "inventory": set KugelCommsModule option services["inventory"] or the environment variable' +
          ' BASE_URL_INVENTORY (or turn on dapr.serviceInvocation)',
      );
    });
  });

  it('without isGlobal, forFeature lends only the clients: HttpClientHelper stays where the root is imported', async () => {
    @Injectable()
    class NeedsHelper {
      constructor(readonly http: HttpClientHelper) {}
    }
    @Module({ imports: [KugelCommsModule.forFeature(['master-data'])], providers: [NeedsHelper] })
    class LeakyModule {}
    await expect(compile([KugelCommsModule.forRoot(options()), LeakyModule])).rejects.toThrow(/HttpClientHelper/);
  });

  it('a name found through BASE_URL_<NAME> is injectable too', async () => {
    process.env.BASE_URL_STOCK_LEVELS = `${suite.peer.url}/stock`;
    try {
      @Injectable()
      class StockService {
        constructor(@InjectServiceClient('stock-levels') readonly stock: ServiceClient) {}
      }
      @Module({ imports: [KugelCommsModule.forFeature(['stock-levels'])], providers: [StockService] })
      class StockModule {}
      const ref = await compile([KugelCommsModule.forRoot(options()), StockModule]);
      await expect(ref.get(StockService).stock.get('/s/1')).resolves.toEqual({ url: '/stock/s/1' });
    } finally {
      delete process.env.BASE_URL_STOCK_LEVELS;
    }
  });

  it('forFeature without forRoot/forRootAsync fails at boot saying what is missing', async () => {
    await expect(compile([CatalogModule])).rejects.toThrow(
      'KugelCommsModule.forFeature(["master-data","pricing"]) needs KugelCommsModule.forRoot() or forRootAsync() in the application',
    );
  });

  it.each([
    ['a string', 'master-data', 'KugelCommsModule.forFeature() takes an array of service names; got "master-data"'],
    [
      'a number in the list',
      ['master-data', 7],
      'KugelCommsModule.forFeature() takes an array of service names; got ["master-data",7]',
    ],
    ['an empty name', [''], 'a service client token needs a service name (a non-empty string); got '],
  ])('forFeature refuses %s', (_what, names, message) => {
    expect(() => KugelCommsModule.forFeature(names as string[])).toThrow(new TypeError(message));
  });

  it('tokens are namespaced strings', () => {
    expect(getServiceClientToken('master-data')).toBe('KUGEL_COMMS:SERVICE_CLIENT:master-data');
    const feature: DynamicModule = KugelCommsModule.forFeature(['a', 'b', 'a']);
    // With @nestjs/axios installed (a dev dependency here), an HttpService per name too.
    expect(feature.exports).toEqual([
      'KUGEL_COMMS:SERVICE_CLIENT:a',
      'KUGEL_COMMS:SERVICE_CLIENT:b',
      'KUGEL_COMMS:HTTP_SERVICE:a',
      'KUGEL_COMMS:HTTP_SERVICE:b',
    ]);
  });
});
