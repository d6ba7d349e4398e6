import { TestingModule } from '@nestjs/testing';
import { HttpClientHelper, KugelCommsModuleOptions } from '../../lib';
import { errorOf } from '../support/errors';
import { bootKugelComms } from '../support/module-fixture';
import { json, startTestServer, TestServer } from '../support/test-server';

const QUOTED_UUID = /^"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"$/;

/**
 * The repeat-safety rule for REST calls, against real servers that act on a request and then lose
 * its answer: a POST or PATCH goes again only when it provably never left, or when the call says a
 * repeat is safe (`idempotent`, `idempotencyKey`).
 */
describe('REST repeat safety: slow and dying peers (real sockets)', () => {
  let server: TestServer | undefined;
  let app: TestingModule | undefined;
  afterEach(async () => {
    await app?.close();
    await server?.close();
    app = undefined;
    server = undefined;
  });
  const boot = (http: KugelCommsModuleOptions['http'] = {}, peer: Record<string, unknown> = {}) =>
    bootKugelComms({
      services: { peer: { baseUrl: server!.url, ...peer } },
      http: { backoff: { initialDelayMs: 1 }, retryBudget: false, ...http },
      dapr: { waitForSidecarMs: 0 },
    });
  const client = () => app!.get(HttpClientHelper).getServiceClient('peer');
  const seen = (url: string) => server!.requests.filter((r) => r.url === url);

  it('a POST the peer read and then reset its connection on is not sent again; a GET is', async () => {
    // The peer acts on every request (it is recorded) and then dies without answering.
    server = await startTestServer((req) => void req.socket.destroy());
    app = await boot();
    const post = await errorOf(client().post('/orders', { id: 1 }));
    expect(post).toMatchObject({ code: 'ECONNRESET', attempts: 1 });
    expect(seen('/orders')).toHaveLength(1);
    const get = await errorOf(client().get('/orders/1'));
    expect(get.attempts).toBe(4);
    expect(seen('/orders/1')).toHaveLength(4);
  });

  it('a POST answered after its timeout (the write happened) is not sent again', async () => {
    server = await startTestServer((req, res) => void setTimeout(() => json(res, 201, { ok: true }), 400));
    app = await boot({ timeoutMs: 100 });
    const error = await errorOf(client().post('/orders', { id: 1 }));
    expect(error).toMatchObject({ code: 'ECONNABORTED', attempts: 1 });
    expect(seen('/orders')).toHaveLength(1);
    // PATCH likewise; PUT is repeatable.
    await errorOf(client().patch('/orders/1', { qty: 2 }));
    expect(seen('/orders/1').filter((r) => r.method === 'PATCH')).toHaveLength(1);
    await errorOf(client().put('/orders/1', { qty: 2 }, { retries: 1 }));
    expect(seen('/orders/1').filter((r) => r.method === 'PUT')).toHaveLength(2);
  });

  it('idempotencyKey: true sends one quoted UUID as Idempotency-Key on every attempt, and makes the POST repeatable', async () => {
    server = await startTestServer((req) => void req.socket.destroy());
    app = await boot();
    const error = await errorOf(client().post('/payments', { amount: 5 }, { idempotencyKey: true }));
    expect(error.attempts).toBe(4);
    const keys = seen('/payments').map((r) => r.headers['idempotency-key']);
    expect(keys).toHaveLength(4);
    expect(keys[0]).toMatch(QUOTED_UUID);
    expect(new Set(keys).size).toBe(1);
    // A second call gets a key of its own.
    await errorOf(client().post('/payments', { amount: 5 }, { idempotencyKey: true, retries: 0 }));
    expect(seen('/payments').at(-1)?.headers['idempotency-key']).not.toBe(keys[0]);
  });

  it("idempotencyKey: '<key>' sends the caller's key (as a quoted string) after a timeout too", async () => {
    let n = 0;
    server = await startTestServer((req, res) => {
      n += 1;
      if (n === 1) return void setTimeout(() => json(res, 201, { n }), 400);
      json(res, 201, { n });
    });
    app = await boot({ timeoutMs: 100 });
    await expect(client().post('/payments', { amount: 5 }, { idempotencyKey: 'pay-7' })).resolves.toEqual({ n: 2 });
    expect(seen('/payments').map((r) => r.headers['idempotency-key'])).toEqual(['"pay-7"', '"pay-7"']);
  });

  it('a bad idempotencyKey, or one that differs from the header, is refused with nothing sent', async () => {
    server = await startTestServer((req, res) => json(res, 200, {}));
    app = await boot();
    for (const key of ['', 'ü', 'a\nb', 'x'.repeat(256), 7 as unknown as string]) {
      const error = await errorOf(client().post('/p', {}, { idempotencyKey: key }));
      expect(error).toMatchObject({ code: 'ERR_BAD_REQUEST_INPUT', attempts: 0 });
      expect(error.message).toMatch(/idempotencyKey/);
    }
    const both = await errorOf(
      client().post('/p', {}, { idempotencyKey: 'a', headers: { 'Idempotency-Key': 'b' } }),
    );
    expect(both.message).toMatch(/differs from the Idempotency-Key header/);
    expect(server.requests).toHaveLength(0);
    // The same key in both places is fine.
    await client().post('/p', {}, { idempotencyKey: 'a', headers: { 'Idempotency-Key': '"a"' } });
    expect(server.requests[0].headers['idempotency-key']).toBe('"a"');
  });

  it('a POST whose deadline passed while it waited for a pooled socket never left: it goes again, and reaches the peer once', async () => {
    server = await startTestServer((req, res) =>
      req.url === '/slow' ? void setTimeout(() => json(res, 200, {}), 600) : json(res, 201, { ok: true }),
    );
    app = await boot({ backoff: { initialDelayMs: 100, maxDelayMs: 200 } }, { maxSockets: 1 });
    const slow = client().get('/slow', { timeoutMs: 5_000 });
    // The one socket is busy for 600 ms: the POST's first attempts time out before they get it.
    await expect(client().post('/orders', { id: 1 }, { timeoutMs: 150, retries: 10 })).resolves.toEqual({ ok: true });
    await slow;
    expect(seen('/orders')).toHaveLength(1);
  });
});
