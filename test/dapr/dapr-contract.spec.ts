import { describeDaprContract, ContractConsumer } from '../contract/dapr-contract';
import { PostgresServer } from '../support/postgres';
import { ComponentSet } from './daprd';
import { startStack } from './subscription-stack';

// The contract on the real test daprd, with an app subscribed through it: the in-memory
// components, then the same calls with the state store on PostgreSQL (a server started by the
// test on loopback). Where the stores answer differently the contract says so per
// store (`ContractTarget.store`); docs/components.md lists the differences.
describeDaprContract('the test daprd (in-memory components)', async () => {
  const stack = await startStack({ providers: [ContractConsumer], subscriptions: 2, appId: 'kugel-contract' });
  return {
    dapr: stack.dapr,
    appId: 'kugel-contract',
    store: 'in-memory',
    consumer: stack.app.app.get(ContractConsumer),
    deliver: async () => undefined,
    close: () => stack.close(),
  };
});

describeDaprContract('the test daprd (state.postgresql v2, pubsub.in-memory)', async () => {
  const postgres = await PostgresServer.start();
  try {
    return await withStack(
      'postgres',
      { postgresConnection: postgres.connectionString },
      'postgresql',
      () => postgres.dispose(),
    );
  } catch (error) {
    await postgres.dispose();
    throw error;
  }
});

async function withStack(
  components: ComponentSet,
  servers: { postgresConnection?: string },
  store: 'postgresql',
  disposeServer: () => Promise<void>,
) {
  const stack = await startStack({
    providers: [ContractConsumer],
    subscriptions: 2,
    appId: 'kugel-contract',
    components,
    ...servers,
  });
  return {
    dapr: stack.dapr,
    appId: 'kugel-contract',
    store,
    consumer: stack.app.app.get(ContractConsumer),
    deliver: async () => undefined,
    close: async () => {
      await stack.close();
      await disposeServer();
    },
  };
}
