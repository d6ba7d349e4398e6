import {
  BadGatewayException,
  Injectable,
  Logger,
  NotFoundException,
  UnprocessableEntityException,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
// In an application: `from 'kugel-comms'`.
import {
  isNotFoundError,
  ItemMasterWebRepository,
  PaymentMasterWebRepository,
  PubsubManager,
  TerminalContext,
} from '../../lib';
import { TRANLOG_PUBSUB, TRANLOG_TOPIC } from '../shared/tranlog';
import { Cart, CartStore } from './cart.store';
import { buildTranlog } from './tranlog.builder';
import { TranlogOutbox } from './tranlog.outbox';

/**
 * The cart on top of kugel-comms: item and payment lookups in master-data through the
 * repositories, carts in the `cartstore` state store with optimistic concurrency (`CartStore`),
 * and on billing the original's loop: the transaction log is recorded with its delivery status
 * (`TranlogOutbox`), published under its own event id, and left to the republisher until every
 * consumer has called back `received`.
 */
@Injectable()
export class CartService {
  private readonly logger = new Logger(CartService.name);

  constructor(
    private readonly items: ItemMasterWebRepository,
    private readonly payments: PaymentMasterWebRepository,
    private readonly pubsub: PubsubManager,
    private readonly store: CartStore,
    private readonly outbox: TranlogOutbox,
  ) {}

  async create(ctx: TerminalContext): Promise<Cart> {
    const cart: Cart = {
      cartId: randomUUID(),
      tenantId: ctx.tenantId,
      storeCode: ctx.storeCode,
      terminalNo: Number(ctx.terminalNo),
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
    const requestId = randomUUID();
    return this.store.update(ctx, cartId, (cart) => {
      open(cart);
      if (cart.lines.some((l) => l.requestId === requestId)) return; // a retried write that had committed
      cart.lines.push({
        lineNo: cart.lines.length + 1,
        itemCode,
        description: item.description ?? itemCode,
        unitPrice: item.unitPrice ?? 0,
        quantity,
        categoryCode: String(item.categoryCode ?? ''),
        taxCode: String(item.taxCode ?? ''),
        requestId,
      });
      cart.total = cart.lines.reduce((sum, l) => sum + l.unitPrice * l.quantity, 0);
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
        description: payment.description ?? paymentCode,
        amount,
        requestId,
      });
    });
  }

  /**
   * Bills the cart: takes the terminal's next transaction number, commits the cart as billed, then
   * records the transaction log with its delivery status and publishes it under its `event_id`.
   * A failed publish is recorded (`failed`), never lost: the republisher takes it from there.
   */
  async bill(ctx: TerminalContext, cartId: string): Promise<Cart> {
    ready(await this.get(ctx, cartId));
    const transactionNo = await this.store.next(`transaction-no-${ctx.tenantId}-${ctx.storeCode}-${ctx.terminalNo}`);
    const eventId = randomUUID();
    const cart = await this.store.update(ctx, cartId, (c) => {
      ready(c);
      c.status = 'billed';
      c.transactionNo = transactionNo;
      c.eventId = eventId;
    });
    const tranlog = buildTranlog(cart, ctx);
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
