/**
 * The transaction log as the original cart publishes it (`reference/kugelpos-events.md` §1.2):
 * the document dumped by field name (snake_case), base fields null for a new log, plus `event_id`.
 * Shared by the cart (publisher) and the report (consumer) of the sample.
 */

/** The pub/sub component and topic the original cart publishes transaction logs to. */
export const TRANLOG_PUBSUB = 'pubsub-tranlog-report';
export const TRANLOG_TOPIC = 'topic-tranlog';
/** Where the report sends what it cannot report (a log without tenant, store or event id). */
export const TRANLOG_DLQ = `${TRANLOG_TOPIC}-dlq`;

export interface TranlogLineItem {
  line_no: number;
  item_code: string;
  category_code: string;
  description: string;
  description_short: string;
  tax_code: string;
  unit_price: number;
  unit_price_original: number;
  is_unit_price_changed: boolean;
  quantity: number;
  amount: number;
  discounts: unknown[];
  discounts_allocated: unknown[];
  is_cancelled: boolean;
}

export interface TranlogPayment {
  payment_no: number;
  payment_code: string;
  deposit_amount: number;
  amount: number;
  description: string;
  detail: string | null;
}

export interface TranlogTax {
  tax_no: number;
  tax_code: string;
  tax_type: 'External' | 'Internal' | 'Exempt';
  tax_name: string;
  tax_amount: number;
  target_amount: number;
  target_quantity: number;
}

export interface Tranlog {
  shard_key: null;
  created_at: null;
  updated_at: null;
  etag: null;
  tenant_id: string;
  store_code: string;
  store_name: string;
  terminal_no: number;
  transaction_no: number;
  transaction_type: number;
  business_date: string;
  open_counter: number;
  business_counter: number;
  generate_date_time: string;
  receipt_no: number;
  user: { id: string; name: string };
  sales: {
    reference_date_time: string;
    total_amount: number;
    total_amount_with_tax: number;
    tax_amount: number;
    total_quantity: number;
    change_amount: number;
    total_discount_amount: number;
    is_cancelled: boolean;
    is_stamp_duty_applied: boolean;
    stamp_duty_target_amount: number;
    stamp_duty_amount: number;
  };
  line_items: TranlogLineItem[];
  payments: TranlogPayment[];
  taxes: TranlogTax[];
  subtotal_discounts: unknown[];
  origin: null;
  staff: { id: string; name: string };
  receipt_text: string;
  journal_text: string;
  additional_info: Record<string, unknown>;
  is_voided: boolean;
  is_refunded: boolean;
  /** The cart's own id of this event (UUID v4): the consumers de-duplicate on it. */
  event_id: string;
}

/** `snake_case` keys to `camelCase`, deeply: the original's REST bodies are camelCase, its events snake_case. */
export function camelCased(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camelCased);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase()),
      camelCased(v),
    ]),
  );
}
