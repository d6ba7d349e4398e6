import { Controller, Get, INestApplication, Param, Query, UseFilters } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { AddressInfo } from 'node:net';
import {
  GATEWAY_ERROR_FILTER_OPTIONS,
  GatewayErrorFilter,
  HttpClientHelper,
  KugelCommsModule,
} from '../../lib';
import { closedPort, json, startTestServer, TestServer } from '../support/test-server';

/** The app's own routes: each forwards to a peer, whose failure reaches the filter. */
@Controller('orders')
class OrdersController {
  constructor(private readonly http: HttpClientHelper) {}

  @Get(':case')
  forward(@Param('case') which: string, @Query('token') token?: string): Promise<unknown> {
    const peer = which === 'refused' ? 'gone' : which === 'breaker' ? 'flaky' : 'peer';
    return this.http.getServiceClient(peer).get(`/${which}`, { params: token ? { access_token: token } : undefined });
  }
}

/** The same routes with the filter installed on the controller, passing a peer's 404 through. */
@Controller('lookups')
@UseFilters(GatewayErrorFilter)
class LookupsController {
  constructor(private readonly http: HttpClientHelper) {}

  @Get(':case')
  forward(@Param('case') which: string): Promise<unknown> {
    return this.http.getServiceClient('peer').get(`/${which}`);
  }
}

describe.each(['express', 'fastify'] as const)('GatewayErrorFilter: a failed peer call as the caller sees it, on %s', (platform) => {
  let peer: TestServer;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    peer = await startTestServer((req, res) => {
      const path = req.url ?? '';
      if (path.startsWith('/slow')) return; // never answers: the call times out
      if (path.startsWith('/reset')) return void req.socket.destroy();
      if (path.startsWith('/missing')) return json(res, 404, { message: 'no such order', code: 'E404' });
      if (path.startsWith('/conflict')) return json(res, 409, { message: 'taken' });
      if (path.startsWith('/breaker')) return json(res, 500, { message: 'down' });
      return json(res, 500, { message: 'internal detail of the peer', secret: 'never forwarded' });
    });
    const moduleRef = await Test.createTestingModule({
      imports: [
        KugelCommsModule.forRoot({
          services: {
            peer: peer.url,
            gone: `http://127.0.0.1:${await closedPort()}`,
            flaky: { baseUrl: peer.url, breaker: { failureThreshold: 1, resetTimeoutMs: 30_000 } },
          },
          http: { timeoutMs: 300, retries: 0 },
          dapr: { waitForSidecarMs: 0 },
        }),
      ],
      controllers: [OrdersController, LookupsController],
      providers: [{ provide: GATEWAY_ERROR_FILTER_OPTIONS, useValue: { passThroughClientErrors: [404] } }],
    }).compile();
    app =
      platform === 'fastify'
        ? moduleRef.createNestApplication(new FastifyAdapter(), { logger: false })
        : moduleRef.createNestApplication({ logger: false });
    app.useGlobalFilters(new GatewayErrorFilter(app.get(HttpAdapterHost)));
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app.close();
    await peer.close();
  });

  const call = async (path: string) => {
    const res = await fetch(`${url}${path}`);
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as any };
  };

  it("a peer's 5xx is 502, with the error's message and none of the peer's body", async () => {
    const res = await call('/orders/broken');
    expect(res.status).toBe(502);
    expect(res.body).toEqual({
      statusCode: 502,
      error: 'Bad Gateway',
      message: expect.stringContaining('GET peer /broken failed with HTTP 500'),
    });
    expect(JSON.stringify(res.body)).not.toContain('never forwarded');
  });

  it('a timeout is 504', async () => {
    const res = await call('/orders/slow');
    expect(res.status).toBe(504);
    expect(res.body.error).toBe('Gateway Timeout');
  });

  it('a reset or a refused connection is 502', async () => {
    expect((await call('/orders/reset')).status).toBe(502);
    expect((await call('/orders/refused')).status).toBe(502);
  });

  it('an open breaker is 503 with Retry-After: the seconds until its next trial', async () => {
    expect((await call('/orders/breaker')).status).toBe(502); // the failure that opens it
    const res = await call('/orders/breaker');
    expect(res.status).toBe(503);
    expect(Number(res.retryAfter)).toBeGreaterThanOrEqual(29);
    expect(Number(res.retryAfter)).toBeLessThanOrEqual(30);
  });

  it("a peer's 4xx is 502 by default; passed through (status and body) only where the options say", async () => {
    expect((await call('/orders/missing')).status).toBe(502);
    // The controller's own filter instance takes the options provider: 404 passes, 409 does not.
    const missing = await call('/lookups/missing');
    expect(missing).toMatchObject({ status: 404, body: { message: 'no such order', code: 'E404' } });
    expect((await call('/lookups/conflict')).status).toBe(502);
  });

  it('the message carries no credential of the URL', async () => {
    const res = await call('/orders/broken?token=s3cr3t-value');
    expect(res.status).toBe(502);
    expect(JSON.stringify(res.body)).not.toContain('s3cr3t-value');
    expect(res.body.message).toContain('access_token=***');
  });
});
