import { HttpService } from '@nestjs/axios';
import { Injectable, Module } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import axios, { AxiosError } from 'axios';
import { inspect } from 'node:util';
import { Registry } from 'prom-client';
import { firstValueFrom, lastValueFrom, Subscription } from 'rxjs';
import {
  getHttpServiceToken,
  HttpClientHelper,
  InjectHttpService,
  InjectServiceClient,
  isBrokenCircuitError,
  isHttpClientError,
  KugelCommsEvents,
  KugelCommsModule,
  KugelCommsModuleOptions,
  RequestCompletedEvent,
  RetryBudgetExhaustedEvent,
  ServiceClient,
} from '../../lib';
import { bootKugelComms } from '../support/module-fixture';
import { waitUntil } from '../support/processes';
import { SECRETS } from '../support/secrets';
import { json, startTestServer, TestServer } from '../support/test-server';

/** The error an Observable failed with. */
async function failure(observable: Promise<unknown>): Promise<AxiosError> {
  const error = await observable.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e,
  );
  expect(axios.isAxiosError(error)).toBe(true);
  return error as AxiosError;
}

/**
 * `HttpClientHelper.getHttpService(name)` / `@InjectHttpService(name)`: an `@nestjs/axios`
 * `HttpService` whose requests run through the service's own call runner, on a real `node:http`
 * server on port 0.
 */
