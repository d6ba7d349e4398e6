import { Test, TestingModule } from '@nestjs/testing';
// In an application: `from 'kugel-comms'` and `from 'kugel-comms/testing'`.
import { KugelCommsModule, TerminalContext } from '../../lib';
import { KugelCommsTesting, KugelCommsTestingModule, StubRequest } from '../../lib/testing';
import { CartService, TRANLOG_PUBSUB, TRANLOG_TOPIC } from './cart.service';

/** The Kugelpos envelope master-data answers in. */
const envelope = (data: unknown) => ({ success: true, code: 200, message: 'ok', data });

/**
 * A unit test of the cart's bill flow as the sample's own team would write it: master-data
 * stubbed by route, Dapr in memory (kugel-comms/testing), no process or socket besides Jest.
 */
describe('CartService: billing a cart (unit test with kugel-comms/testing)', () => {
  let moduleRef: TestingModule;
  let carts: CartService;
  let kugel: KugelCommsTesting;
  const ctx: TerminalContext = {
    tenantId: 'T1',
    storeCode: 'S1',
    terminalNo: 1,
    terminalId: 'T1-S1-1',
    apiKey: 'unit-test-key',
  };

  beforeAll(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [
        KugelCommsModule.forRoot({
          isGlobal: true,
          repositories: { enabled: ['itemMaster', 'paymentMaster', 'tranlog', 'pubsub', 'stateStore'] },
        }),
        KugelCommsTestingModule.forRoot({
          stubs: {
            'master-data': [
              {
                method: 'GET',
                path: '/tenants/:tenant/stores/:store/items/:code/details',
                reply: ({ params }: StubRequest) => ({
                  body: envelope({ ...params, itemCode: params.code, description: 'Coffee', unitPrice: 150 }),
                }),
              },
              {
                method: 'GET',
                path: '/tenants/:tenant/payments/:code',
                reply: ({ params }: StubRequest) => ({
                  body: envelope({ tenantId: params.tenant, paymentCode: params.code, description: 'Cash' }),
                }),
              },
            ],
          },
        }),
      ],
      providers: [CartService],
    }).compile();
    carts = moduleRef.get(CartService);
    kugel = moduleRef.get(KugelCommsTesting);
  });
  afterAll(() => moduleRef?.close());
  beforeEach(() => kugel.reset());

  async function billedCart() {
    const cart = await carts.create(ctx);
    await carts.addItem(ctx, cart.cartId, '4901', 2);
    await carts.addPayment(ctx, cart.cartId, '01', 300);
    return carts.bill(ctx, cart.cartId);
  }

  it('looks items and payments up in master-data and publishes the transaction', async () => {
    const cart = await billedCart();
    expect(cart).toMatchObject({ status: 'billed', total: 300, delivery: { status: 'published' } });
    expect(kugel.dapr.published(TRANLOG_PUBSUB, TRANLOG_TOPIC)).toEqual([
      {
        eventId: cart.cartId,
        tenantId: 'T1',
        storeCode: 'S1',
        terminalNo: 1,
        totalAmount: 300,
        lineItems: [{ itemCode: '4901', description: 'Coffee', unitPrice: 150, quantity: 2 }],
        payments: [{ paymentCode: '01', description: 'Cash', amount: 300 }],
      },
    ]);
    // The repositories sent the terminal's credential, as they do to the real master-data.
    const calls = kugel.calls('master-data');
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      'GET /tenants/T1/stores/S1/items/4901/details',
      'GET /tenants/T1/payments/01',
    ]);
    expect(calls.every((c) => c.headers['x-api-key'] === 'unit-test-key' && c.query.terminal_id === 'T1-S1-1')).toBe(
      true,
    );
    // The billed cart is in the state store, with its delivery status.
    expect(kugel.dapr.state()[`cart-${cart.cartId}`]).toMatchObject({
      status: 'billed',
      delivery: { status: 'published' },
    });
  });

  it('records a failed publish on the cart instead of losing it (the pub/sub breaker open)', async () => {
    kugel.breakers.open(`pubsub:${TRANLOG_PUBSUB}`);
    const cart = await billedCart();
    expect(cart.delivery).toMatchObject({
      status: 'failed',
      error: expect.stringContaining('circuit "pubsub:pubsub" is open'),
    });
    expect(kugel.dapr.published(TRANLOG_PUBSUB, TRANLOG_TOPIC)).toEqual([]);
    expect(kugel.dapr.state()[`cart-${cart.cartId}`]).toMatchObject({ delivery: { status: 'failed' } });
  });
});
