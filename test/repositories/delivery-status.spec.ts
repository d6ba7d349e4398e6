import { TestingModule } from '@nestjs/testing';
import * as jwt from 'jsonwebtoken';
import { DeliveryStatusWebRepository, isNotFoundError, isRepositoryError, KugelCommsModuleOptions } from '../../lib';
import { verifyLikeKugelpos } from '../support/kugelpos-token';
import { captureLogs } from '../support/log-capture';
import { bootKugelComms } from '../support/module-fixture';
import { SECRETS } from '../support/secrets';
import { json, startTestServer, TestServer } from '../support/test-server';

/**
 * The publisher's side of the callback, as the original's cart and terminal check it: a service
 * JWT (verified as they verify it, `is_service_account: true`) or the notification API key; then
 * the envelope.
 */
function publisher(): Promise<TestServer> {
  return startTestServer((req, res, body) => {
    const bearer = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
    let authed = req.headers['x-api-key'] === SECRETS.apiKey;
    if (bearer) {
      try {
        authed = verifyLikeKugelpos(bearer, SECRETS.serviceTokenSecret).is_service_account;
      } catch {
        authed = false;
      }
    }
    if (!authed) return json(res, 401, { success: false, code: 401, message: 'unauthorized', data: null });
    const payload = JSON.parse(body) as { event_id: string; service: string; status: string };
    if (payload.event_id === 'unknown') return json(res, 404, { success: false, code: 404, message: 'no such event' });
    if (payload.event_id === 'broken') return json(res, 500, { success: false, code: 500, message: 'boom' });
    json(res, 200, {
      success: true,
      code: 200,
      message: 'Success to update delivery status',
      data: { event_id: payload.event_id, service: payload.service, status: payload.status, success: true },
      operation: 'notify_delivery_status',
    });
  });
}

