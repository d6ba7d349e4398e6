import { TestingModule } from '@nestjs/testing';
import {
  DeliveryStatusWebRepository,
  isNotFoundError,
  ItemMasterWebRepository,
  PaymentMasterWebRepository,
  SettingsMasterWebRepository,
  StaffMasterWebRepository,
  StoreInfoWebRepository,
  TerminalInfoWebRepository,
  TranlogWebRepository,
} from '../../lib';
import {
  DeliveryAck,
  ItemMasterDocument,
  PaginatedResult,
  PaymentMasterDocument,
  StaffMasterDocument,
  StoreInfoDocument,
  TerminalInfoDocument,
  TransactionDocument,
} from '../../lib/kugelpos';
import { WIRE } from '../contract/kugelpos-wire';
import { bootKugelComms } from '../support/module-fixture';
import { SECRETS } from '../support/secrets';
import { KugelPeer, startKugelPeer, wireFixtureAnswer } from './fixtures/kugel-peer';
import { apiKeyContext } from './fixtures/sample-data';

/**
 * Every repository call against the original's answers: the peer serves the wire fixtures' bytes
 * (`test/contract/kugelpos`, the services' own serialisation), and each test reads the fields a
 * user of the document type reads. A type naming a field the services do not send reads
 * `undefined` here and fails.
 */
