import { TestingModule } from '@nestjs/testing';
import { HttpClientError, HttpClientHelper } from '../../lib';
import { envVariableFor } from '../../lib/http/service-discovery';
import { bootKugelComms } from '../support/module-fixture';
import { json, startTestServer, TestServer } from '../support/test-server';

describe('service discovery', () => {
  let fromEnv: TestServer;
  let fromOptions: TestServer;
  let app: TestingModule;
  const saved = { ...process.env };

  beforeAll(async () => {
    fromEnv = await startTestServer((req, res) => json(res, 200, { from: 'env', url: req.url }));
    fromOptions = await startTestServer((req, res) => json(res, 200, { from: 'options', url: req.url }));
    process.env.BASE_URL_MASTER_DATA = `${fromEnv.url}/api/v1`;
    process.env.BASE_URL_CART = fromEnv.url;
    app = await bootKugelComms({ services: { cart: { baseUrl: fromOptions.url } }, dapr: { waitForSidecarMs: 0 } });
  });
  afterAll(async () => {
    process.env = saved;
    await app.close();
    await fromEnv.close();
    await fromOptions.close();
  });
  const helper = () => app.get(HttpClientHelper);

  it('maps a name to its variable as the original does', () => {
    expect(envVariableFor('master-data')).toBe('BASE_URL_MASTER_DATA');
    expect(envVariableFor('cart')).toBe('BASE_URL_CART');
  });

  it('finds BASE_URL_<NAME> in the environment, base path included', async () => {
    await expect(helper().getServiceClient('master-data').get('/tenants/t1/items')).resolves.toEqual({
      from: 'env',
      url: '/api/v1/tenants/t1/items',
    });
  });

  it('prefers options.services over the environment', async () => {
    await expect(helper().getServiceClient('cart').get('/x')).resolves.toEqual({ from: 'options', url: '/x' });
  });

  it('matches exact names only (no substring of BASE_URL_MASTER_DATA)', () => {
    for (const name of ['master', 'data', 'a', 'master-data-x']) {
      expect(() => helper().getServiceClient(name)).toThrow(HttpClientError);
    }
  });

  it('names the option and the variable to set for an unknown service', () => {
    let error: HttpClientError | undefined;
    try {
      helper().getServiceClient('stock-keeper');
    } catch (e) {
      error = e as HttpClientError;
    }
    expect(error?.code).toBe('ERR_UNKNOWN_SERVICE');
    expect(error?.message).toContain('services["stock-keeper"]');
    expect(error?.message).toContain('BASE_URL_STOCK_KEEPER');
  });

  it('reports a bad URL in the environment naming the variable', () => {
    process.env.BASE_URL_BROKEN = 'ftp://nowhere';
    expect(() => helper().getServiceClient('broken')).toThrow(/BASE_URL_BROKEN/);
  });
});
