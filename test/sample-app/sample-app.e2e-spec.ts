import { DaprClientHelper } from '../../lib';
import { ReportConsumer } from '../../sample-app/report/report.consumer';
import { Daprd } from '../dapr/daprd';
import { FakeDate, fakeDate } from '../support/fake-date';
import { waitUntil } from '../support/processes';
import { call, SampleApp, startSampleApp } from './sample-app.fixture';

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

const closed = (failures = 0) => ({ state: 'closed', consecutiveFailures: failures, critical: true });

describe('sample app: Kubernetes probes and the cart flow', () => {
  let sample: SampleApp;
  let daprd: Daprd;
  let base: string;

  let clock: FakeDate;

  beforeAll(async () => {
    clock = fakeDate();
    sample = await startSampleApp({ SAMPLE_BREAKER_RESET_MS: String(RESET_MS) });
    ({ daprd, base } = sample);
  });
  afterAll(async () => {
    clock?.restore();
    await sample?.close();
  });

  const terminal = () => `${base}/api/v1/tenants/T1/stores/S1/terminals/1`;

  it('runs a cart through master-data, the state store and pub/sub', async () => {
    const created = await call('POST', `${terminal()}/carts`);
    expect(created.status).toBe(201);
    const id = created.body.cartId as string;
    const withItem = await call('POST', `${terminal()}/carts/${id}/lineItems`, {
      itemCode: '4901234567890',
      quantity: 2,
    });
    expect(withItem.status).toBe(201);
    expect(withItem.body).toMatchObject({
      total: 300,
      lines: [{ itemCode: '4901234567890', description: 'Green tea 500ml', unitPrice: 150, quantity: 2 }],
    });
    expect((await call('POST', `${terminal()}/carts/${id}/lineItems`, { itemCode: 'nope' })).status).toBe(404);
    expect((await call('POST', `${terminal()}/carts/${id}/payments`, { paymentCode: '01', amount: 300 })).status).toBe(
      201,
    );
    const billed = await call('POST', `${terminal()}/carts/${id}/bill`);
    expect(billed).toMatchObject({ status: 200, body: { status: 'billed', delivery: { status: 'published' } } });
    expect(await call('GET', `${terminal()}/carts/${id}`)).toMatchObject({
      status: 200,
      body: { cartId: id, status: 'billed' },
    });
    const page = await call('GET', `${terminal()}/transactions?business_date=20261124&open_counter=1`);
    expect(page).toMatchObject({ status: 200, body: { metadata: { total: 2, page: 1, limit: 100 } } });
    expect(page.body.data).toHaveLength(2);
  });

  it('the report consumer receives each billed transaction once; one it cannot report is dead-lettered', async () => {
    const sales = () => call('GET', `${base}/api/v1/tenants/T2/stores/S9/reports/sales`);
    const created = await call('POST', `${base}/api/v1/tenants/T2/stores/S9/terminals/3/carts`);
    const id = created.body.cartId as string;
    await call('POST', `${base}/api/v1/tenants/T2/stores/S9/terminals/3/carts/${id}/lineItems`, {
      itemCode: '4901234567890',
      quantity: 1,
    });
    expect((await call('POST', `${base}/api/v1/tenants/T2/stores/S9/terminals/3/carts/${id}/bill`)).status).toBe(200);
    await waitUntil(async () => (await sales()).body.transactions === 1, 10_000, 'the report of the billed cart');
    expect((await sales()).body).toEqual({
      tenantId: 'T2',
      storeCode: 'S9',
      transactions: 1,
      totalAmount: 150,
      eventIds: [id],
    });
    // The cart republishes the same transaction (its republisher did not see the first publish succeed).
    const dapr = sample.app.get(DaprClientHelper);
    const again = { eventId: id, tenantId: 'T2', storeCode: 'S9', terminalNo: 3, totalAmount: 150 };
    expect(await dapr.publishEvent('pubsub', 'topic-tranlog', again)).toBe(true);
    // A transaction without a tenant cannot be reported: dropped to the dead-letter topic.
    expect(await dapr.publishEvent('pubsub', 'topic-tranlog', { eventId: 'no-tenant', totalAmount: 1 })).toBe(true);
    const consumer = sample.app.get(ReportConsumer);
    await waitUntil(async () => consumer.deadLetters.length === 1, 10_000, 'the dead-lettered transaction');
    expect(consumer.deadLetters[0].data).toEqual({ eventId: 'no-tenant', totalAmount: 1 });
    expect((await sales()).body.transactions).toBe(1);
  });

  it('readiness is 200 with every breaker closed and the sidecar up', async () => {
    expect(await probe(`${base}/health/ready`)).toEqual({
      status: 200,
      body: {
        status: 'ok',
        info: {
          'circuit-breakers': { status: 'up', breakers: { 'state:statestore': closed(), 'pubsub:pubsub': closed() } },
          'dapr-sidecar': { status: 'up' },
        },
        error: {},
        details: {
          'circuit-breakers': { status: 'up', breakers: { 'state:statestore': closed(), 'pubsub:pubsub': closed() } },
          'dapr-sidecar': { status: 'up' },
        },
      },
    });
    expect(await probe(`${base}/health/live`)).toEqual({
      status: 200,
      body: { status: 'ok', info: {}, error: {}, details: {} },
    });
  });

  it('sidecar killed: readiness 503 naming the open breaker, liveness still 200; back: 200 after the reset timeout', async () => {
    await daprd.kill();
    // Three billings fail to publish (each recorded on the cart): the pub/sub breaker opens.
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
      critical: true,
    };
    const breakersDown = {
      status: 'down',
      message: 'open circuit: state:statestore',
      breakers: { 'state:statestore': openBreaker, 'pubsub:pubsub': closed() },
    };
    const sidecarDown = { status: 'down', message: expect.stringMatching(/^sidecar not healthy: /) };
    expect(down).toEqual({
      status: 503,
      body: {
        status: 'error',
        info: {},
        error: { 'circuit-breakers': breakersDown, 'dapr-sidecar': sidecarDown },
        details: { 'circuit-breakers': breakersDown, 'dapr-sidecar': sidecarDown },
      },
    });
    expect(await probe(`${base}/health/live`)).toEqual({
      status: 200,
      body: { status: 'ok', info: {}, error: {}, details: {} },
    });

    await daprd.startProcess();
    const nextAttemptAt = Date.parse(
      (down.body as any).error['circuit-breakers'].breakers['state:statestore'].nextAttemptAt,
    );
    expect(nextAttemptAt - openedAt).toBe(RESET_MS);
    // The sidecar is back but the breaker waits for its reset timeout: not ready, and only the
    // breaker says why.
    const waiting = await probe(`${base}/health/ready`);
    expect(waiting.status).toBe(503);
    expect((waiting.body as any).error).toEqual({
      'circuit-breakers': expect.objectContaining({ message: 'open circuit: state:statestore' }),
    });
    clock.advance(RESET_MS - 1);
    expect((await probe(`${base}/health/ready`)).status).toBe(503);
    clock.advance(1);
    expect(Date.now()).toBe(nextAttemptAt);
    const up = await probe(`${base}/health/ready`);
    expect(up.status).toBe(200);
    expect((up.body as any).info['circuit-breakers'].breakers['state:statestore'].state).toBe('half_open');
    // The next call is the trial: it closes the breaker.
    expect((await call('POST', `${terminal()}/carts`)).status).toBe(201);
    expect((await probe(`${base}/health/ready`)).body).toMatchObject({
      info: { 'circuit-breakers': { breakers: { 'state:statestore': closed() } } },
    });
  });
});