describe("repositories read the original services' answers (wire fixtures)", () => {
  let peer: KugelPeer;
  let app: TestingModule;
  const ctx = apiKeyContext; // tenant T1, store S1, terminal 3

  beforeAll(async () => {
    peer = await startKugelPeer();
    peer.override = wireFixtureAnswer;
    app = await bootKugelComms({
      services: peer.services,
      http: { retries: 0 },
      dapr: { waitForSidecarMs: 0 },
      auth: { serviceToken: { secret: SECRETS.serviceTokenSecret } },
      repositories: { cacheTtlMs: 0 },
    });
  });
  afterAll(async () => {
    await app.close();
    await peer.close();
  });

  it('ItemMasterWebRepository: the item with its store price and master-data dates', async () => {
    const item: ItemMasterDocument = await app.get(ItemMasterWebRepository).getItemByCode(ctx, '4901234567890');
    expect(item).toEqual(WIRE.itemDetails.data);
    expect(item.storePrice).toBe(140);
    expect(item.unitPrice).toBe(150);
    expect(item.taxCode).toBe('02');
    expect(item.entryDatetime).toBe('2025-04-01 09:00:00');
    expect(item.lastUpdateDatetime).toBe('2025-05-20 18:30:12');
    expect(item.isDeleted).toBe(false);
  });

  it("ItemMasterWebRepository: master-data's 404 (its error envelope) is a NotFoundError", async () => {
    const failed = await app
      .get(ItemMasterWebRepository)
      .getItemByCode(ctx, '4909999999999')
      .catch((e: unknown) => e);
    expect(isNotFoundError(failed)).toBe(true);
  });

  it('PaymentMasterWebRepository: the payment method and its flags', async () => {
    const payment: PaymentMasterDocument = await app.get(PaymentMasterWebRepository).getPaymentByCode(ctx, '01');
    expect(payment).toEqual(WIRE.payment.data);
    expect(payment.description).toBe('Cash');
    expect(payment.canDepositOver).toBe(true);
    expect(payment.limitAmount).toBe(0);
    expect(payment.entryDatetime).toBe('2025-04-01 09:00:00');
    expect(payment.lastUpdateDatetime).toBeNull();
  });

  it('SettingsMasterWebRepository: the settings with their values per store and terminal, and one value', async () => {
    const settings = app.get(SettingsMasterWebRepository);
    const all = await settings.getAllSettings(ctx);
    expect(all).toEqual(WIRE.settings.data);
    const invoice = all.find((s) => s.name === 'INVOICE_REGISTRATION_NUMBER')!;
    expect(invoice.defaultValue).toBe('T0000000000000');
    expect(invoice.values).toEqual([
      { storeCode: 'S1', terminalNo: null, value: 'T1234567890123' },
      { storeCode: 'S1', terminalNo: 3, value: 'T9876543210987' },
    ]);
    expect(invoice.entryDatetime).toBe('2025-04-01 09:00:00');
    await expect(settings.getSettingValueByName(ctx, 'INVOICE_REGISTRATION_NUMBER')).resolves.toEqual({
      name: 'INVOICE_REGISTRATION_NUMBER',
      value: 'T9876543210987',
    });
  });

  it('StaffMasterWebRepository: the staff member with roles', async () => {
    const staff: StaffMasterDocument = await app.get(StaffMasterWebRepository).getStaffById(ctx, 'S001');
    expect(staff).toEqual(WIRE.staff.data);
    expect(staff.name).toBe('Hanako Sato');
    expect(staff.roles).toEqual(['cashier', 'supervisor']);
    expect(staff.entryDatetime).toBe('2025-04-01 09:00:00');
  });

  it("StoreInfoWebRepository: the store's name, status, business date and tags", async () => {
    const store: StoreInfoDocument = await app.get(StoreInfoWebRepository).getStoreInfo(ctx);
    expect(store).toEqual(WIRE.store.data);
    expect(store.storeName).toBe('Shibuya');
    expect(store.status).toBe('Opened');
    expect(store.businessDate).toBe('20250601');
    expect(store.tags).toEqual(['tokyo', 'flagship']);
  });

  it('TerminalInfoWebRepository: one terminal, with the signed-in staff as staffId/staffName', async () => {
    const terminal: TerminalInfoDocument = await app.get(TerminalInfoWebRepository).getTerminalInfo(ctx, 3);
    expect(terminal).toEqual(WIRE.terminal.data);
    expect(terminal.staff?.staffId).toBe('S001');
    expect(terminal.staff?.staffName).toBe('Hanako Sato');
    expect(terminal.businessDate).toBe('20250601');
    expect(terminal.openCounter).toBe(2);
    expect(terminal.businessCounter).toBe(17);
    expect(terminal.initialAmount).toBe(50000);
    expect(terminal.physicalAmount).toBeNull();
  });

  it("TerminalInfoWebRepository: the store's terminals, one with nobody signed in", async () => {
    const list = await app.get(TerminalInfoWebRepository).getTerminalInfoList(ctx);
    expect(list).toEqual(WIRE.terminals.data);
    expect(list.map((t) => [t.terminalNo, t.status, t.staff?.staffName ?? null])).toEqual([
      [1, 'Closed', null],
      [3, 'Opened', 'Hanako Sato'],
    ]);
    expect(list[0].physicalAmount).toBe(61820);
  });

  it("TranlogWebRepository: the cart's Tran documents, totals at the top level and flags under status", async () => {
    const page: PaginatedResult<TransactionDocument> = await app
      .get(TranlogWebRepository)
      .getTranlogList(ctx, { businessDate: '20250601', openCounter: 2, limit: 2 });
    expect(page.data).toEqual(WIRE.transactions.data);
    expect(page.metadata).toEqual({ total: 3, page: 1, limit: 2 });
    const [sale, voided] = page.data;
    expect(sale.transactionNo).toBe(57);
    expect(sale.storeName).toBe('Shibuya');
    expect([sale.totalAmount, sale.totalAmountWithTax, sale.depositAmount, sale.changeAmount]).toEqual([
      480, 480, 1000, 520,
    ]);
    expect(sale.lineItems.map((l) => [l.itemName, l.quantity, l.amount])).toEqual([
      ['Green tea 500ml', 2, 300],
      ['Rice ball (salmon)', 1, 180],
    ]);
    expect(sale.payments).toEqual([
      { paymentNo: 1, paymentCode: '01', paymentName: 'Cash', paymentAmount: 480, paymentDetail: null },
    ]);
    expect(sale.taxes.map((t) => [t.taxCode, t.taxType, t.taxAmount, t.targetAmount])).toEqual([
      ['02', 'Internal', 27, 300],
      ['12', 'Internal', 13, 180],
    ]);
    expect(sale.staff).toEqual({ id: 'S001', name: 'Hanako Sato' });
    expect(sale.status).toEqual({ isCancelled: false, isVoided: false, isRefunded: false });
    expect(voided.status.isVoided).toBe(true);
    expect(voided.stampDutyAmount).toBeNull();
    expect(voided.lineItems[0].discounts[0]).toMatchObject({ discountAmount: 30, promotionCode: 'SPRING' });
    expect(voided.payments[0].paymentDetail).toBe('VISA **** 4242');
  });

  it("DeliveryStatusWebRepository: the cart's and the terminal's acknowledgements (snake_case)", async () => {
    const delivery = app.get(DeliveryStatusWebRepository);
    const tranAck: DeliveryAck = await delivery.notifyTranlogDelivery(
      { tenantId: 'T1', storeCode: 'S1', terminalNo: 3, transactionNo: 57 },
      { eventId: '9b2f5c1e-3d4a-4e7b-8c1d-2f3a4b5c6d7e', service: 'report', status: 'received' },
    );
    expect(tranAck).toEqual({
      event_id: '9b2f5c1e-3d4a-4e7b-8c1d-2f3a4b5c6d7e',
      service: 'report',
      status: 'received',
      success: true,
    });
    const terminalAck: DeliveryAck = await delivery.notifyTerminalLogDelivery(
      { terminalId: 'T1-S1-3' },
      { eventId: '0f6c2a9e-5b1d-4c3e-9a7f-8d2e1b4c6a90', service: 'report', status: 'received' },
    );
    expect(terminalAck).toEqual(WIRE.terminalDeliveryStatus.data);
    expect(terminalAck.success).toBe(true);
  });
});
