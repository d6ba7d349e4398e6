import { Test } from '@nestjs/testing';
import { KugelCommsTesting, KugelCommsTestingModule } from 'kugel-comms/testing';
import { AppModule } from './app.module.js';

/**
 * What an app's own unit test does with `kugel-comms/testing`: the whole AppModule (its
 * forRootAsync pointing at ports nothing listens on), master-data stubbed by route, Dapr in memory.
 * Returns what the test would assert; `compat.spec.ts` runs it in each app.
 */
export async function unitCheck(): Promise<Record<string, unknown>> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      AppModule,
      KugelCommsTestingModule.forRoot({
        stubs: {
          'master-data': [
            { method: 'GET', path: '/items/:code', reply: (r) => ({ body: { code: r.params.code, name: 'Stubbed' } }) },
          ],
        },
      }),
    ],
  }).compile();
  await moduleRef.init();
  try {
    const app = moduleRef.createNestApplication();
    await app.init();
    const kugel = moduleRef.get(KugelCommsTesting);
    // The app's own routes, as supertest would call them (the app listens on loopback; its
    // clients send nothing anywhere: kugel-comms/testing answers in memory).
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as { port: number };
    const call = async (method: string, url: string, body?: unknown) => {
      const res = await fetch(`http://127.0.0.1:${port}${url}`, {
        method,
        headers: body ? { 'content-type': 'application/json' } : undefined,
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: res.status, body: (await res.json()) as unknown };
    };
    const item = await call('GET', '/items/A1');
    const itemRx = await call('GET', '/items-rx/B2');
    const published = await call('POST', '/events', { from: 'unit' });
    kugel.breakers.open('http:stock');
    const stock = await call('GET', '/stock/s1');
    const ready = await call('GET', '/health/ready');
    await app.close();
    return {
      item,
      itemRx,
      published,
      events: kugel.dapr.published('pubsub', 'compat'),
      calls: kugel.calls('master-data').map((c) => `${c.method} ${c.path}`),
      stock,
      ready: ready.status,
    };
  } finally {
    await moduleRef.close();
  }
}
