import { call, SampleApp, startSampleApp, SAMPLE_CLOSE_TIMEOUT_MS } from './sample-app.fixture';

const REQUESTS = 400;

/**
 * 400 concurrent "add one item" requests to one cart. The sample once answered all of them 2xx and
 * kept 55 items (read-modify-write of the cart state with no ETag). Now every change is an
 * ETag-checked write, retried on a conflict a bounded number of times, then refused with 409: the
 * cart holds exactly one item per 2xx answer, and nothing of a 409.
 */
describe('sample cart: concurrent changes to one cart (optimistic concurrency)', () => {
  let sample: SampleApp;

  beforeAll(async () => {
    sample = await startSampleApp();
  }, 120_000);
  afterAll(() => sample?.close(), SAMPLE_CLOSE_TIMEOUT_MS);

  it(`${REQUESTS} concurrent "add one item": every 2xx is in the cart, no 409 is, nothing else is answered`, async () => {
    const terminal = `${sample.base}/api/v1/tenants/T1/stores/S1/terminals/1`;
    const cartId = (await call('POST', `${terminal}/carts`)).body.cartId as string;
    const answers = await Promise.all(
      Array.from({ length: REQUESTS }, () =>
        call('POST', `${terminal}/carts/${cartId}/lineItems`, { itemCode: '4901234567890', quantity: 1 }),
      ),
    );
    const byStatus = new Map<number, number>();
    for (const a of answers) byStatus.set(a.status, (byStatus.get(a.status) ?? 0) + 1);
    const created = byStatus.get(201) ?? 0;
    const conflicts = byStatus.get(409) ?? 0;
    expect({ created, conflicts, total: created + conflicts }).toEqual({ created, conflicts, total: REQUESTS });
    expect(created).toBeGreaterThan(0);
    for (const a of answers.filter((x) => x.status === 409)) {
      expect(a.body.message).toMatch(/was changed by other requests \d+ times .*nothing of it was applied, try again/);
    }

    const cart = (await call('GET', `${terminal}/carts/${cartId}`)).body;
    const items = cart.lines.reduce((sum: number, l: { quantity: number }) => sum + l.quantity, 0);
    expect(items).toBe(created);
    expect(cart.total).toBe(150 * created);
    expect(new Set(cart.lines.map((l: { requestId: string }) => l.requestId)).size).toBe(cart.lines.length);
    expect(cart.lines.map((l: { lineNo: number }) => l.lineNo)).toEqual(
      cart.lines.map((_: unknown, i: number) => i + 1),
    );
    process.stdout.write(
      `cart concurrency: ${REQUESTS} requests, ${created} added (2xx), ${conflicts} refused (409), ${items} items in the cart\n`,
    );
  }, 120_000);
});
