import { HttpService } from '@nestjs/axios';
import { Test, TestingModule } from '@nestjs/testing';
import { AxiosError } from 'axios';
import { firstValueFrom } from 'rxjs';
import {
  HttpClientError,
  HttpClientHelper,
  ItemMasterWebRepository,
  KugelCommsEvents,
  KugelCommsModule,
  KugelCommsModuleOptions,
  RequestCompletedEvent,
  isNotFoundError,
  pathOf,
} from '../../lib';
import { KugelCommsTesting, KugelCommsTestingModule, KugelCommsTestingOptions } from '../../lib/testing';
import { errorOf } from '../support/errors';

async function boot(options: KugelCommsModuleOptions, testing: KugelCommsTestingOptions) {
  const moduleRef = await Test.createTestingModule({
    imports: [KugelCommsModule.forRoot({ ...options, isGlobal: true }), KugelCommsTestingModule.forRoot(testing)],
  }).compile();
  await moduleRef.init();
  return {
    moduleRef,
    kugel: moduleRef.get(KugelCommsTesting),
    http: moduleRef.get(HttpClientHelper),
  };
}

/** Peers stubbed by route, answering through the real ServiceClient (no sockets: see breakers-and-sockets.spec.ts). */
describe('KugelCommsTestingModule: stubbed peers', () => {
  let moduleRef: TestingModule;
  let kugel: KugelCommsTesting;
  let http: HttpClientHelper;
  const completed: RequestCompletedEvent[] = [];

  beforeAll(async () => {
    ({ moduleRef, kugel, http } = await boot(
      {
        // A configured service keeps its options (retries here); 'pricing' is found through its stubs only.
        services: { 'master-data': { baseUrl: 'http://master-data:8000/api/v1', retries: 2 } },
        http: { backoff: { initialDelayMs: 1 } },
      },
      {
        stubs: {
          'master-data': [
            {
              method: 'GET',
              path: '/tenants/:tenant/items/:code',
              reply: (req) => ({ body: { tenant: req.params.tenant, code: req.params.code, q: req.query } }),
            },
            { method: 'POST', path: '/tenants/:tenant/items', reply: (req) => ({ status: 201, body: req.body }) },
            { method: 'GET', path: '/missing', reply: { status: 404, body: { detail: 'no such item' } } },
            { method: 'GET', path: '/flaky', reply: { status: 503 }, times: 2 },
            { method: 'GET', path: '/flaky', reply: { body: 'ok at last' } },
            { method: 'GET', path: '/refused', reply: { fault: 'ECONNREFUSED' } },
          ],
          pricing: [{ method: 'GET', path: '/prices/:code', reply: { body: { price: 120 } } }],
        },
      },
    ));
    moduleRef.get(KugelCommsEvents).requestCompleted.on((e) => completed.push(e));
  });
  afterAll(() => moduleRef?.close());
  beforeEach(() => (completed.length = 0));

  it('get resolves to the stub body; the route params, query, headers and body are recorded', async () => {
    const md = http.getServiceClient('master-data');
    await expect(
      md.get(pathOf`/tenants/${'T 1'}/items/${'A/1'}`, { params: { lang: 'ja', tag: ['a', 'b'] } }),
    ).resolves.toEqual({ tenant: 'T 1', code: 'A/1', q: { lang: 'ja', tag: ['a', 'b'] } });
    await expect(md.post('/tenants/T1/items', { code: 'X' }, { headers: { 'X-Trace': 't1' } })).resolves.toEqual({
      code: 'X',
    });
    const calls = kugel.calls('master-data').slice(-2);
    expect(calls[0]).toMatchObject({
      method: 'GET',
      path: '/tenants/T%201/items/A%2F1',
      params: { tenant: 'T 1', code: 'A/1' },
    });
    expect(calls[1]).toMatchObject({ method: 'POST', body: { code: 'X' }, headers: { 'x-trace': 't1' } });
    expect(calls[1].headers['content-type']).toBe('application/json');
  });

  it('a failure is the HttpClientError a real peer gives: status, parsed body, service, method, URL, attempts, code', async () => {
    const error = await errorOf(http.getServiceClient('master-data').get('/missing'));
    expect(error).toBeInstanceOf(HttpClientError);
    expect(error).toMatchObject({
      statusCode: 404,
      response: { detail: 'no such item' },
      service: 'master-data',
      method: 'GET',
      url: 'http://master-data:8000/api/v1/missing',
      attempts: 1,
      code: AxiosError.ERR_BAD_REQUEST,
    });
    // A repository maps it as it would a real peer's 404.
    const items = moduleRef.get(ItemMasterWebRepository);
    kugel.stub('master-data', {
      method: 'GET',
      path: '/tenants/:t/stores/:s/items/:code/details',
      reply: { status: 404, body: { detail: 'no' } },
    });
    const notFound = await errorOf(items.getItemByCode({ tenantId: 'T1', storeCode: 'S1', terminalNo: 1 }, '4901'));
    expect(isNotFoundError(notFound)).toBe(true);
  });

  it('retries, faults and `times` behave as on the network: 503 twice, then the next stub', async () => {
    await expect(http.getServiceClient('master-data').get('/flaky')).resolves.toBe('ok at last');
    expect(kugel.calls('master-data').filter((c) => c.path === '/flaky')).toHaveLength(3);
    expect(completed.at(-1)).toMatchObject({ route: '/flaky', status: 200, attempts: 3, outcome: 'success' });
    const refused = await errorOf(http.getServiceClient('master-data').get('/refused'));
    expect(refused).toMatchObject({ code: 'ECONNREFUSED', attempts: 3, statusCode: undefined });
  });

  it('an unstubbed route fails loudly, naming the call and the routes the service has', async () => {
    const error = await errorOf(http.getServiceClient('pricing').get('/discounts/9'));
    expect(error).toMatchObject({ code: 'ERR_NO_STUB', service: 'pricing', attempts: 1 });
    expect(error.message).toBe(
      'GET pricing /discounts/9 failed: no stub for GET /discounts/9 of "pricing" (stubbed: GET /prices/:code) after 1 attempt',
    );
    // The wrong method is no match either.
    await expect(http.getServiceClient('pricing').delete('/prices/1')).rejects.toMatchObject({ code: 'ERR_NO_STUB' });
  });

  it('a service the app neither configures nor stubs is still the discovery error', () => {
    expect(() => http.getServiceClient('nowhere')).toThrow(expect.objectContaining({ code: 'ERR_UNKNOWN_SERVICE' }));
  });

  it('stubs added with stub() come first; reset() goes back to the ones given at boot', async () => {
    kugel.stub('pricing', { method: 'GET', path: '/prices/:code', reply: { body: { price: 99 } } });
    await expect(http.getServiceClient('pricing').get('/prices/1')).resolves.toEqual({ price: 99 });
    kugel.reset();
    expect(kugel.calls('pricing')).toEqual([]);
    await expect(http.getServiceClient('pricing').get('/prices/1')).resolves.toEqual({ price: 120 });
  });

  it('the HttpService of a stubbed service answers from the stubs too', async () => {
    const service: HttpService = http.getHttpService('pricing');
    await expect(firstValueFrom(service.get('/prices/7'))).resolves.toMatchObject({
      status: 200,
      data: { price: 120 },
    });
    const error = await firstValueFrom(service.get('/nope')).catch((e: AxiosError) => e);
    expect(error).toMatchObject({ code: 'ERR_NO_STUB' });
  });

  it('bad stubs are refused when the module is made, naming the stub', () => {
    expect(() =>
      KugelCommsTestingModule.forRoot({ stubs: { p: [{ method: 'FETCH' as 'GET', path: '/x', reply: {} }] } }),
    ).toThrow('stub "FETCH" "/x" of "p": method must be GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS');
    expect(() => KugelCommsTestingModule.forRoot({ stubs: { p: [{ method: 'GET', path: 'x', reply: {} }] } })).toThrow(
      'path must be a string starting with "/"',
    );
  });
});
