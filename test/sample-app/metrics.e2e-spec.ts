import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AddressInfo } from 'node:net';
import { AppModule } from '../../sample-app/app.module';
import { MasterDataPeer, startMasterDataPeer } from '../../sample-app/peer/master-data.peer';
import { Daprd } from '../dapr/daprd';

async function call(
  method: string,
  url: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

describe('sample app: GET /metrics (Prometheus scrape)', () => {
  let peer: MasterDataPeer;
  let daprd: Daprd;
  let app: INestApplication;
  let base: string;
  const saved = { ...process.env };

  beforeAll(async () => {
    peer = await startMasterDataPeer(0);
    daprd = await Daprd.start({ components: 'in-memory' });
    process.env.BASE_URL_MASTER_DATA = `${peer.url}/api/v1`;
    process.env.BASE_URL_CART = `${peer.url}/api/v1`;
    process.env.DAPR_HTTP_PORT = String(daprd.httpPort);
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication({ logger: ['error', 'fatal'] });
    app.enableShutdownHooks();
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    process.env = saved;
    await app?.close();
    await daprd?.dispose();
    await peer?.close();
  });

  it('answers 200 in the Prometheus text format with the calls the app made', async () => {
    const terminal = `${base}/api/v1/tenants/T1/stores/S1/terminals/1`;
    const created = await call('POST', `${terminal}/carts`);
    expect(created.status).toBe(201);
    const added = await call('POST', `${terminal}/carts/${created.body.cartId}/lineItems`, {
      itemCode: '4901234567890',
      quantity: 1,
    });
    expect(added.status).toBe(201);

    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    // Prometheus' text format 0.0.4 (express may reorder the parameters)
    const [type, ...params] = (res.headers.get('content-type') ?? '')
      .split(';')
      .map((p) => p.trim());
    expect(type).toBe('text/plain');
    expect(params.sort()).toEqual(['charset=utf-8', 'version=0.0.4']);
    const text = await res.text();
    expect(text).toContain('# TYPE kugel_comms_requests_total counter');
    expect(text).toContain(
      'kugel_comms_requests_total{service="master-data",method="GET",status_class="2xx"} 1',
    );
    expect(text).toMatch(
      /kugel_comms_requests_total\{service="dapr",method="POST",status_class="2xx"\} [1-9]/,
    );
    expect(text).toContain('# TYPE kugel_comms_request_duration_seconds histogram');
    expect(text).toMatch(/kugel_comms_circuit_breaker_state\{breaker="state:statestore"\} 0/);
  });
});
