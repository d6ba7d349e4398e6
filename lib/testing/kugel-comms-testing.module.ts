import { DynamicModule, Module } from '@nestjs/common';
import { KUGEL_COMMS_SENDER } from '../kugel-comms.constants';
import { TransportSender } from '../transport/transport-sender';
import { InMemorySidecar } from './in-memory-sidecar';
import { KugelCommsTesting } from './kugel-comms-testing.service';
import { PeerStubs } from './peer-stubs';
import { KugelCommsTestingOptions } from './testing-options.interface';
import { TESTING_PEERS, TESTING_SIDECAR } from './testing.constants';

const LABEL = 'in memory (kugel-comms/testing)';

/**
 * For an app's own unit tests, with `@nestjs/testing`: imported next to the test's
 * `KugelCommsModule` (its own `forRoot`, or the one inside the app module under test), it makes
 * every pooled client of that module send its calls to memory — the peers to `stubs`, the sidecar
 * to an in-memory Dapr — and provides `KugelCommsTesting` to drive and assert them. Everything
 * else is the real module: `ServiceClient`, `HttpService`, `DaprClientHelper`, repositories,
 * breakers, retries, health, events, metrics, `@DaprSubscribe` dispatch. No socket is opened.
 *
 * Global: one per testing module (each `forRoot` has its own stubs and sidecar).
 *
 * ```ts
 * const moduleRef = await Test.createTestingModule({
 *   imports: [
 *     KugelCommsModule.forRoot({ isGlobal: true }),
 *     KugelCommsTestingModule.forRoot({ stubs: { 'master-data': [{ method: 'GET', path: '/items/:code', reply: { body: item } }] } }),
 *     CartModule,
 *   ],
 * }).compile();
 * await moduleRef.init();
 * const kugel = moduleRef.get(KugelCommsTesting);
 * ```
 */
@Module({})
export class KugelCommsTestingModule {
  static forRoot(options: KugelCommsTestingOptions = {}): DynamicModule {
    const peers = new PeerStubs(options.stubs);
    const sidecar = new InMemorySidecar(options.dapr);
    const sender: TransportSender = {
      label: LABEL,
      serviceAdapter: (service) => peers.adapterFor(service),
      sidecarAdapter: () => sidecar.adapter,
      baseUrlFor: (service) => (peers.has(service) ? `http://${service}.kugel-comms-testing.invalid` : undefined),
    };
    return {
      module: KugelCommsTestingModule,
      global: true,
      providers: [
        { provide: KUGEL_COMMS_SENDER, useValue: sender },
        { provide: TESTING_PEERS, useValue: peers },
        { provide: TESTING_SIDECAR, useValue: sidecar },
        KugelCommsTesting,
      ],
      exports: [KUGEL_COMMS_SENDER, KugelCommsTesting],
    };
  }
}
