import { TestingModule } from '@nestjs/testing';
import { HttpClientError, HttpClientHelper } from '../../lib';
import { bootKugelComms } from '../support/module-fixture';
import { waitUntil } from '../support/processes';
import { json, startTestServer, TestServer } from '../support/test-server';

describe('connection pooling (keep-alive agent per service)', () => {
  let server: TestServer;
  let app: TestingModule;
  afterEach(async () => {
    await app?.close();
    await server?.close();
  });

  it('returns the same pooled client for a name every time', async () => {
    server = await startTestServer((req, res) => json(res, 200, {}));
    app = await bootKugelComms({ services: { peer: server.url }, dapr: { waitForSidecarMs: 0 } });
    const helper = app.get(HttpClientHelper);
    expect(helper.getServiceClient('peer')).toBe(helper.getServiceClient('peer'));
  });

  it('sends 50 sequential calls on one connection', async () => {
    server = await startTestServer((req, res) => json(res, 200, { url: req.url }));
    app = await bootKugelComms({ services: { peer: server.url }, dapr: { waitForSidecarMs: 0 } });
    const client = app.get(HttpClientHelper).getServiceClient('peer');
    for (let i = 0; i < 50; i += 1) await expect(client.get(`/items/${i}`)).resolves.toEqual({ url: `/items/${i}` });
    expect(server.requests).toHaveLength(50);
    expect(server.connections).toBe(1);
    expect(new Set(server.requests.map((r) => r.socket))).toEqual(new Set([0]));
  });

  it('bounds concurrent connections by maxSockets', async () => {
    server = await startTestServer((req, res) => void setTimeout(() => json(res, 200, { ok: true }), 30));
    app = await bootKugelComms({
      services: { peer: { baseUrl: server.url, maxSockets: 4 } },
      dapr: { waitForSidecarMs: 0 },
    });
    const client = app.get(HttpClientHelper).getServiceClient('peer');
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => client.get(`/slow/${i}`)));
    expect(results).toHaveLength(40);
    expect(server.requests).toHaveLength(40);
    expect(server.maxConcurrentConnections).toBe(4);
    expect(server.connections).toBe(4);
  });

  it('retries a GET that hit a keep-alive socket the server closed, never a POST (the peer may have acted on it)', async () => {
    // The server drops a kept-alive connection when the next request arrives on it: the race of a
    // server closing an idle socket just as the client reuses it.
    const served = new WeakMap<object, number>();
    server = await startTestServer((req, res) => {
      const n = (served.get(req.socket) ?? 0) + 1;
      served.set(req.socket, n);
      if (n > 1) return void req.socket.destroy();
      json(res, 200, { ok: true });
    });
    app = await bootKugelComms({
      services: { peer: server.url },
      http: { backoff: { initialDelayMs: 1 } },
      dapr: { waitForSidecarMs: 0 },
    });
    const client = app.get(HttpClientHelper).getServiceClient('peer');
    await client.get('/first');
    const response = await client.get('/second');
    expect(response).toEqual({ ok: true });
    expect(server.requests.map((r) => r.url)).toEqual(['/first', '/second', '/second']);
    expect(server.connections).toBe(2);

    // A POST that met the reset on a reused socket is NOT sent again: this server read it before it
    // closed the socket (as a peer that acted on it and then died would), and Node cannot tell that
    // from the keep-alive race. Its error says what happened, after one attempt.
    const error = await client.post('/orders', { id: 1 }).catch((e: HttpClientError) => e);
    expect(error).toBeInstanceOf(HttpClientError);
    expect(error).toMatchObject({ code: 'ECONNRESET', attempts: 1 });
    expect(server.requests.filter((r) => r.url === '/orders')).toHaveLength(1);
  });

  it('does not repeat a POST whose fresh connection was reset (the peer may have acted on it)', async () => {
    server = await startTestServer((req) => void req.socket.destroy());
    app = await bootKugelComms({
      services: { peer: server.url },
      http: { backoff: { initialDelayMs: 1 } },
      dapr: { waitForSidecarMs: 0 },
    });
    const error = await app
      .get(HttpClientHelper)
      .getServiceClient('peer')
      .post('/orders', { id: 1 })
      .catch((e: HttpClientError) => e);
    expect(error).toBeInstanceOf(HttpClientError);
    expect((error as HttpClientError).attempts).toBe(1);
    expect(server.requests).toHaveLength(1);
  });

  it('retires idle sockets before the server keep-alive timeout', async () => {
    server = await startTestServer((req, res) => json(res, 200, {}));
    app = await bootKugelComms({
      services: { peer: server.url },
      http: { idleSocketTimeoutMs: 100 },
      dapr: { waitForSidecarMs: 0 },
    });
    await app.get(HttpClientHelper).getServiceClient('peer').get('/x');
    expect(server.openConnections).toBe(1);
    await waitUntil(async () => server.openConnections === 0, 2_000, 'the idle socket to close');
  });

  it('destroys the agents on application shutdown', async () => {
    server = await startTestServer((req, res) => json(res, 200, {}));
    app = await bootKugelComms({ services: { peer: server.url }, dapr: { waitForSidecarMs: 0 } });
    const client = app.get(HttpClientHelper).getServiceClient('peer');
    await Promise.all([client.get('/a'), client.get('/b'), client.get('/c')]);
    expect(server.openConnections).toBeGreaterThan(0);
    await app.close();
    await waitUntil(async () => server.openConnections === 0, 2_000, 'pooled sockets to close');
  });
});
