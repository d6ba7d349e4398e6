import { ConfigModule } from '@nestjs/config';
import { Test, TestingModule } from '@nestjs/testing';
// In an application: `from 'kugel-comms'`, `'kugel-comms/kugelpos'` and `'kugel-comms/testing'`.
import { KugelCommsModule, TerminalContext } from '../../lib';
import { ItemMasterDocument, TerminalInfoDocument } from '../../lib/kugelpos';
import { KugelCommsTesting, KugelCommsTestingModule, StubRequest } from '../../lib/testing';
import { Tranlog, TRANLOG_PUBSUB, TRANLOG_TOPIC } from '../shared/tranlog';
import { CartService } from './cart.service';
import { CARTSTORE, CartStore } from './cart.store';
import { TranlogOutbox } from './tranlog.outbox';

/** The Kugelpos envelope the services answer in. */
const envelope = (data: unknown) => ({
  success: true,
  code: 200,
  message: 'ok',
  userError: null,
  data,
  metadata: null,
});

/** Master-data's item, with every field it sends (two tax codes: 10 % and 8 %, both in the price). */
const item = (code: string): ItemMasterDocument => ({
  itemCode: code,
  description: code === '4901' ? 'Coffee' : 'Sandwich',
  unitPrice: code === '4901' ? 150 : 280,
  unitCost: 80,
  storePrice: null,
  itemDetails: [],
  imageUrls: [],
  categoryCode: 'FOOD',
  taxCode: code === '4901' ? '02' : '12',
  isDiscountRestricted: false,
  isDeleted: false,
  entryDatetime: '2026-11-01 09:00:00',
  lastUpdateDatetime: null,
});

