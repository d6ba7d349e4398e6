import { DaprClientHelper } from '../../lib';
import { TranlogOutbox } from '../../sample-app/cart/tranlog.outbox';
import { INVOICE_REGISTRATION_NUMBER } from '../../sample-app/peer/master-data.peer';
import { Tranlog, TRANLOG_PUBSUB, TRANLOG_TOPIC } from '../../sample-app/shared/tranlog';
import { keyPaths, WIRE } from '../contract/kugelpos-wire';
import { Daprd } from '../dapr/daprd';
import { FakeDate, fakeDate } from '../support/fake-date';
import { waitUntil } from '../support/processes';
import { call, SampleApp, SAMPLE_CLOSE_TIMEOUT_MS, SAMPLE_TERMINALS, sell, startSampleApp } from './sample-app.fixture';

/**
 * The breakers' reset timeout. The test fakes `Date` (only `Date`: timers and sockets stay real),
 * so the timeout passes exactly when the test advances the clock: the "sidecar back, breaker still
 * open" state is always there to be checked, however long daprd takes to restart.
 */
const RESET_MS = 60_000;

/** An HTTP GET like the kubelet's probe: status code and the whole JSON body. */
async function probe(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}

// No breaker is critical by default: the cart store and the pub/sub are shared by every pod.
const closed = (failures = 0) => ({ state: 'closed', consecutiveFailures: failures, critical: false });
const BREAKERS_CLOSED = {
  'state:cartstore': closed(),
  'pubsub:pubsub-tranlog-report': closed(),
};

