import { TestingModule } from '@nestjs/testing';
import { inspect } from 'node:util';
import {
  isHttpClientError,
  isNotFoundError,
  isRepositoryError,
  ItemMasterWebRepository,
  NotFoundError,
  PaymentMasterWebRepository,
  RepositoryError,
  SettingsMasterWebRepository,
  StaffMasterWebRepository,
  StoreInfoWebRepository,
  TerminalContext,
  TerminalInfoWebRepository,
  TranlogWebRepository,
} from '../../lib';
import { captureLogs } from '../support/log-capture';
import { bootKugelComms } from '../support/module-fixture';
import { closedPort } from '../support/test-server';
import { envelope, KugelPeer, PeerAnswer, startKugelPeer } from './fixtures/kugel-peer';
import { API_KEY, apiKeyContext, JWT, jwtContext, sampleData } from './fixtures/sample-data';

/** Resolves to what the promise rejected with; fails the test when it resolved. */
async function failure(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (error: Error) => error,
  );
}

/** Everything an error exposes (message, cause chain, fields) as text. */
function everything(error: Error): string {
  return `${String(error)}\n${error.stack}\n${inspect(error, { depth: 8 })}`;
}

function expectNoSecrets(error: Error): void {
  const text = everything(error);
  expect(text).not.toContain(API_KEY);
  expect(text).not.toContain(JWT);
  expect(text).not.toContain(JWT.split('.')[2]);
}

