import { Injectable, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TestingModule } from '@nestjs/testing';
import {
  CircuitBreakerHealthIndicator,
  DaprClientHelper,
  HttpClientHelper,
  isInvalidOptionsError,
  KugelCommsModule,
  ServiceTokenService,
} from '../../lib';
import { KUGEL_COMMS_RESOLVED_OPTIONS } from '../../lib/kugel-comms.constants';
import { ResolvedKugelCommsOptions } from '../../lib/options/resolved-options.interface';
import {
  configWithServices,
  KugelOptionsFactory,
  OptionsFactoryModule,
  optionsFromConfig,
  registrationSuite,
} from './support/registration';

/** A feature service that injects the helpers in its constructor, as users do. */
@Injectable()
class CartService {
  constructor(
    readonly http: HttpClientHelper,
    readonly dapr: DaprClientHelper,
  ) {}

  item(code: string): Promise<unknown> {
    return this.http.getServiceClient('master-data').get(`/items/${code}`);
  }
}

describe('module registration paths', () => {
  const suite = registrationSuite([CartService]);
  const compile = suite.compile;
  const configModule = () => configWithServices({ 'master-data': suite.peer.url });
  const expectWorking = async (ref: TestingModule) => {
    await expect(ref.get(CartService).item('i1')).resolves.toEqual({ url: '/items/i1' });
    expect(ref.get(DaprClientHelper)).toBeInstanceOf(DaprClientHelper);
    expect(ref.get(ServiceTokenService)).toBeInstanceOf(ServiceTokenService);
    expect(ref.get(CircuitBreakerHealthIndicator)).toBeInstanceOf(CircuitBreakerHealthIndicator);
  };

  it('forRoot(options)', async () => {
    const ref = await compile([
      KugelCommsModule.forRoot({ services: { 'master-data': suite.peer.url }, dapr: { waitForSidecarMs: 0 } }),
    ]);
    await expectWorking(ref);
    const resolved = ref.get<ResolvedKugelCommsOptions>(KUGEL_COMMS_RESOLVED_OPTIONS);
    expect(resolved.http.timeoutMs).toBe(30_000);
  });

  it('forRootAsync with useFactory and ConfigService', async () => {
    const ref = await compile([
      configModule(),
      KugelCommsModule.forRootAsync({
        imports: [ConfigModule],
        inject: [ConfigService],
        useFactory: optionsFromConfig,
      }),
    ]);
    await expectWorking(ref);
  });

  it('forRootAsync with an async useFactory', async () => {
    const ref = await compile([
      KugelCommsModule.forRootAsync({
        useFactory: async () => {
          await new Promise((r) => setTimeout(r, 5));
          return { services: { 'master-data': suite.peer.url }, dapr: { waitForSidecarMs: 0 } };
        },
      }),
    ]);
    await expectWorking(ref);
  });

  it('forRootAsync with useClass', async () => {
    const ref = await compile([
      configModule(),
      KugelCommsModule.forRootAsync({ imports: [ConfigModule], useClass: KugelOptionsFactory }),
    ]);
    await expectWorking(ref);
  });

  it('forRootAsync with useExisting', async () => {
    const ref = await compile([
      configModule(),
      KugelCommsModule.forRootAsync({ imports: [OptionsFactoryModule], useExisting: KugelOptionsFactory }),
    ]);
    await expectWorking(ref);
  });

  it('isGlobal: feature modules inject the helpers without importing the module', async () => {
    @Module({ providers: [CartService], exports: [CartService] })
    class FeatureModule {}
    const ref = await compile(
      [
        KugelCommsModule.forRoot({
          services: { 'master-data': suite.peer.url },
          dapr: { waitForSidecarMs: 0 },
          isGlobal: true,
        }),
        FeatureModule,
      ],
      [],
    );
    await expect(ref.get(CartService).item('g')).resolves.toEqual({ url: '/items/g' });
  });

  it('without isGlobal a feature module that does not import it cannot resolve the helpers', async () => {
    @Module({ providers: [CartService], exports: [CartService] })
    class FeatureModule {}
    await expect(
      compile(
        [
          KugelCommsModule.forRoot({ services: { 'master-data': suite.peer.url }, dapr: { waitForSidecarMs: 0 } }),
          FeatureModule,
        ],
        [],
      ),
    ).rejects.toThrow(/HttpClientHelper/);
  });

  it.each([
    ['forRoot', () => KugelCommsModule.forRoot({ http: { retries: -2 } })],
    ['forRootAsync', () => KugelCommsModule.forRootAsync({ useFactory: () => ({ http: { retries: -2 } }) })],
  ])('%s: a bad option stops boot with an error naming the option and the value', async (_how, make) => {
    let error: unknown;
    try {
      await compile([make()], []);
    } catch (e) {
      error = e;
    }
    expect(isInvalidOptionsError(error)).toBe(true);
    expect((error as Error).message).toBe('KugelCommsModule option "http.retries" must be an integer ≥ 0; got -2');
  });
});