describe('HttpService (@nestjs/axios) over a service pooled client', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer((req, res, body) => {
      const url = req.url ?? '';
      if (url.startsWith('/busy')) return json(res, 503, { message: 'busy' });
      if (url.startsWith('/broken')) return json(res, 500, { message: 'broken' });
      if (url.startsWith('/missing')) return json(res, 404, { detail: 'no such item' });
      if (url.startsWith('/slow')) return; // never answers
      json(res, 200, {
        method: req.method,
        url,
        contentType: req.headers['content-type'] ?? null,
        body: body || null,
      });
    });
  });
  afterAll(() => server?.close());

  const requestsTo = (prefix: string) => server.requests.filter((r) => r.url.startsWith(prefix));

  async function boot(options: KugelCommsModuleOptions) {
    const app = await bootKugelComms(options);
    const helper = app.get(HttpClientHelper);
    const completed: RequestCompletedEvent[] = [];
    app.get(KugelCommsEvents).requestCompleted.on((e) => completed.push(e));
    return { app, client: helper.getServiceClient('peer'), http: helper.getHttpService('peer'), completed };
  }

  describe('one pipeline for both', () => {
    let app: TestingModule;
    let client: ServiceClient;
    let http: HttpService;
    let completed: RequestCompletedEvent[];
    let registry: Registry;
    beforeAll(async () => {
      registry = new Registry();
      ({ app, client, http, completed } = await boot({
        services: { peer: { baseUrl: server.url, retries: 2 } },
        http: { backoff: { initialDelayMs: 1 } },
        metrics: { enabled: true, registry },
      }));
    });
    afterAll(() => app?.close());
    beforeEach(() => (completed.length = 0));

    it('is one object per service, an HttpService whose answers are axios responses with the body parsed', async () => {
      expect(app.get(HttpClientHelper).getHttpService('peer')).toBe(http);
      expect(http).toBeInstanceOf(HttpService);
      const res = await firstValueFrom(http.get<{ url: string }>('/items/1', { params: { q: 'a b', n: [1, 2] } }));
      expect(res.status).toBe(200);
      expect(res.data).toEqual({ method: 'GET', url: '/items/1?q=a%20b&n=1&n=2', contentType: null, body: null });
      expect(res.headers['content-type']).toBe('application/json');
      // The same query through ServiceClient reaches the server as the same URL.
      await client.get('/items/1', { params: { q: 'a b', n: [1, 2] } });
      expect(server.requests.slice(-2).map((r) => r.url)).toEqual([
        '/items/1?q=a%20b&n=1&n=2',
        '/items/1?q=a%20b&n=1&n=2',
      ]);
    });

    it('sends JSON bodies, strings and URLSearchParams as axios does', async () => {
      const json1 = await firstValueFrom(http.post('/items', { code: 'A1', qty: 2 }));
      expect(json1.data).toMatchObject({ contentType: 'application/json', body: '{"code":"A1","qty":2}' });
      const text = await firstValueFrom(http.put('/items/A1', 'plain', { headers: { 'Content-Type': 'text/plain' } }));
      expect(text.data).toMatchObject({ method: 'PUT', contentType: 'text/plain', body: 'plain' });
      const form = await firstValueFrom(http.patch('/items/A1', new URLSearchParams({ a: '1', b: 'x y' })));
      expect(form.data).toMatchObject({
        contentType: 'application/x-www-form-urlencoded;charset=utf-8',
        body: 'a=1&b=x+y',
      });
      const formObject = await firstValueFrom(
        http.post(
          '/items',
          { a: 1, b: ['x', 'y'] },
          { headers: { 'Content-Type': 'application/x-www-form-urlencoded' } },
        ),
      );
      expect(formObject.data).toMatchObject({ contentType: 'application/x-www-form-urlencoded', body: 'a=1&b=x&b=y' });
    });

    it('retries a 503 as many times as ServiceClient.get, and fails with an AxiosError whose cause is the HttpClientError', async () => {
      const viaClient = await client.get('/busy/client').catch((e: unknown) => e);
      const viaHttp = await failure(firstValueFrom(http.get('/busy/http')));
      expect(requestsTo('/busy/client')).toHaveLength(3);
      expect(requestsTo('/busy/http')).toHaveLength(3);
      expect(viaHttp).toMatchObject({
        code: AxiosError.ERR_BAD_RESPONSE,
        status: 503,
        response: { status: 503, data: { message: 'busy' } },
      });
      expect(isHttpClientError(viaHttp.cause)).toBe(true);
      expect(viaHttp.cause).toMatchObject({ statusCode: 503, attempts: 3, service: 'peer', method: 'GET' });
      expect(viaHttp.message).toBe('GET peer /busy/http failed with HTTP 503 after 3 attempts');
      expect(viaClient).toMatchObject({ statusCode: 503, attempts: 3 });
      // One requestCompleted per logical call, whichever API made it.
      expect(completed.map((e) => `${e.route} ${e.status} ${e.attempts}`)).toEqual([
        '/busy/client 503 3',
        '/busy/http 503 3',
      ]);
    });

    it('counts each call once in the Prometheus metrics, retries as retries', async () => {
      const read = async () => {
        const requests = (await registry.getSingleMetric('kugel_comms_requests_total')!.get()).values;
        const retries = (await registry.getSingleMetric('kugel_comms_retries_total')!.get()).values;
        const count = (status: string) =>
          requests.find((v) => v.labels.method === 'GET' && v.labels.status_class === status)?.value ?? 0;
        return { ok: count('2xx'), failed: count('5xx'), retries: retries[0]?.value ?? 0 };
      };
      const before = await read();
      await failure(firstValueFrom(http.get('/busy/metrics')));
      await firstValueFrom(http.get('/items/m'));
      const after = await read();
      expect({
        ok: after.ok - before.ok,
        failed: after.failed - before.failed,
        retries: after.retries - before.retries,
      }).toEqual({
        ok: 1,
        failed: 1,
        retries: 2,
      });
    });

    it('lets validateStatus accept an answer: a 404 is emitted, not thrown', async () => {
      const res = await firstValueFrom(http.get('/missing/1', { validateStatus: (s) => s < 500 }));
      expect(res).toMatchObject({ status: 404, data: { detail: 'no such item' } });
      const notAccepted = await failure(firstValueFrom(http.get('/missing/2')));
      expect(notAccepted).toMatchObject({ code: AxiosError.ERR_BAD_REQUEST, response: { status: 404 } });
    });

    it('aborts the call when the subscriber unsubscribes (the cancel token of HttpService)', async () => {
      const before = server.requests.length;
      const ended = new Promise<RequestCompletedEvent>((resolve) => {
        const off = app.get(KugelCommsEvents).requestCompleted.on((e) => {
          if (e.route === '/slow') {
            off();
            resolve(e);
          }
        });
      });
      const sub: Subscription = http.get('/slow').subscribe({ next: () => undefined, error: () => undefined });
      await waitUntil(async () => server.requests.length > before, 5_000, 'the slow request at the server');
      sub.unsubscribe();
      await expect(ended).resolves.toMatchObject({ outcome: 'error', errorCode: 'ERR_CANCELED', attempts: 1 });
    });
  });

  it('uses the same pooled sockets as ServiceClient (the server sees one connection)', async () => {
    const { app, client, http } = await boot({ services: { peer: server.url } });
    try {
      const start = server.requests.length;
      const connections = server.connections;
      await client.get('/items/s1');
      await firstValueFrom(http.get('/items/s2'));
      await client.get('/items/s3');
      await lastValueFrom(http.get('/items/s4'));
      const seen = server.requests.slice(start);
      expect(seen.map((r) => r.url)).toEqual(['/items/s1', '/items/s2', '/items/s3', '/items/s4']);
      expect(new Set(seen.map((r) => r.socket)).size).toBe(1);
      expect(server.connections - connections).toBe(1);
    } finally {
      await app.close();
    }
  });

  it('shares the retry budget: retries spent by ServiceClient are not there for HttpService', async () => {
    // A floor of one retry per window and no ratio: one retry in all.
    const { app, client, http } = await boot({
      services: { peer: { baseUrl: server.url, retries: 3 } },
      http: { backoff: { initialDelayMs: 1 }, retryBudget: { ratio: 0, minRetriesPerSecond: 0.1, windowMs: 10_000 } },
    });
    const exhausted: RetryBudgetExhaustedEvent[] = [];
    app.get(KugelCommsEvents).retryBudgetExhausted.on((e) => exhausted.push(e));
    try {
      await expect(client.get('/busy/budget-a')).rejects.toMatchObject({ attempts: 2 });
      const error = await failure(firstValueFrom(http.get('/busy/budget-b')));
      expect(error.cause).toMatchObject({ attempts: 1 });
      expect(requestsTo('/busy/budget-a')).toHaveLength(2);
      expect(requestsTo('/busy/budget-b')).toHaveLength(1);
      expect(exhausted.map((e) => `${e.method} ${e.route}`)).toEqual(['GET /busy/budget-a', 'GET /busy/budget-b']);
    } finally {
      await app.close();
    }
  });

  it('shares the breaker: opened by ServiceClient, it refuses the HttpService call without a connection (and back)', async () => {
    const { app, client, http, completed } = await boot({
      services: { peer: { baseUrl: server.url, retries: 0, breaker: { failureThreshold: 2 } } },
    });
    try {
      await expect(client.get('/broken/1')).rejects.toMatchObject({ statusCode: 500 });
      await failure(firstValueFrom(http.get('/broken/2')));
      const requests = server.requests.length;
      const connections = server.connections;
      const refused = await failure(firstValueFrom(http.get('/items/after-open')));
      expect(refused.code).toBe('ERR_CIRCUIT_OPEN');
      expect(refused.response).toBeUndefined();
      expect(isHttpClientError(refused.cause)).toBe(true);
      expect(isBrokenCircuitError((refused.cause as Error).cause)).toBe(true);
      await expect(client.get('/items/after-open')).rejects.toMatchObject({ code: 'ERR_CIRCUIT_OPEN', attempts: 0 });
      expect(server.requests.length).toBe(requests);
      expect(server.connections).toBe(connections);
      expect(completed.slice(-2).map((e) => e.outcome)).toEqual(['rejected', 'rejected']);
    } finally {
      await app.close();
    }
  });

  describe('bad input is refused, nothing sent', () => {
    let app: TestingModule;
    let http: HttpService;
    beforeAll(async () => ({ app, http } = await boot({ services: { peer: server.url } })));
    afterAll(() => app?.close());

    const refused = async (call: Promise<unknown>, message: RegExp) => {
      const before = server.requests.length;
      const error = await failure(call);
      expect(error.code).toBe('ERR_BAD_REQUEST_INPUT');
      expect(error.response).toBeUndefined();
      expect(isHttpClientError(error.cause)).toBe(true);
      expect(error.cause).toMatchObject({ code: 'ERR_BAD_REQUEST_INPUT', attempts: 0, service: 'peer' });
      expect(error.message).toMatch(message);
      expect(server.requests.length).toBe(before);
    };

    it('absolute and protocol-relative URLs, and a baseURL', async () => {
      await refused(firstValueFrom(http.get('http://169.254.169.254/latest')), /absolute URLs are refused/);
      await refused(firstValueFrom(http.get('//evil.example/x')), /absolute URLs are refused/);
      await refused(firstValueFrom(http.get('/x', { baseURL: 'http://evil.example' })), /absolute URLs are refused/);
      await refused(http.axiosRef.get('https://evil.example/'), /absolute URLs are refused/);
    });

    it('CR or LF in a header value (axios would strip them silently), through every entry point', async () => {
      const headers = { 'X-Note': 'a\r\nX-Injected: 1' };
      await refused(firstValueFrom(http.get('/x', { headers })), /header "X-Note" contains CR, LF or NUL/);
      await refused(firstValueFrom(http.post('/x', { a: 1 }, { headers })), /header "X-Note"/);
      await refused(firstValueFrom(http.request({ url: '/x', headers })), /header "X-Note"/);
      await refused(http.axiosRef.get('/x', { headers }), /header "X-Note"/);
      await refused(http.axiosRef({ url: '/x', headers }), /header "X-Note"/);
      await refused(firstValueFrom(http.get('/x', { headers: { 'Bad Name': 'v' } })), /is not a valid HTTP token/);
    });

    it('bodies a ServiceClient cannot send, and binary response types', async () => {
      await refused(firstValueFrom(http.postForm('/x', { a: 1 })), /multipart\/form-data bodies are not supported/);
      await refused(firstValueFrom(http.post('/x', { n: 10n })), /body is not JSON-serialisable/);
      await refused(firstValueFrom(http.post('/x', new Map([['a', 1]]))), /a Map body is not supported/);
      await refused(firstValueFrom(http.get('/x', { responseType: 'stream' })), /responseType "stream"/);
    });
  });

  it('keeps credentials out of the error: headers, query and body of the failed request', async () => {
    const { app, http } = await boot({ services: { peer: { baseUrl: server.url, retries: 0 } } });
    try {
      const error = await failure(
        firstValueFrom(
          http.post(
            '/broken/secret',
            { password: SECRETS.otherApiKey },
            {
              headers: { Authorization: `Bearer ${SECRETS.jwt}`, 'X-API-KEY': SECRETS.apiKey },
              params: { api_key: SECRETS.daprApiToken, page: 2 },
            },
          ),
        ),
      );
      // The request did carry them ...
      const sent = server.requests.at(-1)!;
      expect(sent.headers.authorization).toBe(`Bearer ${SECRETS.jwt}`);
      expect(sent.url).toContain(SECRETS.daprApiToken);
      // ... the error shows none, however it is printed.
      expect(error.config?.headers.Authorization).toBe('***');
      expect(error.config?.headers['X-API-KEY']).toBe('***');
      expect(error.config?.params).toEqual({ api_key: '***', page: 2 });
      expect(error.config?.data).toBeUndefined();
      const printed = [JSON.stringify(error.toJSON()), inspect(error, { depth: 8 }), String(error.stack)].join('\n');
      for (const secret of [SECRETS.jwt, SECRETS.apiKey, SECRETS.daprApiToken, SECRETS.otherApiKey]) {
        expect(printed).not.toContain(secret);
      }
      expect(printed).toContain('***');
    } finally {
      await app.close();
    }
  });

  it('keeps credentials out of a cancellation raised before anything was sent (a signal or token already aborted)', async () => {
    const { app, http } = await boot({ services: { peer: { baseUrl: server.url, retries: 0 } } });
    try {
      const before = server.requests.length;
      const credentials = {
        headers: { Authorization: `Bearer ${SECRETS.jwt}`, 'X-API-KEY': SECRETS.apiKey },
        params: { api_key: SECRETS.daprApiToken },
      };
      const aborted = new AbortController();
      aborted.abort();
      const source = axios.CancelToken.source();
      source.cancel('gone');
      const errors = [
        await failure(firstValueFrom(http.get('/ok', { ...credentials, signal: aborted.signal }))),
        await failure(firstValueFrom(http.post('/ok', { a: 1 }, { ...credentials, cancelToken: source.token }))),
        await failure(http.axiosRef.get('/ok', { ...credentials, signal: aborted.signal })),
      ];
      expect(server.requests.length).toBe(before);
      // A signal: axios' error with the request's config, made safe. A cancel token: its own reason, no config.
      expect(errors[0].config?.headers.Authorization).toBe('***');
      expect(errors[2].config?.headers['X-API-KEY']).toBe('***');
      expect(errors[1].config).toBeUndefined();
      for (const error of errors) {
        expect(axios.isCancel(error)).toBe(true);
        const printed = [JSON.stringify(error.toJSON()), inspect(error, { depth: 8 }), String(error.stack)].join('\n');
        for (const secret of [SECRETS.jwt, SECRETS.apiKey, SECRETS.daprApiToken, SECRETS.otherApiKey]) {
          expect(printed).not.toContain(secret);
        }
      }
    } finally {
      await app.close();
    }
  });

  it('forFeature registers an HttpService per name for @InjectHttpService, the object getHttpService returns', async () => {
    @Injectable()
    class Catalog {
      constructor(
        @InjectHttpService('peer') readonly http: HttpService,
        @InjectServiceClient('peer') readonly client: ServiceClient,
      ) {}
    }
    @Module({ imports: [KugelCommsModule.forFeature(['peer'])], providers: [Catalog] })
    class CatalogModule {}
    const app = await Test.createTestingModule({
      imports: [KugelCommsModule.forRoot({ services: { peer: server.url } }), CatalogModule],
    }).compile();
    try {
      const catalog = app.get(Catalog);
      expect(catalog.http).toBe(app.get(HttpClientHelper).getHttpService('peer'));
      expect(app.get(getHttpServiceToken('peer'), { strict: false })).toBe(catalog.http);
      await expect(firstValueFrom(catalog.http.get('/items/f'))).resolves.toMatchObject({ data: { url: '/items/f' } });
    } finally {
      await app.close();
    }
  });

  it('an unknown service name is the discovery error', async () => {
    const app = await bootKugelComms({});
    try {
      expect(() => app.get(HttpClientHelper).getHttpService('nowhere')).toThrow(
        expect.objectContaining({ code: 'ERR_UNKNOWN_SERVICE' }),
      );
    } finally {
      await app.close();
    }
  });

  it('without @nestjs/axios installed, getHttpService says what to install', () => {
    jest.isolateModules(() => {
      jest.doMock('@nestjs/axios', () => {
        throw Object.assign(new Error("Cannot find module '@nestjs/axios' from 'optional-peer.ts'"), {
          code: 'MODULE_NOT_FOUND',
        });
      });
      const { createHttpService } =
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        require('../../lib/http/http-service.factory') as typeof import('../../lib/http/http-service.factory');
      expect(() => createHttpService({ name: 'peer' } as ServiceClient)).toThrow(
        'an HttpService for "peer" needs the optional peer dependency @nestjs/axios (npm install @nestjs/axios)',
      );
    });
  });
});
