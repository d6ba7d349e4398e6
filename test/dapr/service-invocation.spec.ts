import { TestingModule } from '@nestjs/testing';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HttpClientHelper, pathOf } from '../../lib';
import { errorOf } from '../support/errors';
import { bootKugelComms } from '../support/module-fixture';
import { json, startTestServer, TestServer } from '../support/test-server';
import { Daprd } from './daprd';

/**
 * `dapr.serviceInvocation` through two real sidecars: the calling app's module → daprd A
 * (`/v1.0/invoke/<app>/method/...`) → daprd B, found through Dapr's SQLite name resolver (a file
 * both sidecars share; nothing leaves the machine) → app B, and the answer back the same way.
 */
describe('Dapr service invocation through two real daprds (SQLite name resolution)', () => {
  const CALLER = 'kugel-caller';
  const CALLEE = 'kugel-callee';
  let dir: string;
  let appB: TestServer;
  let daprdB: Daprd;
  let daprdA: Daprd;
  let app: TestingModule;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kugel-nr-'));
    const nameResolutionDb = path.join(dir, 'names.db');
    appB = await startTestServer((req, res, body) => {
      if (req.url?.startsWith('/missing')) return json(res, 404, { error: 'no such thing' });
      json(res, 200, {
        servedBy: CALLEE,
        method: req.method,
        url: req.url,
        body: body ? JSON.parse(body) : null,
      });
    });
    daprdB = await Daprd.start({ appId: CALLEE, appPort: appB.port, nameResolutionDb });
    daprdA = await Daprd.start({ appId: CALLER, nameResolutionDb });
    app = await bootKugelComms({
      dapr: { httpEndpoint: daprdA.httpEndpoint, serviceInvocation: true, waitForSidecarMs: 0 },
      http: { retries: 0 },
    });
  });

  afterAll(async () => {
    await app?.close();
    await daprdA?.dispose();
    await daprdB?.dispose();
    await appB?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('resolves an unknown service name to daprd A and reaches app B through daprd B', async () => {
    const client = app.get(HttpClientHelper).getServiceClient(CALLEE);
    expect(client.baseUrl).toBe(`${daprdA.httpEndpoint}/v1.0/invoke/${CALLEE}/method`);

    await expect(client.get(pathOf`/items/${'4901'}` + '?tenant=T1')).resolves.toEqual({
      servedBy: CALLEE,
      method: 'GET',
      url: '/items/4901?tenant=T1',
      body: null,
    });
    const order = { orderId: 'o-1', lines: [{ item: 'ü', qty: 2 }] };
    await expect(client.post('/orders', order, { headers: { 'x-request-tag': 'tag-1' } })).resolves.toEqual({
      servedBy: CALLEE,
      method: 'POST',
      url: '/orders',
      body: order,
    });

    // daprd B's own start-up calls (`/dapr/config`, `/dapr/subscribe`) left aside.
    const invoked = appB.requests.filter((r) => !r.url.startsWith('/dapr/'));
    expect(invoked.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /items/4901?tenant=T1', 'POST /orders']);
    const post = invoked[1];
    // Headers only a sidecar adds on service invocation: the call went A → B, not to app B directly.
    expect(post.headers['dapr-caller-app-id']).toBe(CALLER);
    expect(post.headers['dapr-callee-app-id']).toBe(CALLEE);
    expect(post.headers['x-request-tag']).toBe('tag-1');
    expect(post.headers['content-type']).toMatch(/^application\/json/);
  });

  it("passes app B's error status back to the caller as an HttpClientError", async () => {
    const client = app.get(HttpClientHelper).getServiceClient(CALLEE);
    const error = await errorOf(client.get('/missing/1'));
    expect(error).toMatchObject({ statusCode: 404, service: CALLEE, code: 'ERR_BAD_REQUEST' });
    expect(appB.requests.at(-1)?.url).toBe('/missing/1');
  });

  it('fails clearly for an app id no sidecar registered (daprd A cannot resolve it)', async () => {
    const before = appB.requests.length;
    const error = await errorOf(app.get(HttpClientHelper).getServiceClient('kugel-nobody').get('/x'));
    expect(error).toMatchObject({ statusCode: 500, service: 'kugel-nobody', attempts: 1 });
    expect(error.response).toMatchObject({ errorCode: 'ERR_DIRECT_INVOKE' });
    expect(JSON.stringify(error.response)).toMatch(/kugel-nobody/);
    expect(appB.requests).toHaveLength(before);
  });
});
