import { TestingModule } from '@nestjs/testing';
import {
  ItemMasterWebRepository,
  KugelCommsModuleOptions,
  PaymentMasterWebRepository,
  SettingsMasterWebRepository,
  TerminalContext,
} from '../../lib';
import { fakeDate } from '../support/fake-date';
import { bootKugelComms } from '../support/module-fixture';
import { KugelPeer, PeerRoute, startKugelPeer } from './fixtures/kugel-peer';
import { item, jwtContext, payment, sampleData } from './fixtures/sample-data';

const itemRequests = (peer: KugelPeer, code = '4901') =>
  peer.requestsTo('master-data').filter((r) => r.url.includes(`/items/${code}/`)).length;

describe('repository caches (real peer)', () => {
  let peer: KugelPeer;
  const apps: TestingModule[] = [];

  async function boot(repositories: KugelCommsModuleOptions['repositories'] = {}): Promise<TestingModule> {
    const app = await bootKugelComms({
      services: peer.services,
      http: { backoff: { initialDelayMs: 1 } },
      dapr: { waitForSidecarMs: 0 },
      repositories,
    });
    apps.push(app);
    return app;
  }

  beforeEach(async () => {
    peer = await startKugelPeer(sampleData());
  });
  afterEach(async () => {
    jest.useRealTimers(); // after a test that faked the date
    for (const app of apps.splice(0)) await app.close();
    await peer.close();
  });

  it('serves a second read of an item from the cache: the peer sees one request', async () => {
    const items = (await boot()).get(ItemMasterWebRepository);
    const first = await items.getItemByCode(jwtContext, '4901');
    const second = await items.getItemByCode(jwtContext, '4901');
    expect(second).toEqual(first);
    expect(itemRequests(peer)).toBe(1);
  });

  it('keys entries by credential too: another terminal key or JWT is checked by the peer', async () => {
    const items = (await boot()).get(ItemMasterWebRepository);
    await items.getItemByCode(jwtContext, '4901');
    await items.getItemByCode({ ...jwtContext, jwtToken: 'another.jwt.token' }, '4901');
    await items.getItemByCode({ ...jwtContext, jwtToken: undefined, apiKey: 'another-key' }, '4901');
    expect(itemRequests(peer)).toBe(3);
    await items.getItemByCode(jwtContext, '4901');
    expect(itemRequests(peer)).toBe(3);
  });

  it('shares one request between concurrent misses of the same key', async () => {
    const items = (await boot()).get(ItemMasterWebRepository);
    const results = await Promise.all(Array.from({ length: 5 }, () => items.getItemByCode(jwtContext, '4901')));
    expect(new Set(results.map((r) => r.description))).toEqual(new Set(['Green tea']));
    expect(itemRequests(peer)).toBe(1);
  });

  it('fetches again once the TTL has passed', async () => {
    const clock = fakeDate();
    const items = (await boot({ cacheTtlMs: 60_000 })).get(ItemMasterWebRepository);
    await items.getItemByCode(jwtContext, '4901');
    clock.advance(59_999);
    await items.getItemByCode(jwtContext, '4901');
    expect(itemRequests(peer)).toBe(1);
    peer.data.items['T1/S1/4901'] = { ...peer.data.items['T1/S1/4901'], unitPrice: 999 };
    clock.advance(1);
    await expect(items.getItemByCode(jwtContext, '4901')).resolves.toMatchObject({
      unitPrice: 999,
    });
    expect(itemRequests(peer)).toBe(2);
  });

  it('keeps tenants and stores apart: same item code, two tenants → two requests, each its own data', async () => {
    const items = (await boot()).get(ItemMasterWebRepository);
    const t2: TerminalContext = { ...jwtContext, tenantId: 'T2', terminalId: 'T2-S1-3' };
    const s2: TerminalContext = { ...jwtContext, storeCode: 'S2', terminalId: 'T1-S2-3' };
    await expect(items.getItemByCode(jwtContext, '4901')).resolves.toMatchObject({
      description: 'Green tea',
    });
    await expect(items.getItemByCode(t2, '4901')).resolves.toMatchObject({
      description: 'Black coffee',
    });
    await expect(items.getItemByCode(s2, '4901')).resolves.toMatchObject({
      description: 'Green tea (S2 price)',
      unitPrice: 140,
    });
    // all three are cached, each under its own key
    await expect(items.getItemByCode(t2, '4901')).resolves.toMatchObject({
      description: 'Black coffee',
    });
    await expect(items.getItemByCode(jwtContext, '4901')).resolves.toMatchObject({
      description: 'Green tea',
    });
    const urls = peer.requestsTo('master-data').map((r) => r.url);
    expect(urls).toEqual([
      '/tenants/T1/stores/S1/items/4901/details',
      '/tenants/T2/stores/S1/items/4901/details',
      '/tenants/T1/stores/S2/items/4901/details',
    ]);
  });

  it('never caches a failure: a 503 and a 404 are asked again, the next success is cached', async () => {
    const items = (await boot()).get(ItemMasterWebRepository);
    let down = true;
    peer.override = (route: PeerRoute) =>
      down && route.rawPath.includes('/items/') ? { status: 503, body: { message: 'busy' } } : undefined;
    await expect(items.getItemByCode(jwtContext, '4901')).rejects.toThrow(/HTTP 503/);
    expect(itemRequests(peer)).toBe(4);
    down = false;
    await expect(items.getItemByCode(jwtContext, '4901')).resolves.toMatchObject({
      itemCode: '4901',
    });
    await items.getItemByCode(jwtContext, '4901');
    expect(itemRequests(peer)).toBe(5);

    await expect(items.getItemByCode(jwtContext, '7777')).rejects.toThrow(/not found/);
    peer.data.items['T1/S1/7777'] = item({ itemCode: '7777', description: 'new' });
    await expect(items.getItemByCode(jwtContext, '7777')).resolves.toMatchObject({
      description: 'new',
    });
    expect(itemRequests(peer, '7777')).toBe(2);
  });

  it('never caches a malformed answer', async () => {
    const items = (await boot()).get(ItemMasterWebRepository);
    let broken = true;
    peer.override = (route) =>
      broken && route.rawPath.includes('/items/')
        ? { status: 200, body: { success: true, code: 200, message: 'ok' } }
        : undefined;
    await expect(items.getItemByCode(jwtContext, '4901')).rejects.toThrow(/no "data"/);
    broken = false;
    await expect(items.getItemByCode(jwtContext, '4901')).resolves.toMatchObject({
      itemCode: '4901',
    });
    expect(itemRequests(peer)).toBe(2);
  });

  it('returns copies: changing a returned document does not change the cache', async () => {
    const items = (await boot()).get(ItemMasterWebRepository);
    const first = await items.getItemByCode(jwtContext, '4901');
    first.unitPrice = 1;
    (await items.getItemByCode(jwtContext, '4901')).unitPrice = 2;
    await expect(items.getItemByCode(jwtContext, '4901')).resolves.toMatchObject({
      unitPrice: 150,
    });
    expect(itemRequests(peer)).toBe(1);
  });

  it('evicts the least recently used entry beyond cacheMaxEntries', async () => {
    for (const code of ['A', 'B', 'C']) peer.data.items[`T1/S1/${code}`] = item({ itemCode: code });
    const items = (await boot({ cacheMaxEntries: 2 })).get(ItemMasterWebRepository);
    await items.getItemByCode(jwtContext, 'A');
    await items.getItemByCode(jwtContext, 'B');
    await items.getItemByCode(jwtContext, 'A'); // hit: A is now the most recently used
    await items.getItemByCode(jwtContext, 'C'); // evicts B
    await items.getItemByCode(jwtContext, 'A'); // hit
    await items.getItemByCode(jwtContext, 'B'); // miss
    expect(peer.requestsTo('master-data').map((r) => r.url.split('/')[6])).toEqual(['A', 'B', 'C', 'B']);
  });

  it('cacheTtlMs 0 turns caching off', async () => {
    const items = (await boot({ cacheTtlMs: 0 })).get(ItemMasterWebRepository);
    await items.getItemByCode(jwtContext, '4901');
    await items.getItemByCode(jwtContext, '4901');
    expect(itemRequests(peer)).toBe(2);
  });

  it('caches payments per tenant with a TTL (the original never expired them)', async () => {
    const clock = fakeDate();
    const payments = (await boot({ cacheTtlMs: 60_000 })).get(PaymentMasterWebRepository);
    const t2: TerminalContext = { ...jwtContext, tenantId: 'T2' };
    await expect(payments.getPaymentByCode(jwtContext, '01')).resolves.toMatchObject({
      description: 'Cash',
    });
    await expect(payments.getPaymentByCode(t2, '01')).resolves.toMatchObject({
      description: 'Card',
    });
    await expect(payments.getPaymentByCode(jwtContext, '01')).resolves.toMatchObject({
      description: 'Cash',
    });
    expect(peer.requestsTo('master-data')).toHaveLength(2);
    clock.advance(60_000);
    await payments.getPaymentByCode(jwtContext, '01');
    expect(peer.requestsTo('master-data')).toHaveLength(3);
  });

  it('serves preloaded payments without a request, per tenant and store', async () => {
    const payments = (await boot()).get(PaymentMasterWebRepository);
    payments.preload(jwtContext, [payment({ paymentCode: '99', description: 'Preloaded' })]);
    await expect(payments.getPaymentByCode(jwtContext, '99')).resolves.toMatchObject({
      description: 'Preloaded',
    });
    expect(peer.requestsTo('master-data')).toHaveLength(0);
    await expect(payments.getPaymentByCode({ ...jwtContext, tenantId: 'T2' }, '99')).rejects.toThrow(/not found/);
    expect(peer.requestsTo('master-data')).toHaveLength(1);
  });

  it('caches settings lists per tenant and store, values per tenant, store and terminal, and not their 404s', async () => {
    const settings = (await boot()).get(SettingsMasterWebRepository);
    await settings.getAllSettings(jwtContext);
    await settings.getAllSettings(jwtContext);
    // The list does not depend on the terminal: another terminal of the store is served from the cache.
    await settings.getAllSettings({ ...jwtContext, terminalNo: 4 });
    await settings.getAllSettings({ ...jwtContext, storeCode: 'S2' });
    await settings.getSettingValueByName(jwtContext, 'RECEIPT_FOOTER');
    await settings.getSettingValueByName(jwtContext, 'RECEIPT_FOOTER');
    await settings.getSettingValueByName({ ...jwtContext, terminalNo: 4 }, 'RECEIPT_FOOTER');
    await expect(settings.getSettingValueByName(jwtContext, 'NOPE')).resolves.toBeNull();
    await expect(settings.getSettingValueByName(jwtContext, 'NOPE')).resolves.toBeNull();
    const urls = peer.requestsTo('master-data').map((r) => r.url.split('?')[0]);
    expect(urls).toEqual([
      '/tenants/T1/settings',
      '/tenants/T1/settings',
      '/tenants/T1/settings/RECEIPT_FOOTER/value',
      '/tenants/T1/settings/RECEIPT_FOOTER/value',
      '/tenants/T1/settings/NOPE/value',
      '/tenants/T1/settings/NOPE/value',
    ]);
  });

  it('clearCache() makes the next read go to the peer', async () => {
    const items = (await boot()).get(ItemMasterWebRepository);
    await items.getItemByCode(jwtContext, '4901');
    items.clearCache();
    await items.getItemByCode(jwtContext, '4901');
    expect(itemRequests(peer)).toBe(2);
  });
});
