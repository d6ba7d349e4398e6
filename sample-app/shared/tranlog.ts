/**
 * The transaction log as the Kugelpos cart publishes it: its `BaseTransaction` document dumped by
 * field name (snake_case), the stored-document fields `null` for a new log, plus `event_id`.
 * Shared by the cart (publisher) and the report (consumer) of the sample.
 */

/** The pub/sub component and topic the Kugelpos cart publishes transaction logs to. */
export const TRANLOG_PUBSUB = 'pubsub-tranlog-report';
export const TRANLOG_TOPIC = 'topic-tranlog';
/** Where the report sends what it cannot report (a log without tenant, store or event id). */
export const TRANLOG_DLQ = `${TRANLOG_TOPIC}-dlq`;

/** A discount on a line (`discounts`, `discounts_allocated`) or on the subtotal. */
export interface TranlogDiscount {
  seq_no: number | null;
  discount_type: string | null;
  discount_value: number | null;
  discount_amount: number | null;
  detail: string | null;
  promotion_code: string | null;
  promotion_type: string | null;
}

export interface TranlogLineItem {
  line_no: number;
  item_code: string;
  category_code: string | null;
  description: string;
  description_short: string | null;
  unit_price: number;
  unit_price_original: number;
  is_unit_price_changed: boolean;
  quantity: number;
  discounts: TranlogDiscount[];
  discounts_allocated: TranlogDiscount[];
  amount: number;
  tax_code: string;
  is_cancelled: boolean;
}

export interface TranlogPayment {
  payment_no: number;
  payment_code: string;
  /** What was tendered. */
  deposit_amount: number;
  /** What was applied to the transaction. */
  amount: number;
  description: string;
  detail: string | null;
}

export interface TranlogTax {
  tax_no: number;
  tax_code: string;
  /** `External`, `Internal` or `Exempt`. */
  tax_type: string;
  tax_name: string;
  tax_amount: number;
  target_amount: number;
  target_quantity: number;
}

/** The transaction a return or a void refers to. */
export interface TranlogOrigin {
  generate_date_time: string | null;
  tenant_id: string | null;
  store_code: string | null;
  store_name: string | null;
  terminal_no: number | null;
  transaction_no: number | null;
  transaction_type: number | null;
  receipt_no: number | null;
}

/** What the cart adds from its settings; each key only when the setting has a value. */
export interface TranlogAdditionalInfo {
  /** From the setting `INVOICE_REGISTRATION_NUMBER`: the store's qualified-invoice registration number. */
  invoice_registration_number?: string;
  receipt_headers?: Array<{ text: string; align: string }>;
  receipt_footers?: Array<{ text: string; align: string }>;
}

/**
 * The message on `topic-tranlog`: the Kugelpos cart's `BaseTransaction` dumped by field name, plus
 * `event_id`. Every key is always there (`null` when unset).
 */
export interface Tranlog {
  /** The four stored-document fields: `null` for a new log. */
  shard_key: string | null;
  created_at: string | null;
  updated_at: string | null;
  etag: string | null;
  tenant_id: string;
  store_code: string;
  /** The store's name, from the terminal service's store record. */
  store_name: string | null;
  terminal_no: number;
  transaction_no: number;
  transaction_type: number;
  /** The terminal's business date when the cart was opened, `YYYYMMDD`. */
  business_date: string | null;
  /** The terminal's counters when the transaction was made. */
  open_counter: number;
  business_counter: number;
  generate_date_time: string;
  receipt_no: number;
  /** Who opened the cart, as the cart's creation request named them (`null`s when it did not). */
  user: { id: string | null; name: string | null };
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
  /** One per tax code of the lines, numbered in the order the codes first appear. */
  taxes: TranlogTax[];
  subtotal_discounts: TranlogDiscount[];
  origin: TranlogOrigin | null;
  /** The staff member signed in at the terminal. */
  staff: { id: string; name: string };
  receipt_text: string;
  journal_text: string;
  additional_info: TranlogAdditionalInfo;
  is_voided: boolean;
  is_refunded: boolean;
  /** The cart's own id of this event (UUID v4): the consumers de-duplicate on it. */
  event_id: string;
}
