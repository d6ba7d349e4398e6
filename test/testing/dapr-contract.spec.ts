import { Test } from '@nestjs/testing';
import { DaprClientHelper, KugelCommsModule } from '../../lib';
import { KugelCommsTesting, KugelCommsTestingModule } from '../../lib/testing';
import { ContractConsumer, describeDaprContract } from '../contract/dapr-contract';

// The same contract on the in-memory stand-in of kugel-comms/testing.
describeDaprContract('the in-memory stand-in (kugel-comms/testing)', async () => {
  const moduleRef = await Test.createTestingModule({
    imports: [
      KugelCommsModule.forRoot({ dapr: { retries: 0 } }),
      KugelCommsTestingModule.forRoot({ dapr: { appId: 'kugel-contract' } }),
    ],
    providers: [ContractConsumer],
  }).compile();
  await moduleRef.init();
  const kugel = moduleRef.get(KugelCommsTesting);
  return {
    dapr: moduleRef.get(DaprClientHelper),
    appId: 'kugel-contract',
    store: 'in-memory',
    consumer: moduleRef.get(ContractConsumer),
    deliver: async () => {
      await kugel.dapr.flush();
    },
    close: () => moduleRef.close(),
  };
});

// The stand-in answering like state.postgresql v2 (`dapr.kinds`), against the same contract the
// real daprd with PostgreSQL passes (test/dapr/dapr-contract.spec.ts).
describeDaprContract('the in-memory stand-in as state.postgresql (kugel-comms/testing)', async () => {
  const moduleRef = await Test.createTestingModule({
    imports: [
      KugelCommsModule.forRoot({ dapr: { retries: 0 } }),
      KugelCommsTestingModule.forRoot({ dapr: { appId: 'kugel-contract', kinds: { statestore: 'postgresql' } } }),
    ],
    providers: [ContractConsumer],
  }).compile();
  await moduleRef.init();
  const kugel = moduleRef.get(KugelCommsTesting);
  return {
    dapr: moduleRef.get(DaprClientHelper),
    appId: 'kugel-contract',
    store: 'postgresql',
    consumer: moduleRef.get(ContractConsumer),
    deliver: async () => {
      await kugel.dapr.flush();
    },
    close: () => moduleRef.close(),
  };
});