describe('sample app: Kubernetes probes and the cart flow', () => {
  let sample: SampleApp;
  let daprd: Daprd;
  let base: string;

  let clock: FakeDate;

  beforeAll(async () => {
    clock = fakeDate();
    sample = await startSampleApp({ SAMPLE_BREAKER_RESET_MS: String(RESET_MS) });
    ({ daprd, base } = sample);
  }, 120_000);
  afterAll(async () => {
    clock?.restore();
    await sample?.close();
  }, SAMPLE_CLOSE_TIMEOUT_MS);

  const terminal = () => `${base}/api/v1/tenants/T1/stores/S1/terminals/1`;

  it('runs a cart through master-data, the cart store and pub/sub', async () => {
    const created = await call('POST', `${terminal()}/carts`, { userId: 'U7', userName: 'Ken' });
    expect(created.status).toBe(201);
    const id = created.body.cartId as string;
    const withItem = await call('POST', `${terminal()}/carts/${id}/lineItems`, {
      itemCode: '4901234567890',
      quantity: 2,
    });
    expect(withItem.status).toBe(201);
    expect(withItem.body).toMatchObject({
      total: 300,
      lines: [{ lineNo: 1, itemCode: '4901234567890', description: 'Green tea 500ml', unitPrice: 150, quantity: 2 }],
    });
    expect((await call('POST', `${terminal()}/carts/${id}/lineItems`, { itemCode: 'nope' })).status).toBe(404);
    expect((await call('POST', `${terminal()}/carts/${id}/bill`)).status).toBe(422); // not paid for yet
    expect((await call('POST', `${terminal()}/carts/${id}/payments`, { paymentCode: '01', amount: 300 })).status).toBe(
      201,
    );
    const billed = await call('POST', `${terminal()}/carts/${id}/bill`);
    expect(billed).toMatchObject({
      status: 200,
      body: { status: 'billed', transactionNo: 1, eventId: expect.any(String), delivery: { status: 'published' } },
    });
    expect(await call('GET', `${terminal()}/carts/${id}`)).toMatchObject({
      status: 200,
      body: { cartId: id, status: 'billed', transactionNo: 1 },
    });
    expect((await call('POST', `${terminal()}/carts/${id}/bill`)).status).toBe(422); // billed once only
    // The transaction log as the original cart writes it: the terminal's business date, counters
    // and staff, the store's name, the cart's user, a tax line per tax code, the invoice number.
    const [tranlog] = sample.app
      .get(TranlogOutbox)
      .ofTerminal('T1', 'S1', 1)
      .map((r) => r.event.data as Tranlog);
    expect(keyPaths(tranlog)).toEqual(keyPaths(WIRE.tranlogEvent));
    expect(tranlog).toMatchObject({
      event_id: billed.body.eventId,
      store_name: 'Shibuya',
      business_date: SAMPLE_TERMINALS.businessDate,
      open_counter: SAMPLE_TERMINALS.openCounter,
      business_counter: SAMPLE_TERMINALS.businessCounter,
      staff: { id: 'S001', name: 'Hanako Sato' },
      user: { id: 'U7', name: 'Ken' },
      sales: { total_amount_with_tax: 300, tax_amount: 0, total_quantity: 2 },
      taxes: [{ tax_no: 1, tax_code: '02', tax_type: 'Internal', tax_amount: 27, target_amount: 300 }],
      additional_info: { invoice_registration_number: INVOICE_REGISTRATION_NUMBER },
    });
    // The transaction list answers the original's Tran shape, filtered by its query.
    const query = `business_date=${SAMPLE_TERMINALS.businessDate}&open_counter=${SAMPLE_TERMINALS.openCounter}`;
    const page = await call('GET', `${terminal()}/transactions?${query}`);
    expect(page).toMatchObject({ status: 200, body: { metadata: { total: 1, page: 1, limit: 100 } } });
    expect(keyPaths(page.body.data[0])).toEqual(keyPaths(WIRE.transactions.data[0]));
    expect(Object.keys(page.body)).toEqual(Object.keys(WIRE.transactions));
    expect(page.body.data[0]).toMatchObject({
      transactionNo: 1,
      transactionType: 101,
      storeName: 'Shibuya',
      businessDate: SAMPLE_TERMINALS.businessDate,
      totalAmount: 300,
      totalAmountWithTax: 300,
      depositAmount: 300,
      totalQuantity: 2,
      lineItems: [{ itemCode: '4901234567890', itemName: 'Green tea 500ml', quantity: 2, amount: 300 }],
      payments: [{ paymentCode: '01', paymentName: 'Cash', paymentAmount: 300 }],
      taxes: [{ taxCode: '02', taxAmount: 27 }],
      staff: { id: 'S001', name: 'Hanako Sato' },
      status: { isCancelled: false, isVoided: false, isRefunded: false },
    });
    const otherDay = await call('GET', `${terminal()}/transactions?business_date=20250531`);
    expect(otherDay.body).toMatchObject({ data: [], metadata: { total: 0 } });
  });

  it('the report service receives each billed transaction once and calls back; one it cannot report is dead-lettered', async () => {
    const report = `${sample.report.base}/api/v1/tenants/T2/stores/S9`;
    const sales = () => call('GET', `${report}/reports/sales`);
    const billed = await sell(`${base}/api/v1/tenants/T2/stores/S9/terminals/3`, 1);
    expect(billed.status).toBe(200);
    const eventId = billed.body.eventId as string;
    await waitUntil(async () => (await sales()).body.transactions === 1, 15_000, 'the report of the billed cart');
    expect((await sales()).body).toEqual({
      tenantId: 'T2',
      storeCode: 'S9',
      transactions: 1,
      totalAmount: 150,
      eventIds: [eventId],
    });
    const status = `${base}/api/v1/tenants/T2/stores/S9/terminals/3/transactions/1/delivery-status`;
    await waitUntil(async () => (await call('GET', status)).body.data.status === 'delivered', 15_000, 'delivered');
    expect((await call('GET', status)).body.data).toMatchObject({
      event_id: eventId,
      status: 'delivered',
      services: [{ service_name: 'report', status: 'received', received_at: expect.any(String) }],
    });
    // The same transaction log again (as the republisher sends it): handled once.
    const dapr = sample.app.get(DaprClientHelper);
    const page = await call('GET', `${base}/api/v1/tenants/T2/stores/S9/terminals/3/transactions`);
    expect(page.body.data).toHaveLength(1);
    const tranlogs = sample.app
      .get(TranlogOutbox)
      .list()
      .map((r) => r.event.data);
    const again = tranlogs.find((t: any) => t.event_id === eventId);
    expect(await dapr.publishEvent(TRANLOG_PUBSUB, TRANLOG_TOPIC, again, { eventId })).toBe(true);
    // A transaction log without a tenant cannot be reported: dropped to the dead-letter topic.
    expect(await dapr.publishEvent(TRANLOG_PUBSUB, TRANLOG_TOPIC, { event_id: 'no-tenant', total: 1 })).toBe(true);
    await waitUntil(
      async () => (await call('GET', `${report}/reports/dead-letters`)).body.length === 1,
      15_000,
      'the dead-lettered log',
    );
    expect((await call('GET', `${report}/reports/dead-letters`)).body[0].data).toEqual({
      event_id: 'no-tenant',
      total: 1,
    });
    expect((await sales()).body.transactions).toBe(1);
    expect((await call('GET', `${report}/reports/tranlogs`)).body).toMatchObject({ count: 1, repeats: 0 });
  });

  it('readiness is 200 with every breaker closed and the sidecar up', async () => {
    expect(await probe(`${base}/health/ready`)).toEqual({
      status: 200,
      body: {
        status: 'ok',
        info: {
          'circuit-breakers': { status: 'up', breakers: BREAKERS_CLOSED },
          'dapr-sidecar': { status: 'up' },
        },
        error: {},
        details: {
          'circuit-breakers': { status: 'up', breakers: BREAKERS_CLOSED },
          'dapr-sidecar': { status: 'up' },
        },
      },
    });
    expect(await probe(`${base}/health/live`)).toEqual({
      status: 200,
      body: { status: 'ok', info: {}, error: {}, details: {} },
    });
  });

  it('sidecar killed: readiness 503 for the sidecar, the open breaker in the details, liveness still 200; back: 200 at once, the breaker closes after its reset timeout', async () => {
    await daprd.kill();
    // Three billings fail: the cart itself cannot be read, the cart store's breaker opens.
    for (let i = 0; i < 3; i += 1) {
      const r = await call('POST', `${terminal()}/carts/any/bill`);
      expect(r.status).toBe(503); // the cart itself cannot be read: the state store is down too
    }
    const openedAt = Date.now(); // the date stands still: the very instant the breaker opened
    const down = await probe(`${base}/health/ready`);
    const openBreaker = {
      state: 'open',
      consecutiveFailures: 3,
      openedAt: expect.any(String),
      nextAttemptAt: expect.any(String),
      critical: false,
    };
    // The open breaker is reported, but the cart store is shared by every pod: not critical. The
    // pod's own sidecar being unreachable is what takes it out of the Service.
    const breakersUp = { status: 'up', breakers: { ...BREAKERS_CLOSED, 'state:cartstore': openBreaker } };
    const sidecarDown = { status: 'down', message: expect.stringMatching(/^sidecar not healthy: /) };
    expect(down).toEqual({
      status: 503,
      body: {
        status: 'error',
        info: { 'circuit-breakers': breakersUp },
        error: { 'dapr-sidecar': sidecarDown },
        details: { 'circuit-breakers': breakersUp, 'dapr-sidecar': sidecarDown },
      },
    });
    expect(await probe(`${base}/health/live`)).toEqual({
      status: 200,
      body: { status: 'ok', info: {}, error: {}, details: {} },
    });

    await daprd.startProcess();
    const nextAttemptAt = Date.parse(
      (down.body as any).info['circuit-breakers'].breakers['state:cartstore'].nextAttemptAt,
    );
    expect(nextAttemptAt - openedAt).toBe(RESET_MS);
    // The sidecar is back: ready at once, the breaker still open in the details until its reset timeout.
    const back = await probe(`${base}/health/ready`);
    expect(back.status).toBe(200);
    expect((back.body as any).info['circuit-breakers'].breakers['state:cartstore'].state).toBe('open');
    clock.advance(RESET_MS);
    expect(Date.now()).toBe(nextAttemptAt);
    const up = await probe(`${base}/health/ready`);
    expect(up.status).toBe(200);
    expect((up.body as any).info['circuit-breakers'].breakers['state:cartstore'].state).toBe('half_open');
    // The next call is the trial: it closes the breaker.
    expect((await call('POST', `${terminal()}/carts`)).status).toBe(201);
    expect((await probe(`${base}/health/ready`)).body).toMatchObject({
      info: { 'circuit-breakers': { breakers: { 'state:cartstore': closed() } } },
    });
  });
});
