import { Provider } from '@nestjs/common';
import { DaprClientHelper, KugelCommsModuleOptions } from '../../lib';
import { freePort, waitUntil } from '../support/processes';
import { Platform, startSubscriberApp, SubscriberApp } from '../subscriptions/support/subscriber-app';
import { ComponentSet, Daprd } from './daprd';

/** A subscriber app on the app's own port and its daprd, pointed at each other. */
export interface SubscriptionStack {
  app: SubscriberApp;
  daprd: Daprd;
  /** The app's own sidecar client (to publish through). */
  dapr: DaprClientHelper;
  close(): Promise<void>;
}

/**
 * Starts the app on a free port, then its daprd with `--app-port` (daprd asks `GET /dapr/subscribe`
 * once the port accepts connections), and waits until daprd lists `subscriptions` programmatic
 * subscriptions in `/v1.0/metadata`.
 */
export async function startStack(o: {
  providers: Provider[];
  platform?: Platform;
  options?: KugelCommsModuleOptions;
  components?: ComponentSet;
  redisHost?: string;
  postgresConnection?: string;
  kafkaBrokers?: string;
  rabbitmqUrl?: string;
  appToken?: string;
  appId?: string;
  subscriptions: number;
}): Promise<SubscriptionStack> {
  const appPort = await freePort();
  const daprd = await Daprd.create({
    components: o.components ?? 'in-memory',
    redisHost: o.redisHost,
    postgresConnection: o.postgresConnection,
    kafkaBrokers: o.kafkaBrokers,
    rabbitmqUrl: o.rabbitmqUrl,
    appPort,
    appToken: o.appToken,
    appId: o.appId,
  });
  let app: SubscriberApp | undefined;
  try {
    app = await startSubscriberApp({
      platform: o.platform,
      providers: o.providers,
      port: appPort,
      options: {
        ...o.options,
        dapr: { httpEndpoint: daprd.httpEndpoint, waitForSidecarMs: 0, retries: 0, ...o.options?.dapr },
      },
    });
    await daprd.startProcess();
    await waitForSubscriptions(daprd, o.subscriptions);
  } catch (error) {
    await app?.close();
    await daprd.dispose();
    throw error;
  }
  const started = app;
  return {
    app: started,
    daprd,
    dapr: started.app.get(DaprClientHelper),
    // The sidecar first: once it is gone nothing delivers to the app, whose close then has no
    // delivery in flight (or kept-alive daprd connection) to wait for.
    close: async () => {
      await daprd.dispose();
      await started.close();
    },
  };
}

/** The programmatic subscriptions daprd loaded (`/v1.0/metadata`). */
export async function loadedSubscriptions(daprd: Daprd): Promise<Array<Record<string, unknown>>> {
  const res = await fetch(`${daprd.httpEndpoint}/v1.0/metadata`);
  const body = (await res.json()) as { subscriptions?: Array<Record<string, unknown>> };
  return body.subscriptions ?? [];
}

export async function waitForSubscriptions(daprd: Daprd, count: number, timeoutMs = 20_000): Promise<void> {
  await waitUntil(
    async () => (await loadedSubscriptions(daprd)).length >= count,
    timeoutMs,
    `daprd to load ${count} subscription(s)`,
    100,
  );
}