/** The terminal service's terminal: opened for 2025-06-01, second opening, a staff member signed in. */
const terminal = (id: string): TerminalInfoDocument => ({
  terminalId: id,
  tenantId: 'T1',
  storeCode: 'S1',
  terminalNo: 1,
  description: 'Register 1',
  functionMode: 'Sales',
  status: 'Opened',
  businessDate: '20250601',
  openCounter: 2,
  businessCounter: 17,
  initialAmount: 50000,
  physicalAmount: null,
  staff: { staffId: 'S001', staffName: 'Hanako Sato', staffPin: null },
  apiKey: null,
  entryDatetime: '2026-11-01 09:00:00',
  lastUpdateDatetime: null,
});

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
          repositories: {
            enabled: ['itemMaster', 'paymentMaster', 'settingsMaster', 'terminalInfo', 'storeInfo', 'pubsub'],
          },
        }),
        KugelCommsTestingModule.forRoot({
          dapr: { stores: [CARTSTORE], pubsubs: [TRANLOG_PUBSUB], appId: 'cart' },
          stubs: {
            'master-data': [
              {
                method: 'GET',
                path: '/tenants/:tenant/stores/:store/items/:code/details',
                reply: ({ params }: StubRequest) => ({ body: envelope(item(params.code)) }),
              },
              {
                method: 'GET',
                path: '/tenants/:tenant/payments/:code',
                reply: ({ params }: StubRequest) => ({
                  body: envelope({
                    paymentCode: params.code,
                    description: 'Cash',
                    limitAmount: 0,
                    canRefund: true,
                    canDepositOver: true,
                    canChange: true,
                    isActive: true,
                    entryDatetime: '2026-11-01 09:00:00',
                    lastUpdateDatetime: null,
                  }),
                }),
              },
              {
                method: 'GET',
                path: '/tenants/:tenant/settings/INVOICE_REGISTRATION_NUMBER/value',
                reply: { body: envelope({ value: 'T1234567890123' }) },
              },
            ],
            terminal: [
              {
                method: 'GET',
                path: '/terminals/:id',
                reply: ({ params }: StubRequest) => ({ body: envelope(terminal(params.id)) }),
              },
              {
                method: 'GET',
                path: '/tenants/:tenant/stores/:store',
                reply: ({ params }: StubRequest) => ({
                  body: envelope({
                    storeCode: params.store,
                    storeName: 'Shibuya',
                    status: 'Opened',
                    businessDate: '20250601',
                    tags: [],
                    entryDatetime: '2026-11-01 09:00:00',
                    lastUpdateDatetime: null,
                  }),
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
    const cart = await carts.create(ctx, { id: 'U7', name: 'Ken' });
    await carts.addItem(ctx, cart.cartId, '4901', 2);
    await carts.addItem(ctx, cart.cartId, '4902', 1);
    await carts.addPayment(ctx, cart.cartId, '01', 1000);
    return carts.bill(ctx, cart.cartId);
  }

  it('builds the transaction log from the terminal, the store and master-data, and publishes it under its event id', async () => {
    const cart = await billedCart();
    expect(cart).toMatchObject({ status: 'billed', total: 580, delivery: { status: 'published' } });
    const [message] = kugel.dapr.messages(TRANLOG_PUBSUB, TRANLOG_TOPIC);
    const tranlog = message.data as Tranlog;
    expect(tranlog).toMatchObject({
      event_id: cart.eventId,
      tenant_id: 'T1',
      store_code: 'S1',
      terminal_no: 1,
      transaction_no: cart.transactionNo,
      transaction_type: 101,
      // the store's name, the terminal's business date, counters and staff, the cart's user
      store_name: 'Shibuya',
      business_date: '20250601',
      open_counter: 2,
      business_counter: 17,
      staff: { id: 'S001', name: 'Hanako Sato' },
      user: { id: 'U7', name: 'Ken' },
      // both tax codes are in the price: nothing added (tax_amount counts added tax only)
      sales: { total_amount: 580, total_amount_with_tax: 580, tax_amount: 0, total_quantity: 3, change_amount: 420 },
      line_items: [
        {
          line_no: 1,
          item_code: '4901',
          description: 'Coffee',
          unit_price: 150,
          quantity: 2,
          amount: 300,
          tax_code: '02',
        },
        {
          line_no: 2,
          item_code: '4902',
          description: 'Sandwich',
          unit_price: 280,
          quantity: 1,
          amount: 280,
          tax_code: '12',
        },
      ],
      payments: [{ payment_no: 1, payment_code: '01', deposit_amount: 1000, amount: 580, description: 'Cash' }],
      additional_info: { invoice_registration_number: 'T1234567890123' },
      shard_key: null,
      origin: null,
    });
    // One tax line per tax code: 300 × 10/110 → 27, 280 × 8/108 → 20 (rounded down).
    expect(tranlog.taxes).toEqual([
      {
        tax_no: 1,
        tax_code: '02',
        tax_type: 'Internal',
        tax_name: '内税10%',
        tax_amount: 27,
        target_amount: 300,
        target_quantity: 2,
      },
      {
        tax_no: 2,
        tax_code: '12',
        tax_type: 'Internal',
        tax_name: '内税 8%',
        tax_amount: 20,
        target_amount: 280,
        target_quantity: 1,
      },
    ]);
    // The CloudEvent id is the cart's event id: a republish is the same event to every consumer.
    expect(message.cloudEvent?.id).toBe(cart.eventId);
    // The repositories sent the terminal's credential, as they do to the real services.
    const calls = [...kugel.calls('terminal'), ...kugel.calls('master-data')];
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      'GET /terminals/T1-S1-1',
      'GET /tenants/T1/stores/S1',
      'GET /terminals/T1-S1-1',
      'GET /tenants/T1/stores/S1/items/4901/details',
      'GET /tenants/T1/stores/S1/items/4902/details',
      'GET /tenants/T1/payments/01',
      'GET /tenants/T1/settings/INVOICE_REGISTRATION_NUMBER/value',
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

  it('opens no cart on a terminal nobody is signed in at', async () => {
    kugel.stub('terminal', {
      method: 'GET',
      path: '/terminals/:id',
      reply: ({ params }: StubRequest) => ({ body: envelope({ ...terminal(params.id), staff: null }) }),
    });
    await expect(carts.create(ctx)).rejects.toThrow(/nobody signed in/);
    expect(kugel.dapr.state(CARTSTORE)).toEqual({});
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
