import { Injectable, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Test, TestingModule } from '@nestjs/testing';
import { KugelCommsModuleOptions } from '../../../lib';
import { json, startTestServer, TestServer } from '../../support/test-server';

/** The configuration key the options factories read the peers' base URLs from. */
const SERVICES = 'KUGEL_SERVICES';

/** A `ConfigModule` whose configuration holds `services` (base URL by service name), for `forRootAsync`. */
export function configWithServices(services: Record<string, string>) {
  return ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => ({ [SERVICES]: services })] });
}

/** Module options built from `ConfigService`, as an app's `useFactory` does. */
export function optionsFromConfig(config: ConfigService): KugelCommsModuleOptions {
  return { services: config.getOrThrow<Record<string, string>>(SERVICES), dapr: { waitForSidecarMs: 0 } };
}

/** An options factory class, for `useClass` and `useExisting`. */
@Injectable()
export class KugelOptionsFactory {
  constructor(private readonly config: ConfigService) {}

  createKugelCommsOptions(): KugelCommsModuleOptions {
    return optionsFromConfig(this.config);
  }
}

/** Exports `KugelOptionsFactory`, for `useExisting`. */
@Module({ imports: [ConfigModule], providers: [KugelOptionsFactory], exports: [KugelOptionsFactory] })
export class OptionsFactoryModule {}

/**
 * The suite's peer, an echo server answering `{ url }`, started before the suite; and `compile()`,
 * which builds and initialises a testing module that is closed after each test.
 */
export function registrationSuite(defaultProviders: unknown[] = []) {
  const suite = {
    peer: undefined as unknown as TestServer,
    async compile(imports: unknown[], providers: unknown[] = defaultProviders): Promise<TestingModule> {
      moduleRef = await Test.createTestingModule({
        imports: imports as never,
        providers: providers as never,
      }).compile();
      await moduleRef.init();
      return moduleRef;
    },
  };
  let moduleRef: TestingModule | undefined;
  beforeAll(async () => {
    suite.peer = await startTestServer((req, res) => json(res, 200, { url: req.url }));
  });
  afterEach(async () => {
    await moduleRef?.close();
    moduleRef = undefined;
  });
  afterAll(() => suite.peer.close());
  return suite;
}
