import {
  BadGatewayException,
  Injectable,
  Logger,
  NotFoundException,
  UnprocessableEntityException,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
// In an application: `from 'kugel-comms'` and `from 'kugel-comms/kugelpos'`.
import {
  isNotFoundError,
  ItemMasterWebRepository,
  PaymentMasterWebRepository,
  PubsubManager,
  SettingsMasterWebRepository,
  StoreInfoWebRepository,
  TerminalContext,
  TerminalInfoWebRepository,
} from '../../lib';
import { TerminalInfoDocument } from '../../lib/kugelpos';
import { TRANLOG_PUBSUB, TRANLOG_TOPIC } from '../shared/tranlog';
import { Cart, CartLine, CartStore } from './cart.store';
import { externalTax, TAX_MASTER, taxLines } from './tax-master';
import { buildTranlog, localIso } from './tranlog.builder';
import { TranlogOutbox } from './tranlog.outbox';

/**
 * The cart on top of kugel-comms: the terminal and its store from the terminal service, item,
 * payment and setting lookups in master-data, all through the repositories; carts in the
 * `cartstore` state store with optimistic concurrency (`CartStore`); and on billing the Kugelpos
 * delivery loop: the transaction log is recorded with its delivery status (`TranlogOutbox`), published
 * under its own event id, and left to the republisher until every consumer has called back
 * `received`.
 */
@Injectable()
export class CartService {
  private readonly logger = new Logger(CartService.name);

  constructor(
    private readonly items: ItemMasterWebRepository,
    private readonly payments: PaymentMasterWebRepository,
    private readonly settings: SettingsMasterWebRepository,
    private readonly terminals: TerminalInfoWebRepository,
    private readonly stores: StoreInfoWebRepository,
    private readonly pubsub: PubsubManager,
    private readonly store: CartStore,
    private readonly outbox: TranlogOutbox,
  ) {}

  /**
   * Opens a cart, as the Kugelpos cart does: only on an opened terminal with a staff member signed in; the
   * store's name and the terminal's business date are the transaction's from here on. `user` is
   * whoever the request names (`userId`/`userName`, both optional).
   */
  async create(ctx: TerminalContext, user: { id?: string; name?: string } = {}): Promise<Cart> {
    const terminal = await this.openedTerminal(ctx);
    const store = await this.lookup(() => this.stores.getStoreInfo(ctx), `store ${ctx.storeCode}`);
    const cart: Cart = {
      cartId: randomUUID(),
      tenantId: ctx.tenantId,
      storeCode: ctx.storeCode,
      terminalNo: Number(ctx.terminalNo),
      storeName: store.storeName,
      businessDate: terminal.businessDate,
      user: { id: user.id ?? null, name: user.name ?? null },
      createdAt: localIso(new Date()),
      status: 'open',
      total: 0,
      lines: [],
      payments: [],
    };
    await this.store.create(cart);
    return cart;
  }

  async get(ctx: TerminalContext, cartId: string): Promise<Cart> {
    return (await this.store.read(ctx, cartId)).cart;
  }

  async addItem(ctx: TerminalContext, cartId: string, itemCode: string, quantity: number): Promise<Cart> {
    await this.store.read(ctx, cartId); // 404 before asking master-data about the item
    const item = await this.lookup(() => this.items.getItemByCode(ctx, itemCode), `item ${itemCode}`);
    if (!TAX_MASTER[item.taxCode]) {
      throw new UnprocessableEntityException(
        `item ${itemCode} has tax code ${item.taxCode}, which the tax master lacks`,
      );
    }
    const requestId = randomUUID();
    return this.store.update(ctx, cartId, (cart) => {
      open(cart);
      if (cart.lines.some((l) => l.requestId === requestId)) return; // a retried write that had committed
      cart.lines.push({
        lineNo: cart.lines.length + 1,
        itemCode,
        description: item.description,
        unitPrice: item.storePrice ?? item.unitPrice,
        quantity,
        categoryCode: item.categoryCode,
        taxCode: item.taxCode,
        requestId,
      });
      cart.total = totalOf(cart.lines);
    });
  }

  async addPayment(ctx: TerminalContext, cartId: string, paymentCode: string, amount: number): Promise<Cart> {
    await this.store.read(ctx, cartId);
    const payment = await this.lookup(() => this.payments.getPaymentByCode(ctx, paymentCode), `payment ${paymentCode}`);
    const requestId = randomUUID();
    return this.store.update(ctx, cartId, (cart) => {
      open(cart);
      if (cart.payments.some((p) => p.requestId === requestId)) return;
      cart.payments.push({
        paymentNo: cart.payments.length + 1,
        paymentCode,
        description: payment.description,
        amount,
        requestId,
      });
    });
  }

  /**
   * Bills the cart: reads the terminal (its counters and signed-in staff go into the transaction
   * log) and the invoice registration number, takes the terminal's next transaction number,
   * commits the cart as billed, then records the transaction log with its delivery status and
   * publishes it under its `event_id`. A failed publish is recorded (`failed`), never lost: the
   * republisher takes it from there.
   */
  async bill(ctx: TerminalContext, cartId: string): Promise<Cart> {
    ready(await this.get(ctx, cartId));
    const terminal = await this.openedTerminal(ctx);
    const invoice = await this.lookup(
      () => this.settings.getSettingValueByName(ctx, 'INVOICE_REGISTRATION_NUMBER'),
      'setting INVOICE_REGISTRATION_NUMBER',
    );
    const transactionNo = await this.store.next(`transaction-no-${ctx.tenantId}-${ctx.storeCode}-${ctx.terminalNo}`);
    const eventId = randomUUID();
    const cart = await this.store.update(ctx, cartId, (c) => {
      ready(c);
      c.status = 'billed';
      c.transactionNo = transactionNo;
      c.eventId = eventId;
    });
    const tranlog = buildTranlog(cart, { terminal, invoiceRegistrationNumber: invoice?.value ?? null });
    this.outbox.record(tranlog);
    const sent = await this.pubsub.publishMessage(TRANLOG_PUBSUB, TRANLOG_TOPIC, tranlog, { eventId });
    const event = { eventId, pubsub: TRANLOG_PUBSUB, topic: TRANLOG_TOPIC, data: tranlog, createdAt: Date.now() };
    if (sent.ok) await this.outbox.markPublished(event);
    else {
      await this.outbox.markFailed(event, sent.error);
      this.logger.warn(
        `transaction ${transactionNo} (event ${eventId}) not published yet: ${sent.error}; the republisher will`,
      );
    }
    return { ...cart, delivery: sent.ok ? { status: 'published' } : { status: 'failed', error: sent.error } };
  }

  /** The context's terminal, refused (422) unless it is opened with a staff member signed in. */
  private async openedTerminal(ctx: TerminalContext): Promise<TerminalInfoDocument> {
    const terminal = await this.lookup(
      () => this.terminals.getTerminalInfo(ctx, ctx.terminalNo!),
      `terminal ${ctx.terminalId ?? ctx.terminalNo}`,
    );
    if (terminal.status !== 'Opened') {
      throw new UnprocessableEntityException(`terminal ${terminal.terminalId} is not opened (${terminal.status})`);
    }
    if (!terminal.staff) throw new UnprocessableEntityException(`terminal ${terminal.terminalId} has nobody signed in`);
    return terminal;
  }

  /** Repository errors as HTTP answers: 404 stays 404, anything else is a bad gateway. */
  private async lookup<T>(call: () => Promise<T>, what: string): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (isNotFoundError(error)) throw new NotFoundException(`${what} not found`);
      throw new BadGatewayException(`${what}: ${(error as Error).message}`);
    }
  }
}

/** What the customer pays for `lines`: their amounts plus the tax added to the price. */
function totalOf(lines: readonly CartLine[]): number {
  const amounts = lines.map((l) => ({ taxCode: l.taxCode, amount: l.unitPrice * l.quantity, quantity: l.quantity }));
  const subtotal = amounts.reduce((sum, l) => sum + l.amount, 0);
  return Math.round((subtotal + externalTax(taxLines(amounts))) * 100) / 100;
}

function open(cart: Cart): void {
  if (cart.status !== 'open') throw new UnprocessableEntityException(`cart ${cart.cartId} is already billed`);
}

/** Open, with items, and paid for. */
function ready(cart: Cart): void {
  open(cart);
  if (cart.lines.length === 0) throw new UnprocessableEntityException(`cart ${cart.cartId} has no items`);
  const paid = cart.payments.reduce((sum, p) => sum + p.amount, 0);
  if (paid < cart.total) {
    throw new UnprocessableEntityException(`cart ${cart.cartId} is not paid for: ${paid} of ${cart.total}`);
  }
}
