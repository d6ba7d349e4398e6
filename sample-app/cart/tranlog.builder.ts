import { TerminalContext } from '../../lib';
import { Tranlog } from '../shared/tranlog';
import { Cart } from './cart.store';

/** The sample's one tax: 10 %, included in the prices (the original's "Internal" tax type). */
const TAX_RATE = 0.1;

/**
 * The transaction log of a billed cart, in the original's shape (snake_case, base fields null,
 * `event_id`), as the cart publishes it and keeps it in its own records.
 */
export function buildTranlog(cart: Cart, ctx: TerminalContext, now: Date = new Date()): Tranlog {
  const total = round(cart.lines.reduce((sum, l) => sum + l.unitPrice * l.quantity, 0));
  const taxAmount = Math.floor((total * TAX_RATE) / (1 + TAX_RATE));
  const deposit = round(cart.payments.reduce((sum, p) => sum + p.amount, 0));
  const quantity = cart.lines.reduce((sum, l) => sum + l.quantity, 0);
  const when = localIso(now);
  let remaining = total;
  return {
    shard_key: null,
    created_at: null,
    updated_at: null,
    etag: null,
    tenant_id: cart.tenantId,
    store_code: cart.storeCode,
    store_name: cart.storeCode,
    terminal_no: cart.terminalNo,
    transaction_no: cart.transactionNo!,
    transaction_type: 101,
    business_date: when.slice(0, 10).replace(/-/g, ''),
    open_counter: 1,
    business_counter: 1,
    generate_date_time: when,
    receipt_no: cart.transactionNo!,
    user: { id: String(ctx.terminalId ?? 'terminal'), name: 'Clerk' },
    sales: {
      reference_date_time: when,
      total_amount: total,
      total_amount_with_tax: total,
      tax_amount: taxAmount,
      total_quantity: quantity,
      change_amount: round(Math.max(0, deposit - total)),
      total_discount_amount: 0,
      is_cancelled: false,
      is_stamp_duty_applied: false,
      stamp_duty_target_amount: 0,
      stamp_duty_amount: 0,
    },
    line_items: cart.lines.map((l) => ({
      line_no: l.lineNo,
      item_code: l.itemCode,
      category_code: l.categoryCode,
      description: l.description,
      description_short: l.description.slice(0, 20),
      tax_code: l.taxCode,
      unit_price: l.unitPrice,
      unit_price_original: l.unitPrice,
      is_unit_price_changed: false,
      quantity: l.quantity,
      amount: round(l.unitPrice * l.quantity),
      discounts: [],
      discounts_allocated: [],
      is_cancelled: false,
    })),
    payments: cart.payments.map((p) => {
      const applied = round(Math.min(p.amount, remaining));
      remaining = round(remaining - applied);
      return {
        payment_no: p.paymentNo,
        payment_code: p.paymentCode,
        deposit_amount: p.amount,
        amount: applied,
        description: p.description,
        detail: null,
      };
    }),
    taxes: [
      {
        tax_no: 1,
        tax_code: '01',
        tax_type: 'Internal',
        tax_name: 'VAT10',
        tax_amount: taxAmount,
        target_amount: total,
        target_quantity: quantity,
      },
    ],
    subtotal_discounts: [],
    origin: null,
    staff: { id: 'S01', name: 'Taro' },
    receipt_text: `${cart.storeCode} #${cart.transactionNo} total ${total}`,
    journal_text: `tx ${cart.transactionNo}: ${cart.lines.length} lines, ${total}`,
    additional_info: {},
    is_voided: false,
    is_refunded: false,
    event_id: cart.eventId!,
  };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/** ISO-8601 in local time with its offset (`2026-11-29T10:15:30.123+09:00`), as the original writes it. */
function localIso(d: Date): string {
  const offset = -d.getTimezoneOffset();
  const local = new Date(d.getTime() + offset * 60_000).toISOString().slice(0, -1);
  const sign = offset >= 0 ? '+' : '-';
  const hh = String(Math.floor(Math.abs(offset) / 60)).padStart(2, '0');
  const mm = String(Math.abs(offset) % 60).padStart(2, '0');
  return `${local}${sign}${hh}:${mm}`;
}
