import { TestingModule } from '@nestjs/testing';
import { inspect } from 'node:util';
import { DaprClientHelper, HttpClientHelper, isBrokenCircuitError, isHttpClientError, pathOf } from '../../lib';
import { captureLogs } from '../support/log-capture';
import { SECRETS } from '../support/secrets';
import { bootKugelComms } from '../support/module-fixture';
import { closedPort, json, startTestServer, TestServer } from '../support/test-server';
import { errorOf } from '../support/errors';

describe('errors, timeouts, abort, redirects, redaction and path encoding', () => {
  let server: TestServer;
  let elsewhere: TestServer;
  let app: TestingModule;
  let logs: ReturnType<typeof captureLogs>;

  beforeAll(async () => {
    logs = captureLogs();
    elsewhere = await startTestServer((req, res) => json(res, 200, { stolen: req.headers }));
    server = await startTestServer((req, res) => {
      const url = req.url ?? '';
      if (url.startsWith('/stall')) return; // never answers
      if (url.startsWith('/redirect')) {
        res.writeHead(302, { Location: `${elsewhere.url}/collect` });
        return void res.end();
      }
      if (url.startsWith('/missing')) return json(res, 404, { message: 'no such item' });
      if (url.startsWith('/broken')) return json(res, 500, { message: 'boom' });
      if (url.startsWith('/text')) {
        res.writeHead(200, { 'Content-Type': 'text/plain', 'X-Trace': 't1' });
        return void res.end('plain');
      }
      json(res, 200, { url, method: req.method });
    });
    app = await bootKugelComms({
      services: { peer: server.url },
      http: { backoff: { initialDelayMs: 1 } },
      dapr: { waitForSidecarMs: 0 },
    });
  });
  afterAll(async () => {
    await app.close();
    await server.close();
    await elsewhere.close();
    logs.restore();
  });
  const client = () => app.get(HttpClientHelper).getServiceClient('peer');

  it('request() resolves to { data, status, headers }; non-JSON bodies come back as text', async () => {
    const r = await client().request({ method: 'GET', path: '/text' });
    expect(r).toEqual({
      data: 'plain',
      status: 200,
      headers: expect.objectContaining({ 'x-trace': 't1', 'content-type': 'text/plain' }),
    });
    await expect(client().put('/things/1', { a: 1 })).resolves.toEqual({ url: '/things/1', method: 'PUT' });
    await expect(client().patch('/things/1', { a: 1 })).resolves.toEqual({ url: '/things/1', method: 'PATCH' });
    await expect(client().delete('/things/1')).resolves.toEqual({ url: '/things/1', method: 'DELETE' });
  });

  it('wraps an HTTP failure in HttpClientError with status, body, service, method, url, attempts', async () => {
    const error = await errorOf(client().get('/missing/7'));
    expect(isHttpClientError(error)).toBe(true);
    expect(error).toMatchObject({
      statusCode: 404,
      response: { message: 'no such item' },
      service: 'peer',
      method: 'GET',
      url: `${server.url}/missing/7`,
      attempts: 1,
    });
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('times out an attempt after timeoutMs and retries GETs', async () => {
    const before = server.requests.length;
    const once = await errorOf(client().get('/stall/1', { timeoutMs: 100, retries: 0 }));
    expect(once.code).toMatch(/ECONNABORTED|ETIMEDOUT/);
    expect(once.attempts).toBe(1);
    expect(once.statusCode).toBeUndefined();
    const thrice = await errorOf(client().get('/stall/2', { timeoutMs: 80, retries: 2 }));
    expect(thrice.attempts).toBe(3);
    expect(server.requests.length - before).toBe(4);
  });

  it('honours an AbortSignal, including pending retries', async () => {
    const controller = new AbortController();
    const before = server.requests.length;
    const call = client().get('/stall/abort', { signal: controller.signal, timeoutMs: 5_000 });
    setTimeout(() => controller.abort(), 50);
    const error = await errorOf(call);
    expect(error.code).toBe('ERR_CANCELED');
    await new Promise((r) => setTimeout(r, 200));
    expect(server.requests.length - before).toBe(1);
    const already = await errorOf(client().get('/x', { signal: AbortSignal.abort() }));
    expect(already.code).toBe('ERR_CANCELED');
    expect(server.requests.length - before).toBe(1);
  });

  it('does not follow redirects: credentials never reach another host', async () => {
    const error = await errorOf(client().get('/redirect', { headers: { 'X-API-KEY': SECRETS.otherApiKey } }));
    expect(error.statusCode).toBe(302);
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('keeps a hostile id inside one path segment', async () => {
    await expect(client().get(pathOf`/items/${'../x?y#z'}/details`)).resolves.toMatchObject({
      url: '/items/..%2Fx%3Fy%23z/details',
    });
    await expect(client().get(pathOf`/items/${'%2F'}`)).resolves.toMatchObject({ url: '/items/%252F' });
    await expect(client().get('/items', { params: { code: 'a&b=c#d' } })).resolves.toMatchObject({
      url: '/items?code=a%26b%3Dc%23d',
    });
  });

  it.each([
    ['an absolute URL', () => client().get('http://evil.example/x'), /absolute URLs are refused/],
    ['a protocol-relative URL', () => client().get('//evil.example/x'), /absolute URLs are refused/],
    ['a dot segment', () => client().get('/items/../admin'), /"\." or "\.\." segment/],
    ['a raw "#"', () => client().get('/items/a#b'), /"#"/],
    [
      'a CR/LF header value',
      () => client().get('/x', { headers: { 'X-Note': 'a\r\nX-Evil: 1' } }),
      /header "X-Note" contains CR, LF or NUL/,
    ],
    ['a bad header name', () => client().get('/x', { headers: { 'Bad Name': 'v' } }), /not a valid HTTP token/],
    [
      'a circular body',
      () => {
        const o: Record<string, unknown> = {};
        o.self = o;
        return client().post('/x', o);
      },
      /not JSON-serialisable/,
    ],
    ['a BigInt body', () => client().post('/x', { n: BigInt(1) }), /not JSON-serialisable/],
    ['an object query value', () => client().get('/x', { params: { q: {} as never } }), /query parameter "q"/],
    ['a bad per-call timeout', () => client().get('/x', { timeoutMs: -1 }), /timeoutMs must be an integer/],
    [
      'a timeout no timer can hold',
      () => client().get('/x', { timeoutMs: 2 ** 31 }),
      /timeoutMs must be an integer from 1 to 2147483647/,
    ],
    ['a non-ASCII path', () => client().get('/items/漢'), /non-ASCII/],
    [
      'a header value HTTP cannot carry',
      () => client().get('/x', { headers: { 'X-Note': 'a漢b' } }),
      /characters HTTP cannot carry/,
    ],
    ['an unknown method', () => client().request({ method: 'BREW' as never, path: '/x' }), /method must be one of/],
    [
      'a lone surrogate in a query value',
      () => client().get('/x', { params: { q: '\ud800' } }),
      /not valid Unicode text/,
    ],
  ])('refuses %s with a clear error and sends nothing', async (_what, call, message) => {
    const before = server.requests.length;
    const error = await errorOf(call());
    expect(error.code).toBe('ERR_BAD_REQUEST_INPUT');
    expect(error.message).toMatch(message);
    expect(error.message).toMatch(/nothing was sent/);
    expect(server.requests.length).toBe(before);
  });

  it('never logs or reports X-API-KEY, Authorization or dapr-api-token values', async () => {
    const secrets = [SECRETS.apiKey, SECRETS.jwt, SECRETS.daprApiToken];
    logs.reinstall();
    const headers = { 'X-API-KEY': secrets[0], Authorization: `Bearer ${secrets[1]}` };
    const port = await closedPort();
    const errors: unknown[] = [];
    errors.push(await errorOf(client().get('/missing/1', { headers })));
    errors.push(await errorOf(client().get('/broken/1', { headers, params: { api_key: secrets[0] } })));
    errors.push(await errorOf(client().get('/stall/s', { headers, timeoutMs: 50, retries: 1 })));
    errors.push(await errorOf(client().get('/x', { headers: { ...headers, 'X-Bad': 'a\nb' } })));
    await client().get('/ok', { headers });
    const local = await bootKugelComms({
      services: { down: `http://127.0.0.1:${port}` },
      http: { backoff: { initialDelayMs: 1 } },
      dapr: { httpEndpoint: server.url, apiToken: secrets[2], waitForSidecarMs: 0, retries: 0 },
    });
    logs.reinstall();
    try {
      errors.push(await errorOf(local.get(HttpClientHelper).getServiceClient('down').get('/x', { headers })));
      // The sidecar endpoint here is the test server: 404/500 answers and a stall.
      const dapr = local.get(DaprClientHelper);
      errors.push(await dapr.detailed.saveState('statestore', 'k', 1));
      errors.push(await dapr.detailed.getState('statestore', 'k'));
    } finally {
      await local.close();
    }
    const everything = [
      logs.logger.text(),
      ...errors.map((e) => `${inspect(e, { depth: 10 })}\n${JSON.stringify(e)}`),
    ].join('\n');
    // Every kind of line was produced: DEBUG successes, WARN retries and 404s, ERROR failures,
    // and the sidecar helper's own lines.
    const levels = new Set(logs.logger.lines.map((l) => l.level));
    expect([...levels].sort()).toEqual(expect.arrayContaining(['debug', 'error', 'warn']));
    expect(logs.logger.text()).toMatch(/DaprClientHelper/);
    expect(logs.logger.text()).toMatch(/api_key=\*\*\*/);
    for (const secret of secrets) expect(everything).not.toContain(secret);
    expect(server.requests.some((r) => r.headers['dapr-api-token'] === secrets[2])).toBe(true);
  });
});

describe('what counts toward a REST breaker', () => {
  it('a body refused locally (over maxBodyLength) and an answer over maxContentLength never open it', async () => {
    const server = await startTestServer((req, res) => json(res, 200, { big: 'x'.repeat(500) }));
    const app = await bootKugelComms({
      services: { peer: { baseUrl: server.url, breaker: { failureThreshold: 1 } } },
      http: { maxBodyLength: 100, maxContentLength: 200, backoff: { initialDelayMs: 1 } },
      dapr: { waitForSidecarMs: 0 },
    });
    try {
      const client = app.get(HttpClientHelper).getServiceClient('peer');
      for (let i = 0; i < 3; i += 1) {
        const tooBig = await errorOf(client.post('/x', { big: 'y'.repeat(200) }));
        expect(tooBig.message).toMatch(/maxBodyLength/);
      }
      expect(server.requests).toHaveLength(0);
      const answer = await errorOf(client.get('/big'));
      expect(answer.message).toMatch(/maxContentLength/);
      expect(client.breaker?.snapshot()).toMatchObject({ state: 'closed', consecutiveFailures: 0, trialsInFlight: 0 });
    } finally {
      await app.close();
      await server.close();
    }
  });

  it('an open breaker refuses with ERR_CIRCUIT_OPEN, nothing sent, caused by a BrokenCircuitError naming it', async () => {
    const server = await startTestServer((req, res) => json(res, 503, { error: 'down' }));
    const app = await bootKugelComms({
      services: { peer: { baseUrl: server.url, retries: 0, breaker: { failureThreshold: 2, resetTimeoutMs: 60_000 } } },
      dapr: { waitForSidecarMs: 0 },
    });
    try {
      const client = app.get(HttpClientHelper).getServiceClient('peer');
      for (let i = 0; i < 2; i += 1) expect((await errorOf(client.get('/x'))).statusCode).toBe(503);
      const sent = server.requests.length;
      const refused = await errorOf(client.get('/x'));
      expect(server.requests).toHaveLength(sent);
      expect(refused).toMatchObject({ code: 'ERR_CIRCUIT_OPEN', attempts: 0, service: 'peer' });
      expect(refused.message).toMatch(/nothing was sent/);
      const cause = refused.cause;
      expect(isBrokenCircuitError(cause)).toBe(true);
      expect(isBrokenCircuitError(cause) && cause.breaker).toBe(client.breaker?.name);
      expect(isBrokenCircuitError(cause) && cause.retryAt).toBe(client.breaker?.retryAt);
    } finally {
      await app.close();
      await server.close();
    }
  });

  it('an answer whose declared Content-Length is over maxContentLength fails at once, before its body', async () => {
    // Headers only, then the body never comes: only the declared length can fail the call before the timeout.
    const server = await startTestServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '5000' });
      res.flushHeaders();
    });
    const app = await bootKugelComms({
      services: { peer: { baseUrl: server.url, retries: 0 } },
      http: { maxContentLength: 200, timeoutMs: 5_000 },
      dapr: { waitForSidecarMs: 0 },
    });
    try {
      const client = app.get(HttpClientHelper).getServiceClient('peer');
      for (const call of [() => client.get('/big'), () => client.request({ method: 'GET', path: '/big' })]) {
        const error = await errorOf(call());
        expect(error.message).toMatch(/maxContentLength/);
        expect(error).toMatchObject({ code: 'ERR_BAD_RESPONSE', attempts: 1 });
      }
    } finally {
      await app.close();
      await server.close();
    }
  }, 20_000);
});
