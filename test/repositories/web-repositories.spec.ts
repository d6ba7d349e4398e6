import { TestingModule } from '@nestjs/testing';
import {
  ItemMasterWebRepository,
  PaymentMasterWebRepository,
  SettingsMasterWebRepository,
  StaffMasterWebRepository,
  StoreInfoWebRepository,
  TerminalContext,
  TerminalInfoWebRepository,
  TranlogWebRepository,
} from '../../lib';
import { bootKugelComms } from '../support/module-fixture';
import { RecordedRequest } from '../support/test-server';
import { KugelPeer, PeerService, startKugelPeer } from './fixtures/kugel-peer';
import { API_KEY, apiKeyContext, JWT, jwtContext, sampleData } from './fixtures/sample-data';

/** The one request a call made, with its query parsed. */
function lastRequest(
  peer: KugelPeer,
  service: PeerService,
): RecordedRequest & { path: string; query: URLSearchParams } {
  const all = peer.requestsTo(service);
  const last = all[all.length - 1];
  const url = new URL(last.url, 'http://x');
  return { ...last, path: last.url.split('?')[0], query: url.searchParams };
}

/** Asserts the auth of a request: Bearer without terminal_id, or X-API-KEY with terminal_id. */
function expectAuth(
  req: RecordedRequest & { query: URLSearchParams },
  mode: 'jwt' | 'apiKey',
  terminalIdAlways = false,
): void {
  if (mode === 'jwt') {
    expect(req.headers.authorization).toBe(`Bearer ${JWT}`);
    expect(req.headers['x-api-key']).toBeUndefined();
    if (!terminalIdAlways) expect(req.query.has('terminal_id')).toBe(false);
  } else {
    expect(req.headers['x-api-key']).toBe(API_KEY);
    expect(req.headers.authorization).toBeUndefined();
    expect(req.query.getAll('terminal_id')).toEqual(['T1-S1-3']);
  }
}

