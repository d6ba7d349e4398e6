import {
  BadGatewayException,
  Injectable,
  NotFoundException,
  ServiceUnavailableException,
  UnprocessableEntityException,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
// In an application: `from 'kugel-comms'`.
import {
  isNotFoundError,
  ItemMasterWebRepository,
  PaymentMasterWebRepository,
  PubsubManager,
  StateStoreManager,
  TerminalContext,
  TranlogWebRepository,
  TransactionDocument,
  PaginatedResult,
} from '../../lib';

export interface CartLine {
  itemCode: string;
  description: string;
  unitPrice: number;
  quantity: number;
}

export interface Cart {
  cartId: string;
  tenantId: string;
  storeCode: string;
  terminalNo: number;
  lines: CartLine[];
  payments: Array<{ paymentCode: string; description: string; amount: number }>;
  total: number;
  status: 'open' | 'billed';
  /** Delivery status of the transaction event: the cart keeps its own record, so nothing is lost. */
  delivery?: { status: 'published' | 'failed'; error?: string; at: string };
}

/** The pub/sub component and topic the original cart publishes transaction logs to. */
export const TRANLOG_PUBSUB = process.env.SAMPLE_PUBSUB ?? 'pubsub';
export const TRANLOG_TOPIC = 'topic-tranlog';

/**
 * A small cart on top of kugel-comms: item and payment lookups in master-data through the
 * repositories, the cart kept in the Dapr state store, the transaction published on billing, and
 * the terminal's transaction list read from the cart service.
 */
@Injectable()
export class CartService {
  constructor(
    private readonly items: ItemMasterWebRepository,
    private readonly payments: PaymentMasterWebRepository,
    private readonly tranlogs: TranlogWebRepository,
    private readonly pubsub: PubsubManager,
    private readonly state: StateStoreManager,
  ) {}

  async create(ctx: TerminalContext): Promise<Cart> {
    const cart: Cart = {
      cartId: randomUUID(),
      tenantId: ctx.tenantId,
      storeCode: ctx.storeCode,
      terminalNo: Number(ctx.terminalNo),
      lines: [],
      payments: [],
      total: 0,
      status: 'open',
    };
    await this.save(cart);
    return cart;
  }

  async get(ctx: TerminalContext, cartId: string): Promise<Cart> {
    const read = await this.state.getState<Cart>(`cart-${cartId}`);
    // "No such cart" and "the store could not be read" are different answers.
    if (!read.ok) throw new ServiceUnavailableException(`cart store unavailable: ${read.error}`);
    if (!read.found || read.data.tenantId !== ctx.tenantId || read.data.storeCode !== ctx.storeCode) {
      throw new NotFoundException(`cart ${cartId} not found`);
    }
    return read.data;
  }

  async addItem(ctx: TerminalContext, cartId: string, itemCode: string, quantity: number): Promise<Cart> {
    const cart = await this.open(ctx, cartId);
    const item = await this.lookup(() => this.items.getItemByCode(ctx, itemCode), `item ${itemCode}`);
    cart.lines.push({ itemCode, description: item.description ?? itemCode, unitPrice: item.unitPrice ?? 0, quantity });
    cart.total = cart.lines.reduce((sum, l) => sum + l.unitPrice * l.quantity, 0);
    await this.save(cart);
    return cart;
  }

  async addPayment(ctx: TerminalContext, cartId: string, paymentCode: string, amount: number): Promise<Cart> {
    const cart = await this.open(ctx, cartId);
    const payment = await this.lookup(() => this.payments.getPaymentByCode(ctx, paymentCode), `payment ${paymentCode}`);
    cart.payments.push({ paymentCode, description: payment.description ?? paymentCode, amount });
    await this.save(cart);
    return cart;
  }

  /** Closes the cart and publishes its transaction; a failed publish is recorded, not lost. */
  async bill(ctx: TerminalContext, cartId: string): Promise<Cart> {
    const cart = await this.open(ctx, cartId);
    cart.status = 'billed';
    await this.save(cart);
    const result = await this.pubsub.publishMessage(TRANLOG_PUBSUB, TRANLOG_TOPIC, {
      eventId: cart.cartId,
      tenantId: cart.tenantId,
      storeCode: cart.storeCode,
      terminalNo: cart.terminalNo,
      totalAmount: cart.total,
      lineItems: cart.lines,
      payments: cart.payments,
    });
    cart.delivery = result.ok
      ? { status: 'published', at: new Date().toISOString() }
      : { status: 'failed', error: result.error, at: new Date().toISOString() };
    // Best effort: when the store is down too, the answer still says what happened.
    await this.state.saveState(`cart-${cart.cartId}`, cart);
    return cart;
  }

  transactions(
    ctx: TerminalContext,
    businessDate: string,
    openCounter: number,
  ): Promise<PaginatedResult<TransactionDocument>> {
    return this.lookup(
      () => this.tranlogs.getTranlogList(ctx, { businessDate, openCounter, limit: 100, page: 1 }),
      'transactions',
    );
  }

  private async open(ctx: TerminalContext, cartId: string): Promise<Cart> {
    const cart = await this.get(ctx, cartId);
    if (cart.status !== 'open') throw new UnprocessableEntityException(`cart ${cartId} is already billed`);
    return cart;
  }

  private async save(cart: Cart): Promise<void> {
    const saved = await this.state.saveState(`cart-${cart.cartId}`, cart);
    if (!saved.ok) throw new ServiceUnavailableException(`cart store unavailable: ${saved.error}`);
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
