import { ConflictException, Injectable, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { setTimeout as sleep } from 'node:timers/promises';
// In an application: `from 'kugel-comms'`.
import { DaprClientHelper, TerminalContext } from '../../lib';

/** The Dapr state store the Kugelpos cart keeps its carts in. */
export const CARTSTORE = 'cartstore';

export interface CartLine {
  lineNo: number;
  itemCode: string;
  description: string;
  unitPrice: number;
  quantity: number;
  categoryCode: string;
  taxCode: string;
  /** The request that added the line: a retried write finds it already there and adds nothing. */
  requestId: string;
}

export interface CartPayment {
  paymentNo: number;
  paymentCode: string;
  description: string;
  amount: number;
  requestId: string;
}

export interface Cart {
  cartId: string;
  tenantId: string;
  storeCode: string;
  terminalNo: number;
  /** The store's name, from the terminal service when the cart was opened. */
  storeName: string | null;
  /** The terminal's business date when the cart was opened (`YYYYMMDD`): the transaction's. */
  businessDate: string | null;
  /** Who opened the cart, as the request named them (`userId`/`userName`). */
  user: { id: string | null; name: string | null };
  /** When the cart was opened (ISO-8601 with the offset): the transaction's reference time. */
  createdAt: string;
  lines: CartLine[];
  payments: CartPayment[];
  /** What the customer pays: the lines, plus any tax added to the price (external tax codes). */
  total: number;
  status: 'open' | 'billed';
  /** Set when billed: the transaction and the event that carries it. */
  transactionNo?: number;
  eventId?: string;
  /** What became of the first publish of the transaction (the republisher takes over from there). */
  delivery?: { status: 'published' | 'failed'; error?: string };
}

/**
 * Carts in the `cartstore` state store, written with optimistic concurrency: each change reads the
 * cart and its ETag, applies the change, and saves it only if the ETag still matches
 * (`first-write`). A conflict (another request changed the cart in between) is tried again, with a
 * short random pause, up to `SAMPLE_CART_UPDATE_ATTEMPTS` times (10); then the request gets 409 and
 * nothing of it is in the cart. Before this, two requests adding an item at the same time could
 * both read the same cart and the second save would drop the first one's line: 400 concurrent
 * "add one item" requests, all answered 2xx, left 55 items.
 *
 * A change must be idempotent per request (`requestId`): a save that committed but whose answer
 * was lost (a timeout) is retried, meets a changed ETag, and the re-read cart already holds it.
 */
@Injectable()
export class CartStore {
  private readonly attempts: number;

  constructor(
    private readonly dapr: DaprClientHelper,
    config: ConfigService,
  ) {
    this.attempts = Number(config.get<string>('SAMPLE_CART_UPDATE_ATTEMPTS') ?? 10);
  }

  /** Saves a new cart (first-write: a cart id is never reused). */
  async create(cart: Cart): Promise<void> {
    const saved = await this.dapr.detailed.saveState(CARTSTORE, cart.cartId, cart, { concurrency: 'first-write' });
    if (!saved.ok) throw new ServiceUnavailableException(`cart store unavailable: ${saved.error}`);
  }

  /** The cart of the context's tenant and store, with its ETag. */
  async read(ctx: TerminalContext, cartId: string): Promise<{ cart: Cart; etag?: string }> {
    const read = await this.dapr.detailed.getState<Cart>(CARTSTORE, cartId);
    // "No such cart" and "the store could not be read" are different answers.
    if (!read.ok) {
      if (read.code === 'ERR_BAD_REQUEST_INPUT') throw new NotFoundException(`cart ${cartId} not found`);
      throw new ServiceUnavailableException(`cart store unavailable: ${read.error}`);
    }
    const cart = read.value;
    if (!cart || cart.tenantId !== ctx.tenantId || cart.storeCode !== ctx.storeCode) {
      throw new NotFoundException(`cart ${cartId} not found`);
    }
    return { cart: inOrder(cart), etag: read.etag };
  }

  /**
   * Reads the cart, lets `change` modify it (it may throw an HTTP exception: nothing is saved), and
   * saves it if nobody changed it meanwhile; tries again on a conflict. Resolves to the saved cart.
   */
  async update(ctx: TerminalContext, cartId: string, change: (cart: Cart) => void): Promise<Cart> {
    for (let attempt = 1; attempt <= this.attempts; attempt += 1) {
      const { cart, etag } = await this.read(ctx, cartId);
      change(cart);
      const saved = await this.dapr.detailed.saveState(CARTSTORE, cartId, cart, { etag, concurrency: 'first-write' });
      if (saved.ok) return cart;
      if (saved.status !== 409) throw new ServiceUnavailableException(`cart store unavailable: ${saved.error}`);
      await sleep(Math.floor(Math.random() * 10 * attempt));
    }
    throw new ConflictException(
      `cart ${cartId} was changed by other requests ${this.attempts} times while this one tried to apply its change; nothing of it was applied, try again`,
    );
  }

  /**
   * The next number of a counter kept in the cart store (a terminal's transaction numbers), the
   * same way. The first number inserts the key under first-write without an ETag: a concurrent
   * insert is a 409 on state.in-memory but a 500 on state.redis, so after a failed insert the key
   * is read again, and one that exists now means the other insert won (try again).
   */
  async next(counter: string): Promise<number> {
    for (let attempt = 1; attempt <= this.attempts; attempt += 1) {
      const read = await this.dapr.detailed.getState<{ value: number }>(CARTSTORE, counter);
      if (!read.ok) throw new ServiceUnavailableException(`cart store unavailable: ${read.error}`);
      const insert = read.value === null;
      const value = (read.value?.value ?? 0) + 1;
      const saved = await this.dapr.detailed.saveState(
        CARTSTORE,
        counter,
        { value },
        insert ? { concurrency: 'first-write' } : { etag: read.etag, concurrency: 'first-write' },
      );
      if (saved.ok) return value;
      const lostRace = saved.status === 409 || (insert && saved.status !== undefined && (await this.exists(counter)));
      if (!lostRace) throw new ServiceUnavailableException(`cart store unavailable: ${saved.error}`);
      await sleep(Math.floor(Math.random() * 10 * attempt));
    }
    throw new ConflictException(`counter ${counter} is too busy; try again`);
  }

  private async exists(key: string): Promise<boolean> {
    const read = await this.dapr.detailed.getState(CARTSTORE, key);
    return read.ok && read.value !== null;
  }
}

/**
 * The cart with its fields in the order the type declares them: state.redis hands a stored JSON
 * object back with its keys in another order, which makes the answers hard to read.
 */
function inOrder(c: Cart): Cart {
  return {
    cartId: c.cartId,
    tenantId: c.tenantId,
    storeCode: c.storeCode,
    terminalNo: c.terminalNo,
    storeName: c.storeName,
    businessDate: c.businessDate,
    user: { id: c.user?.id ?? null, name: c.user?.name ?? null },
    createdAt: c.createdAt,
    status: c.status,
    total: c.total,
    lines: c.lines.map((l) => ({
      lineNo: l.lineNo,
      itemCode: l.itemCode,
      description: l.description,
      unitPrice: l.unitPrice,
      quantity: l.quantity,
      categoryCode: l.categoryCode,
      taxCode: l.taxCode,
      requestId: l.requestId,
    })),
    payments: c.payments.map((p) => ({
      paymentNo: p.paymentNo,
      paymentCode: p.paymentCode,
      description: p.description,
      amount: p.amount,
      requestId: p.requestId,
    })),
    ...(c.transactionNo !== undefined ? { transactionNo: c.transactionNo } : {}),
    ...(c.eventId !== undefined ? { eventId: c.eventId } : {}),
  };
}
