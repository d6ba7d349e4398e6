import { Test } from '@nestjs/testing';
import { DaprClientHelper, EventHandledEvent, KugelCommsEvents, KugelCommsModule } from '../../lib';
import { KugelCommsTesting, KugelCommsTestingModule, StateStoreKind } from '../../lib/testing';
import { InMemorySidecar } from '../../lib/testing/in-memory-sidecar';
import { TESTING_SIDECAR } from '../../lib/testing/testing.constants';
import {
  CONTRACT_MAX_BODY_BYTES,
  ContractConsumer,
  DaprContractTarget,
  describeDaprContract,
} from '../contract/dapr-contract';
import { rawInMemory } from '../contract/raw-requests';

const APP_TOKEN = 'contract-app-token';

/** The stand-in of kugel-comms/testing, its `statestore` of `kind`, with the contract's app. */
async function standIn(kind: StateStoreKind): Promise<DaprContractTarget> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      KugelCommsModule.forRoot({
        dapr: { retries: 0 },
        subscriptions: { maxBodyBytes: CONTRACT_MAX_BODY_BYTES, appApiToken: APP_TOKEN },
      }),
      KugelCommsTestingModule.forRoot({
        dapr: {
          appId: 'kugel-contract',
          // A name alone is an in-memory store; a kind is given by name.
          stores: kind === 'in-memory' ? ['statestore'] : { statestore: kind },
          appApiToken: APP_TOKEN,
        },
      }),
    ],
    providers: [ContractConsumer],
  }).compile();
  await moduleRef.init();
  const kugel = moduleRef.get(KugelCommsTesting);
  const handled: EventHandledEvent[] = [];
  moduleRef.get(KugelCommsEvents).eventHandled.on((e) => handled.push(e));
  return {
    dapr: moduleRef.get(DaprClientHelper),
    appId: 'kugel-contract',
    storeKind: kind,
    raw: rawInMemory(moduleRef.get<InMemorySidecar>(TESTING_SIDECAR).adapter),
    consumer: moduleRef.get(ContractConsumer),
    handled,
    deliver: async () => {
      await kugel.dapr.flush();
    },
    close: () => moduleRef.close(),
  };
}

// The same contract on the in-memory stand-in, for each store kind it stands for.
describeDaprContract('the in-memory stand-in (kugel-comms/testing)', () => standIn('in-memory'));
describeDaprContract('the in-memory stand-in, statestore as state.redis', () => standIn('redis'), { delivery: false });
// No PostgreSQL server in the tests yet: these expectations come from the component's source
// (components-contrib v1.18.0, state/postgresql/v2) and the figures measured on a real server.
describeDaprContract('the in-memory stand-in, statestore as state.postgresql', () => standIn('postgresql'), {
  delivery: false,
});
