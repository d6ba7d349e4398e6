import { TestingModule } from '@nestjs/testing';
import { HttpClientHelper, HttpClientError } from '../../lib';
import { bootKugelComms } from '../support/module-fixture';
import { json, startTestServer, TestServer } from '../support/test-server';

describe('smoke', () => {
  let server: TestServer;
  let app: TestingModule;
  beforeAll(async () => {
    server = await startTestServer((req, res) => {
      if (req.url === '/missing') return json(res, 404, { message: 'no' });
      if (req.url === '/busy') return json(res, 503, { message: 'busy' });
      json(res, 200, { ok: true, url: req.url });
    });
    app = await bootKugelComms({ services: { peer: server.url }, http: { retryDelayMs: 1 }, dapr: { waitForSidecarMs: 0 } });
  });
  afterAll(async () => {
    await app.close();
    await server.close();
  });

  it('gets, maps 404 and retries 503', async () => {
    const client = app.get(HttpClientHelper).getServiceClient('peer');
    await expect(client.get('/x', { params: { a: [1, 2], b: true } })).resolves.toEqual({ ok: true, url: '/x?a=1&a=2&b=true' });
    const e404: HttpClientError = await client.get<never>('/missing').catch((e: HttpClientError) => e);
    expect(e404).toBeInstanceOf(HttpClientError);
    expect(e404.statusCode).toBe(404);
    expect(e404.attempts).toBe(1);
    const before = server.requests.length;
    const e503: HttpClientError = await client.get<never>('/busy').catch((e: HttpClientError) => e);
    expect(e503.statusCode).toBe(503);
    expect(e503.attempts).toBe(4);
    expect(server.requests.length - before).toBe(4);
  });
});