describe('repository errors (real peer)', () => {
  let peer: KugelPeer;
  let app: TestingModule;
  let logs: ReturnType<typeof captureLogs>;

  /** One call of each repository, on a context. */
  const calls = (ctx: TerminalContext): Array<[string, () => Promise<unknown>]> => [
    ['item', () => app.get(ItemMasterWebRepository).getItemByCode(ctx, '4901')],
    ['payment', () => app.get(PaymentMasterWebRepository).getPaymentByCode(ctx, '01')],
    ['settings list', () => app.get(SettingsMasterWebRepository).getAllSettings(ctx)],
    ['setting value', () => app.get(SettingsMasterWebRepository).getSettingValueByName(ctx, 'RECEIPT_FOOTER')],
    ['staff', () => app.get(StaffMasterWebRepository).getStaffById(ctx, 'ST-01')],
    ['store', () => app.get(StoreInfoWebRepository).getStoreInfo(ctx)],
    ['terminal list', () => app.get(TerminalInfoWebRepository).getTerminalInfoList(ctx)],
    ['terminal', () => app.get(TerminalInfoWebRepository).getTerminalInfo(ctx, 2)],
    ['tranlog', () => app.get(TranlogWebRepository).getTranlogList(ctx, { businessDate: '20240401', openCounter: 1 })],
  ];

  beforeAll(async () => {
    logs = captureLogs();
    peer = await startKugelPeer(sampleData());
    app = await bootKugelComms({
      services: peer.services,
      http: { backoff: { initialDelayMs: 1 } },
      dapr: { waitForSidecarMs: 0 },
      repositories: { cacheTtlMs: 0 },
    });
    logs.reinstall();
  });
  afterEach(() => {
    peer.override = undefined;
  });
  afterAll(async () => {
    await app.close();
    await peer.close();
    logs.restore();
  });

  describe('404', () => {
    it.each([
      ['item master', '9999', () => app.get(ItemMasterWebRepository).getItemByCode(apiKeyContext, '9999')],
      ['payment master', '77', () => app.get(PaymentMasterWebRepository).getPaymentByCode(apiKeyContext, '77')],
      ['staff master', 'nobody', () => app.get(StaffMasterWebRepository).getStaffById(apiKeyContext, 'nobody')],
      [
        'store info',
        'S404',
        () => app.get(StoreInfoWebRepository).getStoreInfo({ ...apiKeyContext, storeCode: 'S404' }),
      ],
      ['terminal info', 'T1-S1-42', () => app.get(TerminalInfoWebRepository).getTerminalInfo(apiKeyContext, 42)],
    ])('%s %s → NotFoundError with collection, key and cause', async (collection, key, call) => {
      const error = await failure(call());
      expect(error).toBeInstanceOf(NotFoundError);
      expect(isNotFoundError(error)).toBe(true);
      expect(isRepositoryError(error)).toBe(false);
      const nf = error as NotFoundError;
      expect(nf.collection).toBe(collection);
      expect(nf.key).toBe(key);
      expect(nf.message).toContain(JSON.stringify(key));
      expect(isHttpClientError(nf.cause)).toBe(true);
      expect((nf.cause as { statusCode?: number }).statusCode).toBe(404);
      expectNoSecrets(nf);
    });

    it('tranlog 404 → NotFoundError', async () => {
      peer.override = (r) =>
        r.service === 'cart'
          ? { status: 404, body: { success: false, code: 404, message: 'no terminal', data: null } }
          : undefined;
      const error = await failure(
        app.get(TranlogWebRepository).getTranlogList(jwtContext, { businessDate: '20240401', openCounter: 1 }),
      );
      expect(error).toBeInstanceOf(NotFoundError);
      expect((error as NotFoundError).collection).toBe('tranlog');
    });

    it('settings: a 404 is an empty list or a null value, as the original', async () => {
      const settings = app.get(SettingsMasterWebRepository);
      await expect(settings.getAllSettings({ ...jwtContext, tenantId: 'T404' })).resolves.toEqual([]);
      await expect(settings.getSettingValueByName(jwtContext, 'NO_SUCH_SETTING')).resolves.toBeNull();
    });
  });

  describe('other failures → RepositoryError', () => {
    it('503 from every repository: RepositoryError with statusCode 503 after 4 attempts (default 3 retries)', async () => {
      peer.override = () => ({
        status: 503,
        body: { success: false, code: 503, message: 'busy', data: null },
      });
      for (const [name, call] of calls(apiKeyContext)) {
        const before = peer.server.requests.length;
        const error = await failure(call());
        expect([name, error]).toEqual([name, expect.any(RepositoryError)]);
        expect(isRepositoryError(error)).toBe(true);
        expect(isNotFoundError(error)).toBe(false);
        const re = error as RepositoryError;
        expect(re.statusCode).toBe(503);
        expect(re.message).toMatch(/HTTP 503 after 4 attempts/);
        expect(re.operation).toEqual(expect.any(String));
        expect(re.collection).toEqual(expect.any(String));
        expect(isHttpClientError(re.cause)).toBe(true);
        expect([name, peer.server.requests.length - before]).toEqual([name, 4]);
        expectNoSecrets(re);
      }
    });

    it('500 and 401 are not mapped to 404 and are not retried', async () => {
      peer.override = (r) => (r.rawPath.includes('/staff/') ? { status: 500, body: { message: 'boom' } } : undefined);
      let before = peer.server.requests.length;
      const e500 = (await failure(
        app.get(StaffMasterWebRepository).getStaffById(jwtContext, 'ST-01'),
      )) as RepositoryError;
      expect(e500).toBeInstanceOf(RepositoryError);
      expect(e500.statusCode).toBe(500);
      expect(peer.server.requests.length - before).toBe(1);

      peer.override = undefined;
      before = peer.server.requests.length;
      const noAuth: TerminalContext = { tenantId: 'T1', storeCode: 'S1' };
      const e401 = (await failure(app.get(StaffMasterWebRepository).getStaffById(noAuth, 'ST-01'))) as RepositoryError;
      expect(e401).toBeInstanceOf(RepositoryError);
      expect(e401.statusCode).toBe(401);
      expect(peer.server.requests.length - before).toBe(1);
    });

    it('an unreachable peer → RepositoryError without a status, naming the network error', async () => {
      const port = await closedPort();
      const down = await bootKugelComms({
        services: { 'master-data': `http://127.0.0.1:${port}/api/v1` },
        http: { backoff: { initialDelayMs: 1 } },
        dapr: { waitForSidecarMs: 0 },
      });
      try {
        const error = (await failure(
          down.get(ItemMasterWebRepository).getItemByCode(apiKeyContext, '4901'),
        )) as RepositoryError;
        expect(error).toBeInstanceOf(RepositoryError);
        expect(error.statusCode).toBeUndefined();
        expect(error.message).toMatch(/master-data could not be reached: ECONNREFUSED/);
        expectNoSecrets(error);
      } finally {
        await down.close();
      }
    });

    it('an unknown peer service → RepositoryError saying what to configure', async () => {
      const lost = await bootKugelComms({
        dapr: { waitForSidecarMs: 0 },
        repositories: { services: { masterData: 'md-not-configured' } },
      });
      try {
        const error = await failure(lost.get(StaffMasterWebRepository).getStaffById(jwtContext, 'ST-01'));
        expect(error).toBeInstanceOf(RepositoryError);
        expect(error.message).toMatch(/md-not-configured/);
        expect(error.message).toMatch(/BASE_URL_MD_NOT_CONFIGURED/);
      } finally {
        await lost.close();
      }
    });
    it('a BASE_URL_<NAME> with a fragment → RepositoryError that never prints the fragment secret', async () => {
      const secret = 'frag-secret-4f2a9c';
      process.env.BASE_URL_MD_WITH_FRAGMENT = `http://127.0.0.1:1/api/v1#access_token=${secret}&state=xyz`;
      const lost = await bootKugelComms({
        dapr: { waitForSidecarMs: 0 },
        repositories: { services: { masterData: 'md-with-fragment' } },
      });
      try {
        const error = await failure(lost.get(StaffMasterWebRepository).getStaffById(jwtContext, 'ST-01'));
        expect(error).toBeInstanceOf(RepositoryError);
        expect(error.message).toContain('BASE_URL_MD_WITH_FRAGMENT');
        expect(error.message).toContain('#access_token=***&state=xyz');
        expect(everything(error)).not.toContain(secret);
      } finally {
        delete process.env.BASE_URL_MD_WITH_FRAGMENT;
        await lost.close();
      }
    });
  });

  describe('an envelope not as promised → RepositoryError naming the missing part', () => {
    const ok = (data: unknown, metadata?: unknown): PeerAnswer => ({
      status: 200,
      body: envelope(data, metadata),
    });
    const item = () => app.get(ItemMasterWebRepository).getItemByCode(jwtContext, '4901');
    const list = () => app.get(TerminalInfoWebRepository).getTerminalInfoList(jwtContext);
    const tranlog = () =>
      app.get(TranlogWebRepository).getTranlogList(jwtContext, { businessDate: '20240401', openCounter: 1 });
    const tx = { transactionNo: 1 };

    it.each<[string, PeerAnswer, () => Promise<unknown>, RegExp]>([
      [
        'a JSON array instead of an envelope',
        { status: 200, body: [1, 2] },
        item,
        /the response is an array, expected an envelope object/,
      ],
      ['a JSON string', { status: 200, body: 'hello' }, item, /the response is a string, expected an envelope object/],
      [
        'JSON null',
        { status: 200, body: '' + 'null', raw: true },
        item,
        /the response is null, expected an envelope object/,
      ],
      [
        'an empty body',
        { status: 200, body: '', raw: true },
        item,
        /the response body is empty, expected an envelope object/,
      ],
      ['no data', { status: 200, body: { success: true, code: 200, message: 'ok' } }, item, /it has no "data"/],
      [
        'success false',
        {
          status: 200,
          body: { success: false, code: 9001, message: 'item is locked', data: null },
        },
        item,
        /"success" is false \(code 9001\): "item is locked"/,
      ],
      [
        'success false with a code that is not a number',
        { status: 200, body: { success: false, code: { toString: 1 }, message: 'odd', data: null } },
        item,
        /"success" is false \(code an object\): "odd"/,
      ],
      ['data null', ok(null), item, /"data" is null, expected an object/],
      ['data a string', ok('4901'), item, /"data" is a string, expected an object/],
      ['data an array for one item', ok([{ itemCode: '4901' }]), item, /"data" is an array, expected an object/],
      ['an item without itemCode', ok({ description: 'x' }), item, /"data.itemCode" is missing, expected a string/],
      [
        'an item with a numeric itemCode',
        ok({ itemCode: 4901 }),
        item,
        /"data.itemCode" is a number, expected a string/,
      ],
      ['an object where a list is promised', ok({ terminalId: 'x' }), list, /"data" is an object, expected an array/],
      [
        'a list element that is not an object',
        ok([{ terminalId: 'T1-S1-1' }, 7]),
        list,
        /"data\[1\]" is a number, expected an object/,
      ],
      [
        'a list element without its id',
        ok([{ terminalId: 'T1-S1-1' }, { status: 'x' }]),
        list,
        /"data\[1\].terminalId" is missing/,
      ],
      [
        'tranlog without metadata',
        { status: 200, body: { success: true, code: 200, message: 'ok', data: [tx] } },
        tranlog,
        /"metadata" is missing/,
      ],
      ['tranlog with metadata null (as a route without pages answers)', ok([tx]), tranlog, /"metadata" is null/],
      ['tranlog metadata not an object', ok([tx], 'page 1'), tranlog, /"metadata" is not an object/],
      ['tranlog without metadata.total', ok([tx], { page: 1, limit: 0 }), tranlog, /"metadata.total" is missing/],
      ['tranlog with a string total', ok([tx], { total: '1' }), tranlog, /"metadata.total" is not a count \(string\)/],
      [
        'tranlog data not a list',
        ok({ transactionNo: 1 }, { total: 1 }),
        tranlog,
        /"data" is an object, expected an array/,
      ],
    ])('%s', async (_name, answer, call, message) => {
      peer.override = () => answer;
      const error = await failure(call());
      expect(error).toBeInstanceOf(RepositoryError);
      expect(error).not.toBeInstanceOf(TypeError);
      expect(error.message).toMatch(/answered an envelope that is not as promised/);
      expect(error.message).toMatch(message);
      expect((error as RepositoryError).statusCode).toBeUndefined();
      expectNoSecrets(error);
    });

    it('a settings value without "value"', async () => {
      peer.override = () => ok({ name: 'RECEIPT_FOOTER' });
      const error = await failure(
        app.get(SettingsMasterWebRepository).getSettingValueByName(jwtContext, 'RECEIPT_FOOTER'),
      );
      expect(error).toBeInstanceOf(RepositoryError);
      expect(error.message).toMatch(/"data.value" is missing, expected a string/);
    });
  });

  describe('bad input → RepositoryError, nothing sent', () => {
    it.each<[string, () => Promise<unknown>, RegExp]>([
      ['an empty item code', () => app.get(ItemMasterWebRepository).getItemByCode(jwtContext, ''), /is empty/],
      ['a ".." staff id', () => app.get(StaffMasterWebRepository).getStaffById(jwtContext, '..'), /dot segment/],
      [
        'no tenant',
        () => app.get(StoreInfoWebRepository).getStoreInfo({ storeCode: 'S1', jwtToken: JWT } as TerminalContext),
        /context.tenantId must be a non-empty string/,
      ],
      [
        'no context',
        () => app.get(PaymentMasterWebRepository).getPaymentByCode(undefined as unknown as TerminalContext, '01'),
        /context is missing/,
      ],
      [
        'tranlog without a terminal number',
        () =>
          app
            .get(TranlogWebRepository)
            .getTranlogList({ ...jwtContext, terminalNo: undefined }, { businessDate: '20240401', openCounter: 1 }),
        /context.terminalNo/,
      ],
      [
        'tranlog with a bad business date',
        () => app.get(TranlogWebRepository).getTranlogList(jwtContext, { businessDate: '2024-04-01', openCounter: 1 }),
        /businessDate must be YYYYMMDD/,
      ],
      [
        'tranlog with a bad sort',
        () =>
          app.get(TranlogWebRepository).getTranlogList(jwtContext, {
            businessDate: '20240401',
            openCounter: 1,
            sort: [['a,b', 1]],
          }),
        /sort must be/,
      ],
    ])('%s', async (_name, call, message) => {
      const before = peer.server.requests.length;
      const error = await failure(call());
      expect(error).toBeInstanceOf(RepositoryError);
      expect(error.message).toMatch(message);
      expect(peer.server.requests.length).toBe(before);
      expectNoSecrets(error);
    });
  });

  it('logs every failure above (all levels, DEBUG included) without an API key or a JWT', async () => {
    logs.reinstall();
    for (const [, call] of [...calls(apiKeyContext), ...calls(jwtContext)]) await call();
    peer.override = () => ({ status: 503, body: { message: 'busy' } });
    for (const [, call] of calls(apiKeyContext)) await call().catch(() => undefined);
    peer.override = () => ({ status: 200, body: { success: true } });
    for (const [, call] of calls(jwtContext)) await call().catch(() => undefined);
    const text = logs.logger.text();
    expect(text).toMatch(/HTTP|503/);
    expect(text).toMatch(/not as promised/);
    expect(text).toMatch(/debug/);
    expect(text).not.toContain(API_KEY);
    expect(text).not.toContain(JWT.split('.')[2]);
  });
});
