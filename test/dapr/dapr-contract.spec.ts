import { describeDaprContract, ContractConsumer } from '../contract/dapr-contract';
import { startStack } from './subscription-stack';

// The contract on the real test daprd (in-memory components), with an app subscribed through it.
describeDaprContract('the test daprd (in-memory components)', async () => {
  const stack = await startStack({ providers: [ContractConsumer], subscriptions: 2, appId: 'kugel-contract' });
  return {
    dapr: stack.dapr,
    appId: 'kugel-contract',
    consumer: stack.app.app.get(ContractConsumer),
    deliver: async () => undefined,
    close: () => stack.close(),
  };
});
