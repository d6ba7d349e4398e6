import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AddressInfo } from 'node:net';
import { AppModule } from '../../sample-app/app.module';
import { MasterDataPeer, startMasterDataPeer } from '../../sample-app/peer/master-data.peer';
import { Daprd } from '../dapr/daprd';
import { waitForSubscriptions } from '../dapr/subscription-stack';
import { freePort } from '../support/processes';

/**
 * The sample app on a free port, with its master-data peer and a real daprd (in-memory components,
 * the inbound retry policy) that delivers the app's subscriptions to it.
 */
export interface SampleApp {
  base: string;
  peer: MasterDataPeer;
  daprd: Daprd;
  app: INestApplication;
  close(): Promise<void>;
}

/** Boots the sample app as `main.ts` would, configured through the environment it reads. */
export async function startSampleApp(env: Record<string, string> = {}): Promise<SampleApp> {
  const saved = { ...process.env };
  const peer = await startMasterDataPeer(0);
  // daprd delivers the cart's events to the app (its ReportModule): the app port is chosen first.
  const appPort = await freePort();
  const daprd = await Daprd.create({ components: 'in-memory', appPort });
  Object.assign(process.env, {
    BASE_URL_MASTER_DATA: `${peer.url}/api/v1`,
    BASE_URL_CART: `${peer.url}/api/v1`,
    DAPR_HTTP_PORT: String(daprd.httpPort),
    ...env,
  });
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  const app = moduleRef.createNestApplication({ logger: ['error', 'fatal'] });
  app.enableShutdownHooks();
  await app.listen(appPort, '127.0.0.1');
  await daprd.startProcess();
  await waitForSubscriptions(daprd, 2);
  return {
    base: `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`,
    peer,
    daprd,
    app,
    close: async () => {
      process.env = saved;
      await app.close();
      await daprd.dispose();
      await peer.close();
    },
  };
}

/** An HTTP call with a JSON body; answers the status and the parsed body. */
export async function call(method: string, url: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
