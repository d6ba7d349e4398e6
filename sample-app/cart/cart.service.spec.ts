import { ConfigModule } from '@nestjs/config';
import { Test, TestingModule } from '@nestjs/testing';
// In an application: `from 'kugel-comms'` and `from 'kugel-comms/testing'`.
import { KugelCommsModule, TerminalContext } from '../../lib';
import { KugelCommsTesting, KugelCommsTestingModule, StubRequest } from '../../lib/testing';
import { Tranlog, TRANLOG_PUBSUB, TRANLOG_TOPIC } from '../shared/tranlog';
import { CartService } from './cart.service';
import { CARTSTORE, CartStore } from './cart.store';
import { TranlogOutbox } from './tranlog.outbox';

/** The Kugelpos envelope master-data answers in. */
const envelope = (data: unknown) => ({ success: true, code: 200, message: 'ok', data });

/**
 * A unit test of the cart's bill flow as the sample's own team would write it: master-data
 * stubbed by route, Dapr in memory (kugel-comms/testing), no process or socket besides Jest.
 */
describe('CartService: billing a cart (unit test with kugel-comms/testing)', () => {
  let moduleRef: TestingModule;
  let carts: CartService;
  let outbox: TranlogOutbox;
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
        ConfigModule.forRoot({ ignoreEnvFile: true }),
        KugelCommsModule.forRoot({
          isGlobal: true,
          repositories: { enabled: ['itemMaster', 'paymentMaster', 'pubsub'] },
        }),
        KugelCommsTestingModule.forRoot({
          dapr: { stores: [CARTSTORE], pubsubs: [TRANLOG_PUBSUB], appId: 'cart' },
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
      providers: [CartService, CartStore, TranlogOutbox],
    }).compile();
    carts = moduleRef.get(CartService);
    outbox = moduleRef.get(TranlogOutbox);
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

  it('looks items and payments up in master-data and publishes the transaction log under its event id', async () => {
    const cart = await billedCart();
    expect(cart).toMatchObject({ status: 'billed', total: 300, delivery: { status: 'published' } });
    const [message] = kugel.dapr.messages(TRANLOG_PUBSUB, TRANLOG_TOPIC);
    const tranlog = message.data as Tranlog;
    expect(tranlog).toMatchObject({
      event_id: cart.eventId,
      tenant_id: 'T1',
      store_code: 'S1',
      terminal_no: 1,
      transaction_no: cart.transactionNo,
      transaction_type: 101,
      sales: { total_amount_with_tax: 300, total_quantity: 2, is_cancelled: false },
      line_items: [{ line_no: 1, item_code: '4901', description: 'Coffee', unit_price: 150, quantity: 2, amount: 300 }],
      payments: [{ payment_no: 1, payment_code: '01', deposit_amount: 300, amount: 300, description: 'Cash' }],
      shard_key: null,
      origin: null,
    });
    // The CloudEvent id is the cart's event id: a republish is the same event to every consumer.
    expect(message.cloudEvent?.id).toBe(cart.eventId);
    // The repositories sent the terminal's credential, as they do to the real master-data.
    const calls = kugel.calls('master-data');
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      'GET /tenants/T1/stores/S1/items/4901/details',
      'GET /tenants/T1/payments/01',
    ]);
    expect(calls.every((c) => c.headers['x-api-key'] === 'unit-test-key' && c.query.terminal_id === 'T1-S1-1')).toBe(
      true,
    );
    // The billed cart is in the cart store; the delivery record waits for the report.
    expect(kugel.dapr.state(CARTSTORE)[cart.cartId]).toMatchObject({ status: 'billed', transactionNo: 1 });
    expect(outbox.get(cart.eventId!)).toMatchObject({
      status: 'published',
      consumers: [{ service: 'report', status: 'pending' }],
    });
  });

  it('records a failed publish (the pub/sub breaker open) instead of losing it: the republisher finds it', async () => {
    kugel.breakers.open(`pubsub:${TRANLOG_PUBSUB}`);
    const cart = await billedCart();
    expect(cart.delivery).toMatchObject({
      status: 'failed',
      error: expect.stringContaining(`circuit "pubsub:${TRANLOG_PUBSUB}" is open`),
    });
    expect(kugel.dapr.published(TRANLOG_PUBSUB, TRANLOG_TOPIC)).toEqual([]);
    expect(outbox.get(cart.eventId!)).toMatchObject({ status: 'failed', publish: 'failed', attempts: 1 });
    const undelivered = await outbox.findUndelivered({ limit: 10, olderThan: new Date(Date.now() + 1) });
    expect(undelivered.map((e) => e.eventId)).toContain(cart.eventId);
  });
});
