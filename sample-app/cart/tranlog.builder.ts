// In an application: `from 'kugel-comms/kugelpos'`.
import { TerminalInfoDocument } from '../../lib/kugelpos';
import { Tranlog } from '../shared/tranlog';
import { Cart } from './cart.store';
import { externalTax, taxLines } from './tax-master';

/** What the cart read besides the cart itself when it billed. */
export interface TranlogSources {
  /** The terminal as the terminal service answered at billing: its counters and signed-in staff. */
  terminal: TerminalInfoDocument;
  /** The setting `INVOICE_REGISTRATION_NUMBER` for the terminal, `null` when master-data has none. */
  invoiceRegistrationNumber: string | null;
  now?: Date;
}

/**
 * The transaction log of a billed cart, as the Kugelpos cart writes it (snake_case, the
 * stored-document fields `null`, `event_id`), from what the cart knows:
 * - store name, business date and user: fixed when the cart was opened (the store's record, the
 *   terminal's business date, the creation request);
 * - open and business counters and staff: the terminal's, at billing (the report and the journal
 *   look transactions up by business date and open counter);
 * - one tax line per tax code of the lines; `sales.tax_amount` is the tax added to the price only
 *   (external codes), as the Kugelpos cart counts it;
 * - `additional_info.invoice_registration_number` from the setting, when master-data has one.
 */
export function buildTranlog(cart: Cart, sources: TranlogSources): Tranlog {
  const { terminal } = sources;
  if (!terminal.staff) throw new Error(`terminal ${terminal.terminalId} has nobody signed in`);
  const lines = cart.lines.map((l) => ({ ...l, amount: round(l.unitPrice * l.quantity) }));
  const subtotal = round(lines.reduce((sum, l) => sum + l.amount, 0));
  const taxes = taxLines(lines);
  const added = externalTax(taxes);
  const total = round(subtotal + added);
  const deposit = round(cart.payments.reduce((sum, p) => sum + p.amount, 0));
  const quantity = lines.reduce((sum, l) => sum + l.quantity, 0);
  const when = localIso(sources.now ?? new Date());
  let remaining = total;
  return {
    shard_key: null,
    created_at: null,
    updated_at: null,
    etag: null,
    tenant_id: cart.tenantId,
    store_code: cart.storeCode,
    store_name: cart.storeName,
    terminal_no: cart.terminalNo,
    transaction_no: cart.transactionNo!,
    transaction_type: 101,
    business_date: cart.businessDate,
    open_counter: terminal.openCounter,
    business_counter: terminal.businessCounter,
    generate_date_time: when,
    receipt_no: cart.transactionNo!,
    user: { id: cart.user.id, name: cart.user.name },
    sales: {
      reference_date_time: cart.createdAt,
      total_amount: subtotal,
      total_amount_with_tax: total,
      tax_amount: added,
      total_quantity: quantity,
      change_amount: round(Math.max(0, deposit - total)),
      total_discount_amount: 0,
      is_cancelled: false,
      is_stamp_duty_applied: false,
      stamp_duty_target_amount: 0,
      stamp_duty_amount: 0,
    },
    line_items: lines.map((l) => ({
      line_no: l.lineNo,
      item_code: l.itemCode,
      category_code: l.categoryCode || null,
      description: l.description,
      description_short: null,
      unit_price: l.unitPrice,
      unit_price_original: l.unitPrice,
      is_unit_price_changed: false,
      quantity: l.quantity,
      discounts: [],
      discounts_allocated: [],
      amount: l.amount,
      tax_code: l.taxCode,
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
    taxes,
    subtotal_discounts: [],
    origin: null,
    staff: { id: terminal.staff.staffId, name: terminal.staff.staffName },
    receipt_text: `${cart.storeName ?? cart.storeCode} #${cart.transactionNo} total ${total}`,
    journal_text: `tx ${cart.transactionNo}: ${cart.lines.length} lines, ${total}`,
    additional_info:
      sources.invoiceRegistrationNumber !== null
        ? { invoice_registration_number: sources.invoiceRegistrationNumber }
        : {},
    is_voided: false,
    is_refunded: false,
    event_id: cart.eventId!,
  };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/** ISO-8601 in local time with its offset (`2026-11-29T10:15:30.123+09:00`), as the Kugelpos cart writes it. */
export function localIso(d: Date): string {
  const offset = -d.getTimezoneOffset();
  const local = new Date(d.getTime() + offset * 60_000).toISOString().slice(0, -1);
  const sign = offset >= 0 ? '+' : '-';
  const hh = String(Math.floor(Math.abs(offset) / 60)).padStart(2, '0');
  const mm = String(Math.abs(offset) % 60).padStart(2, '0');
  return `${local}${sign}${hh}:${mm}`;
}