describe('DeliveryStatusWebRepository: consumer → publisher callbacks (real peer)', () => {
  let peer: TestServer;
  let app: TestingModule;

  beforeAll(async () => {
    peer = await publisher();
  });
  afterAll(() => peer.close());
  afterEach(() => app?.close());

  const boot = async (auth: KugelCommsModuleOptions['auth']) => {
    app = await bootKugelComms({
      services: { cart: `${peer.url}/api/v1`, terminal: `${peer.url}/api/v1` },
      http: { retries: 0 },
      dapr: { waitForSidecarMs: 0 },
      auth,
    });
    return app.get(DeliveryStatusWebRepository);
  };
  const last = () => peer.requests[peer.requests.length - 1];

  it("POSTs a transaction's callback to the cart's path with {event_id, service, status, message}, terminal_id and a service token", async () => {
    const repo = await boot({ serviceToken: { secret: SECRETS.serviceTokenSecret }, apiKey: SECRETS.apiKey });
    const ack = await repo.notifyTranlogDelivery(
      { tenantId: 'T1', storeCode: 'S1', terminalNo: 3, transactionNo: 57 },
      { eventId: 'ev-1', service: 'report', status: 'received' },
    );
    expect(ack).toEqual({ event_id: 'ev-1', service: 'report', status: 'received', success: true });
    const req = last();
    expect(req.method).toBe('POST');
    expect(req.url).toBe(
      '/api/v1/tenants/T1/stores/S1/terminals/3/transactions/57/delivery-status?terminal_id=T1-S1-3',
    );
    expect(JSON.parse(req.body)).toEqual({ event_id: 'ev-1', service: 'report', status: 'received', message: '' });
    expect(req.headers['x-api-key']).toBeUndefined();
    const token = String(req.headers.authorization).replace(/^Bearer /, '');
    expect(jwt.verify(token, SECRETS.serviceTokenSecret)).toMatchObject({
      sub: 'service:report',
      tenant_id: 'T1',
      service: 'report',
      is_service_account: true,
    });
    expect(req.headers['x-tenant-id']).toBe('T1');
  });

  it("POSTs a cash or open/close log's callback to the terminal's path", async () => {
    const repo = await boot({ serviceToken: { secret: SECRETS.serviceTokenSecret } });
    await repo.notifyTerminalLogDelivery(
      { terminalId: 'T1-S1-3' },
      { eventId: 'ev-2', service: 'journal', status: 'failed', message: 'journal store down' },
    );
    expect(last().url).toBe('/api/v1/terminals/T1-S1-3/delivery-status?terminal_id=T1-S1-3');
    expect(JSON.parse(last().body)).toEqual({
      event_id: 'ev-2',
      service: 'journal',
      status: 'failed',
      message: 'journal store down',
    });
    expect(jwt.decode(String(last().headers.authorization).replace(/^Bearer /, ''))).toMatchObject({ tenant_id: 'T1' });
    await repo.notifyTerminalLogDelivery(
      { tenantId: 'T2', storeCode: 'S/9', terminalNo: 1 },
      { eventId: 'ev-3', service: 'journal', status: 'received' },
    );
    expect(last().url).toBe('/api/v1/terminals/T2-S%2F9-1/delivery-status?terminal_id=T2-S%2F9-1');
  });

  it('uses the API key when no service token is configured, without logging it', async () => {
    const logs = captureLogs();
    try {
      const repo = await boot({ apiKey: SECRETS.apiKey });
      logs.reinstall();
      await repo.notifyTranlogDelivery(
        { tenantId: 'T1', storeCode: 'S1', terminalNo: 3, transactionNo: 58 },
        { eventId: 'ev-4', service: 'stock', status: 'received' },
      );
      expect(last().headers['x-api-key']).toBe(SECRETS.apiKey);
      expect(last().headers.authorization).toBeUndefined();
      expect(logs.logger.text()).not.toContain(SECRETS.apiKey);
    } finally {
      logs.restore();
    }
  });

  it('maps 404 to NotFoundError and other failures to RepositoryError (a wrong credential included)', async () => {
    let repo = await boot({ serviceToken: { secret: SECRETS.serviceTokenSecret } });
    const origin = { tenantId: 'T1', storeCode: 'S1', terminalNo: 3, transactionNo: 59 };
    const notFound = await repo
      .notifyTranlogDelivery(origin, { eventId: 'unknown', service: 'report', status: 'received' })
      .catch((e) => e);
    expect(isNotFoundError(notFound)).toBe(true);
    const failed = await repo
      .notifyTranlogDelivery(origin, { eventId: 'broken', service: 'report', status: 'received' })
      .catch((e) => e);
    expect(isRepositoryError(failed)).toBe(true);
    expect(failed.message).toMatch(/answered HTTP 500/);
    await app.close();
    repo = await boot({ serviceToken: { secret: 'another-secret-that-the-peer-does-not-know' } });
    const refused = await repo
      .notifyTranlogDelivery(origin, { eventId: 'ev-5', service: 'report', status: 'received' })
      .catch((e) => e);
    expect(isRepositoryError(refused) && refused.statusCode).toBe(401);
  });

  it.each([
    [{ eventId: '', service: 'report', status: 'received' }, /notice.eventId must be a non-empty string/],
    [{ eventId: 'e', service: 'report', status: 'delivered' }, /notice.status must be "received" or "failed"/],
    [{ eventId: 'e', service: '', status: 'received' }, /notice.service must be a non-empty string/],
  ])('refuses a bad notice %j before sending anything', async (notice, message) => {
    const repo = await boot({ serviceToken: { secret: SECRETS.serviceTokenSecret } });
    const before = peer.requests.length;
    await expect(
      repo.notifyTranlogDelivery({ tenantId: 'T1', storeCode: 'S1', terminalNo: 3, transactionNo: 1 }, notice as never),
    ).rejects.toThrow(message);
    expect(peer.requests).toHaveLength(before);
  });

  it.each([
    [{ tenantId: 'T1', storeCode: 'S1' }, 'context.terminalNo must be a number or a non-empty string'],
    [{ tenantId: 'T1', storeCode: 'S1', terminalNo: '' }, 'context.terminalNo must be a number or a non-empty string'],
    [{ tenantId: 'T-1', storeCode: 'S1', terminalNo: 3 }, 'context.tenantId must not contain "-"'],
    [{ tenantId: 'T1', storeCode: 'S-1', terminalNo: 3 }, 'context.storeCode must not contain "-"'],
    [{ tenantId: '', storeCode: 'S1', terminalNo: 3 }, 'context.tenantId must be a non-empty string'],
    [{ terminalId: 'T1-S1' }, 'the terminal id must be "{tenant}-{store}-{no}"'],
  ])('notifyTerminalLogDelivery refuses the terminal %j, naming the field, and sends nothing', async (origin, why) => {
    const repo = await boot({ serviceToken: { secret: SECRETS.serviceTokenSecret } });
    const before = peer.requests.length;
    const error = await repo
      .notifyTerminalLogDelivery(origin as never, { eventId: 'e', service: 'journal', status: 'received' })
      .catch((e) => e);
    expect(isRepositoryError(error)).toBe(true);
    expect(error.message).toContain(`delivery status: notifyTerminalLogDelivery: ${why}`);
    expect(error.message).toContain('(nothing was sent)');
    expect(error.message).not.toContain('undefined');
    expect(peer.requests).toHaveLength(before);
  });

  it('notifyTranlogDelivery refuses "-" in the tenant or store code of the terminal id it builds', async () => {
    const repo = await boot({ serviceToken: { secret: SECRETS.serviceTokenSecret } });
    const before = peer.requests.length;
    await expect(
      repo.notifyTranlogDelivery(
        { tenantId: 'T1', storeCode: 'S-1', terminalNo: 3, transactionNo: 1 },
        { eventId: 'e', service: 'report', status: 'received' },
      ),
    ).rejects.toThrow('context.storeCode must not contain "-"');
    expect(peer.requests).toHaveLength(before);
  });

  it('refuses when neither a service token nor an API key is configured, sending nothing', async () => {
    const repo = await boot({});
    const before = peer.requests.length;
    await expect(
      repo.notifyTranlogDelivery(
        { tenantId: 'T1', storeCode: 'S1', terminalNo: 3, transactionNo: 1 },
        { eventId: 'e', service: 'report', status: 'received' },
      ),
    ).rejects.toThrow(
      /configure KugelCommsModule option auth.serviceToken \(a service token\) or auth.apiKey \(nothing was sent\)/,
    );
    expect(peer.requests).toHaveLength(before);
  });
});
