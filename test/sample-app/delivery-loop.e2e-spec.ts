import * as jwt from 'jsonwebtoken';
import { TranlogOutbox } from '../../sample-app/cart/tranlog.outbox';
import { waitForSubscriptions } from '../dapr/subscription-stack';
import { waitUntil } from '../support/processes';
import { SECRETS } from '../support/secrets';
import { call, SampleApp, sell, startSampleApp, SAMPLE_CLOSE_TIMEOUT_MS } from './sample-app.fixture';

/**
 * The Kugelpos event loop, as docs/sample-app.md walks through it: the cart bills and publishes
 * the transaction log, the report service stores it and calls back `received`, the cart's delivery
 * status becomes `delivered`; with the report's sidecar stopped it stays `published` (and the
 * cart republishes it), and once the sidecar is back it becomes `delivered`, with no duplicate in
 * the report.
 */
describe('sample: the delivery loop (cart → report → delivery status, republisher)', () => {
  let sample: SampleApp;
  let terminal: string;
  let report: string;

  beforeAll(async () => {
    sample = await startSampleApp({ SAMPLE_REPUBLISH_INTERVAL_MS: '500', SAMPLE_REPUBLISH_MIN_AGE_MS: '1500' });
    terminal = `${sample.base}/api/v1/tenants/T1/stores/S1/terminals/1`;
    report = `${sample.report.base}/api/v1/tenants/T1/stores/S1`;
  }, 120_000);
  afterAll(() => sample?.close(), SAMPLE_CLOSE_TIMEOUT_MS);

  const status = async (transactionNo: number) =>
    (await call('GET', `${terminal}/transactions/${transactionNo}/delivery-status`)).body.data;

  it('sell, bill: the delivery status becomes delivered; report sidecar stopped: it stays published while the cart republishes; back: delivered, no duplicate', async () => {
    const first = await sell(terminal);
    expect(first).toMatchObject({ status: 200, body: { transactionNo: 1, delivery: { status: 'published' } } });
    await waitUntil(async () => (await status(1)).status === 'delivered', 15_000, 'transaction 1 delivered');

    await sample.report.daprd.stop();
    const second = await sell(terminal);
    expect(second).toMatchObject({ status: 200, body: { transactionNo: 2, delivery: { status: 'published' } } });
    const outbox = sample.app.get(TranlogOutbox);
    // Older than the republisher's minimum age (1.5 s), still not acknowledged: republished.
    await waitUntil(async () => outbox.get(second.body.eventId)!.attempts >= 2, 15_000, 'a republish');
    expect(await status(2)).toMatchObject({
      status: 'published',
      services: [{ service_name: 'report', status: 'pending' }],
    });

    await sample.report.daprd.startProcess();
    await waitForSubscriptions(sample.report.daprd, 2);
    await waitUntil(async () => (await status(2)).status === 'delivered', 30_000, 'transaction 2 delivered');
    const received = (await call('GET', `${report}/reports/tranlogs`)).body;
    expect(received).toMatchObject({ count: 2, repeats: 0 });
    expect(received.transactions.map((t: { transaction_no: number }) => t.transaction_no)).toEqual([1, 2]);
    expect(received.transactions.map((t: { event_id: string }) => t.event_id)).toEqual([
      first.body.eventId,
      second.body.eventId,
    ]);
    // What the cart lists and what the report has agree (TranlogWebRepository, report → cart).
    expect((await call('GET', `${report}/terminals/1/reports/reconcile`)).body).toEqual({
      published: 2,
      received: 2,
      missing: [],
    });
  }, 120_000);

  describe('the delivery-status callback', () => {
    let eventId: string;
    let path: string;

    beforeAll(async () => {
      const billed = await sell(`${sample.base}/api/v1/tenants/T1/stores/S1/terminals/7`);
      eventId = billed.body.eventId;
      path = `${sample.base}/api/v1/tenants/T1/stores/S1/terminals/7/transactions/${billed.body.transactionNo}/delivery-status`;
    });
    const token = (claims: object, secret: string = SECRETS.serviceTokenSecret) =>
      `Bearer ${jwt.sign(claims, secret, { algorithm: 'HS256', expiresIn: 60 })}`;
    const service = { sub: 'service:report', tenant_id: 'T1', service: 'report', is_service_account: true };
    const body = (over: object = {}) => ({
      event_id: eventId,
      service: 'report',
      status: 'received',
      message: '',
      ...over,
    });

    it('wants a service token or the notification API key (401 with WWW-Authenticate otherwise)', async () => {
      const none = await call('POST', path, body());
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe('Bearer, API-Key');
      expect((await call('POST', path, body(), { Authorization: token(service, 'not-the-secret') })).status).toBe(401);
      expect(
        (await call('POST', path, body(), { Authorization: token({ ...service, is_service_account: false }) })).status,
      ).toBe(401);
      expect((await call('POST', path, body(), { 'X-API-KEY': SECRETS.apiKey })).status).toBe(401);
      const byKey = await call('POST', path, body({ status: 'failed', message: 'x' }), {
        'X-API-KEY': SECRETS.otherApiKey,
      });
      expect(byKey).toMatchObject({
        status: 200,
        body: { success: true, data: { event_id: eventId, service: 'report', status: 'failed', success: true } },
      });
      const byToken = await call('POST', path, body(), { Authorization: token(service) });
      expect(byToken.status).toBe(200);
      expect((await call('GET', path)).body.data).toMatchObject({ status: 'delivered' });
    });

    it("refuses an unknown event, another transaction's event, an unknown status or service", async () => {
      const auth = { Authorization: token(service) };
      expect((await call('POST', path, body({ event_id: 'nope' }), auth)).status).toBe(404);
      expect((await call('POST', path.replace(/transactions\/\d+/, 'transactions/999'), body(), auth)).status).toBe(
        404,
      );
      expect((await call('POST', path, body({ status: 'delivered' }), auth)).status).toBe(422);
      expect((await call('POST', path, body({ service: 'billing' }), auth)).status).toBe(422);
      expect((await call('POST', path, { service: 'report' }, auth)).status).toBe(400);
    });
  });
});