describe('web repositories: endpoints, query parameters and auth (real peer)', () => {
  let peer: KugelPeer;
  let app: TestingModule;

  beforeAll(async () => {
    peer = await startKugelPeer(sampleData());
    app = await bootKugelComms({
      services: peer.services,
      http: { backoff: { initialDelayMs: 1 } },
      dapr: { waitForSidecarMs: 0 },
      // no caching here: every call must reach the peer
      repositories: { cacheTtlMs: 0 },
    });
  });
  afterAll(async () => {
    await app.close();
    await peer.close();
  });

  describe.each([
    ['jwt', jwtContext],
    ['apiKey', apiKeyContext],
  ] as Array<['jwt' | 'apiKey', TerminalContext]>)('with %s auth', (mode, context) => {
    it('ItemMasterWebRepository GETs /tenants/{t}/stores/{s}/items/{code}/details', async () => {
      const item = await app.get(ItemMasterWebRepository).getItemByCode(context, '4901');
      expect(item).toMatchObject({
        itemCode: '4901',
        description: 'Green tea',
        unitPrice: 150,
        itemDetails: ['500ml'],
      });
      const req = lastRequest(peer, 'master-data');
      expect(req.method).toBe('GET');
      expect(req.path).toBe('/tenants/T1/stores/S1/items/4901/details');
      expectAuth(req, mode);
    });

    it('PaymentMasterWebRepository GETs /tenants/{t}/payments/{code}', async () => {
      const payment = await app.get(PaymentMasterWebRepository).getPaymentByCode(context, '01');
      expect(payment).toMatchObject({ paymentCode: '01', description: 'Cash', canChange: true });
      const req = lastRequest(peer, 'master-data');
      expect(req.path).toBe('/tenants/T1/payments/01');
      expectAuth(req, mode);
    });

    it('SettingsMasterWebRepository GETs the whole list (limit=0), and one value with store_code and terminal_no', async () => {
      const settings = app.get(SettingsMasterWebRepository);
      const all = await settings.getAllSettings(context);
      expect(all.map((s) => s.name)).toEqual(['RECEIPT_FOOTER', 'ROUNDING']);
      let req = lastRequest(peer, 'master-data');
      expect(req.path).toBe('/tenants/T1/settings');
      // The list route takes limit/page/sort only: no store_code or terminal_no it would ignore.
      expect([...req.query.keys()].filter((k) => k !== 'terminal_id')).toEqual(['limit']);
      expect(req.query.get('limit')).toBe('0');
      expectAuth(req, mode);

      await expect(settings.getSettingValueByName(context, 'RECEIPT_FOOTER')).resolves.toEqual({
        name: 'RECEIPT_FOOTER',
        value: 'Thanks S1',
      });
      req = lastRequest(peer, 'master-data');
      expect(req.path).toBe('/tenants/T1/settings/RECEIPT_FOOTER/value');
      expect(req.query.get('store_code')).toBe('S1');
      expect(req.query.get('terminal_no')).toBe('3');
      expectAuth(req, mode);
    });

    it('StaffMasterWebRepository GETs /tenants/{t}/staff/{id}', async () => {
      await expect(app.get(StaffMasterWebRepository).getStaffById(context, 'ST-01')).resolves.toMatchObject({
        id: 'ST-01',
        name: 'Hanako',
      });
      const req = lastRequest(peer, 'master-data');
      expect(req.path).toBe('/tenants/T1/staff/ST-01');
      expectAuth(req, mode);
    });

    it('StoreInfoWebRepository GETs /tenants/{t}/stores/{s} from the terminal service', async () => {
      await expect(app.get(StoreInfoWebRepository).getStoreInfo(context)).resolves.toEqual(peer.data.stores['T1/S1']);
      const req = lastRequest(peer, 'terminal');
      expect(req.path).toBe('/tenants/T1/stores/S1');
      expectAuth(req, mode);
    });

    it('TerminalInfoWebRepository lists the store terminals and gets one by {t}-{s}-{no}', async () => {
      const terminals = app.get(TerminalInfoWebRepository);
      const list = await terminals.getTerminalInfoList(context);
      expect(list.map((t) => t.terminalId)).toEqual(['T1-S1-1', 'T1-S1-2']);
      let req = lastRequest(peer, 'terminal');
      expect(req.path).toBe('/terminals');
      expect(req.query.get('store_code')).toBe('S1');
      expect(req.query.get('limit')).toBe('0');
      expect(req.query.get('page')).toBe('1');
      expect(req.query.get('sort')).toBe('terminal_no:1');
      expectAuth(req, mode);

      await expect(terminals.getTerminalInfo(context, 2)).resolves.toMatchObject({
        terminalId: 'T1-S1-2',
        status: 'Opened',
      });
      req = lastRequest(peer, 'terminal');
      expect(req.path).toBe('/terminals/T1-S1-2');
      expect(req.query.get('store_code')).toBe('S1');
      expectAuth(req, mode);
    });

    it('TranlogWebRepository GETs one page of transactions with every filter, terminal_id always', async () => {
      const page = await app.get(TranlogWebRepository).getTranlogList(context, {
        businessDate: '20240401',
        openCounter: 1,
        transactionTypes: [101, 201],
        limit: 2,
        page: 2,
        sort: [
          ['transaction_no', -1],
          ['business_date', 1],
        ],
      });
      // 5 transactions, no. 4 cancelled → 4 match; page 2 of size 2 holds the 3rd and 4th of them
      expect(page.metadata).toEqual({ total: 4, page: 2, limit: 2 });
      expect(page.data.map((t) => t.transactionNo)).toEqual([3, 5]);
      const req = lastRequest(peer, 'cart');
      expect(req.path).toBe('/tenants/T1/stores/S1/terminals/3/transactions');
      expect(req.query.get('business_date')).toBe('20240401');
      expect(req.query.get('open_counter')).toBe('1');
      expect(req.query.get('include_cancelled')).toBe('false');
      expect(req.query.get('limit')).toBe('2');
      expect(req.query.get('page')).toBe('2');
      expect(req.query.getAll('transaction_type')).toEqual(['101', '201']);
      expect(req.query.get('sort')).toBe('transaction_no:-1,business_date:1');
      expect(req.query.getAll('terminal_id')).toEqual(['T1-S1-3']);
      expectAuth(req, mode, true);
    });
  });

  it('TranlogWebRepository defaults to limit 0, page 1, no cancelled, and counts cancelled ones when asked', async () => {
    const repo = app.get(TranlogWebRepository);
    const page = await repo.getTranlogList(jwtContext, {
      businessDate: '20240401',
      openCounter: 1,
    });
    expect(page.metadata).toEqual({ total: 4, page: 1, limit: 0 });
    const req = lastRequest(peer, 'cart');
    expect(req.query.get('limit')).toBe('0');
    expect(req.query.get('page')).toBe('1');
    expect(req.query.has('transaction_type')).toBe(false);
    expect(req.query.has('sort')).toBe(false);
    const all = await repo.getTranlogList(jwtContext, {
      businessDate: '20240401',
      openCounter: 1,
      includeCancelled: true,
    });
    expect(all.metadata.total).toBe(5);
    expect(lastRequest(peer, 'cart').query.get('include_cancelled')).toBe('true');
  });

  it('derives terminal_id {tenant}-{store}-{no} in API-key mode when the context has none', async () => {
    const context: TerminalContext = {
      tenantId: 'T1',
      storeCode: 'S1',
      terminalNo: 3,
      apiKey: API_KEY,
    };
    await app.get(StaffMasterWebRepository).getStaffById(context, 'ST-01');
    expect(lastRequest(peer, 'master-data').query.getAll('terminal_id')).toEqual(['T1-S1-3']);
  });

  it('refuses a setting value for a context without a terminal number (the route requires it), sending nothing', async () => {
    const context: TerminalContext = { tenantId: 'T1', storeCode: 'S1', jwtToken: JWT };
    const before = peer.requestsTo('master-data').length;
    await expect(app.get(SettingsMasterWebRepository).getSettingValueByName(context, 'ROUNDING')).rejects.toThrow(
      /getSettingValueByName: context.terminalNo must be a number or a non-empty string \(nothing was sent\)/,
    );
    expect(peer.requestsTo('master-data')).toHaveLength(before);
    // The list does not depend on the terminal.
    await app.get(SettingsMasterWebRepository).getAllSettings(context);
    expect(lastRequest(peer, 'master-data').url).toBe('/tenants/T1/settings?limit=0');
  });

  it('TerminalInfoWebRepository goes with the API key when the context has both an API key and a JWT, as the original', async () => {
    const both: TerminalContext = { ...jwtContext, apiKey: API_KEY };
    const terminals = app.get(TerminalInfoWebRepository);
    await terminals.getTerminalInfoList(both);
    expectAuth(lastRequest(peer, 'terminal'), 'apiKey');
    await terminals.getTerminalInfo(both, 2);
    expectAuth(lastRequest(peer, 'terminal'), 'apiKey');
    // The other repositories prefer the JWT.
    await app.get(StaffMasterWebRepository).getStaffById(both, 'ST-01');
    expectAuth(lastRequest(peer, 'master-data'), 'jwt');
  });

  it('sends a path value with "/", "?", "#", "%" as one encoded segment and gets the right document', async () => {
    const item = await app.get(ItemMasterWebRepository).getItemByCode(jwtContext, 'a/b?c#d%');
    expect(item.description).toBe('Odd code');
    expect(lastRequest(peer, 'master-data').url).toBe('/tenants/T1/stores/S1/items/a%2Fb%3Fc%23d%25/details');

    await app
      .get(StaffMasterWebRepository)
      .getStaffById(jwtContext, '../x?y=1')
      .catch(() => undefined);
    expect(lastRequest(peer, 'master-data').url).toBe('/tenants/T1/staff/..%2Fx%3Fy%3D1');

    const tenantCtx: TerminalContext = { ...jwtContext, tenantId: 'T/1', storeCode: 'S?1' };
    await app
      .get(StoreInfoWebRepository)
      .getStoreInfo(tenantCtx)
      .catch(() => undefined);
    expect(lastRequest(peer, 'terminal').url).toBe('/tenants/T%2F1/stores/S%3F1');

    await app
      .get(PaymentMasterWebRepository)
      .getPaymentByCode(jwtContext, '#1')
      .catch(() => undefined);
    expect(lastRequest(peer, 'master-data').url).toBe('/tenants/T1/payments/%231');

    await app
      .get(SettingsMasterWebRepository)
      .getSettingValueByName(jwtContext, 'a/b')
      .catch(() => undefined);
    expect(lastRequest(peer, 'master-data').url.split('?')[0]).toBe('/tenants/T1/settings/a%2Fb/value');
  });
});
