import { DaprClientHelper } from '../../lib';
import { bootKugelComms } from '../support/module-fixture';
import { PostgresServer } from '../support/postgres';
import { RedisServer } from '../support/redis';
import { CONTRACT_MAX_BODY_BYTES, ContractConsumer, describeDaprContract } from '../contract/dapr-contract';
import { rawOverHttp } from '../contract/raw-requests';
import { Daprd } from './daprd';
import { startStack } from './subscription-stack';

const APP_TOKEN = 'contract-app-token';

// The contract on the real test daprd (in-memory components), with an app subscribed through it.
describeDaprContract('the test daprd (in-memory components)', async () => {
  const stack = await startStack({
    providers: [ContractConsumer],
    subscriptions: 2,
    appId: 'kugel-contract',
    appToken: APP_TOKEN,
    options: { subscriptions: { maxBodyBytes: CONTRACT_MAX_BODY_BYTES, appApiToken: APP_TOKEN } },
  });
  return {
    dapr: stack.dapr,
    appId: 'kugel-contract',
    storeKind: 'in-memory',
    raw: rawOverHttp(stack.daprd.httpEndpoint),
    consumer: stack.app.app.get(ContractConsumer),
    handled: stack.app.handled,
    deliver: async () => undefined,
    close: () => stack.close(),
  };
});

// The state half on state.redis (a redis-server of the test's own).
describeDaprContract(
  'the test daprd (state.redis)',
  async () => {
    const redis = await RedisServer.start();
    const daprd = await Daprd.start({ components: 'redis-state', redisHost: redis.host, appId: 'kugel-contract' });
    const app = await bootKugelComms({
      dapr: { httpEndpoint: daprd.httpEndpoint, retries: 0, waitForSidecarMs: 5_000 },
    });
    return {
      dapr: app.get(DaprClientHelper),
      appId: 'kugel-contract',
      storeKind: 'redis',
      raw: rawOverHttp(daprd.httpEndpoint),
      deliver: async () => undefined,
      close: async () => {
        await app.close();
        await daprd.dispose();
        await redis.dispose();
      },
    };
  },
  { delivery: false },
);

// The state half on state.postgresql v2 (a PostgreSQL server of the test's own, on loopback).
describeDaprContract(
  'the test daprd (state.postgresql v2)',
  async () => {
    const postgres = await PostgresServer.start();
    const daprd = await Daprd.start({
      components: 'postgres',
      postgresConnection: postgres.connectionString,
      appId: 'kugel-contract',
    }).catch(async (error: unknown) => {
      await postgres.dispose();
      throw error;
    });
    const app = await bootKugelComms({
      dapr: { httpEndpoint: daprd.httpEndpoint, retries: 0, waitForSidecarMs: 5_000 },
    });
    return {
      dapr: app.get(DaprClientHelper),
      appId: 'kugel-contract',
      storeKind: 'postgresql',
      raw: rawOverHttp(daprd.httpEndpoint),
      deliver: async () => undefined,
      close: async () => {
        await app.close();
        await daprd.dispose();
        await postgres.dispose();
      },
    };
  },
  { delivery: false },
);

